/* Misuse of the C API returns CHAT_E_MISUSE (or a harmless default) instead of
 * crashing: NULL handles, destroyed handles, bad option structs, NULL
 * out-pointers, wrong-kind accessors. Also checks the status helpers and that
 * chat_status numbers are chatsdk::Errc's. Plain C99; no server needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatsdk/chatsdk.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static chat_client* make_client(void) {
  chat_client_options o;
  chat_client* c = NULL;
  chat_client_options_init(&o);
  o.server_url = "ws://127.0.0.1:9/ws"; /* never connected in this test */
  o.database_path = ":memory:";
  o.token = "not-a-real-token";
  if (chat_client_create(&o, &c) != CHAT_OK) {
    fprintf(stderr, "create failed: %s\n", chat_client_errmsg(NULL));
    return NULL;
  }
  return c;
}

static void test_null_handles(void) {
  const chat_event* ev = (const chat_event*)1;
  char* s = (char*)1;
  chat_list* l = (chat_list*)1;
  int64_t op = 7;
  CHECK(chat_client_poll(NULL, 0) == CHAT_E_MISUSE);
  CHECK(chat_client_connect(NULL) == CHAT_E_MISUSE);
  CHECK(chat_client_wakeup(NULL) == CHAT_E_MISUSE);
  CHECK(chat_client_next_event(NULL, &ev) == CHAT_E_MISUSE);
  CHECK(ev == NULL);
  CHECK(chat_client_send_text(NULL, "general", "hi", NULL, 1, &op) == CHAT_E_MISUSE);
  CHECK(op == 0);
  CHECK(chat_client_user_id(NULL, &s) == CHAT_E_MISUSE);
  CHECK(s == NULL);
  CHECK(chat_client_channels(NULL, &l) == CHAT_E_MISUSE);
  CHECK(chat_client_update_channel(NULL, "general", "n", -1, NULL, 0, &op) == CHAT_E_MISUSE);
  CHECK(chat_client_set_role(NULL, "general", "bob", CHAT_ROLE_MODERATOR, 0, &op) ==
        CHAT_E_MISUSE);
  CHECK(chat_client_list_members(NULL, "general", NULL, 0, 0) == CHAT_E_MISUSE);
  CHECK(chat_event_members_more(NULL) == 0);
  CHECK(chat_event_members_next_after(NULL) == NULL);
  CHECK(l == NULL);
  CHECK(chat_client_state(NULL) == CHAT_CONN_DISCONNECTED);
  CHECK(strlen(chat_client_errmsg(NULL)) > 0); /* the detail of the last misuse */
  chat_client_destroy(NULL);                   /* no-op */
  chat_list_destroy(NULL);
  chat_free(NULL);
  /* accessors on NULL views answer defaults */
  CHECK(chat_event_type(NULL) == CHAT_EVENT_NONE);
  CHECK(chat_event_channel(NULL) == NULL);
  CHECK(chat_event_diff_count(NULL) == 0);
  CHECK(chat_message_body(NULL) == NULL);
  CHECK(chat_channel_unread(NULL) == 0);
  CHECK(chat_op_id(NULL) == 0);
  CHECK(chat_list_count(NULL) == 0);
  CHECK(chat_event_to_json(NULL, &s) == CHAT_E_MISUSE);
  CHECK(s == NULL);
}

static void test_options(void) {
  chat_client_options o;
  chat_client* c = (chat_client*)1;
  CHECK(chat_client_options_init(NULL) == CHAT_E_MISUSE);
  CHECK(chat_client_create(NULL, &c) == CHAT_E_MISUSE);
  CHECK(c == NULL);
  chat_client_options_init(&o);
  CHECK(o.struct_size == sizeof(chat_client_options));
  CHECK(o.history_page > 0);
  CHECK(chat_client_create(&o, NULL) == CHAT_E_MISUSE);
  o.struct_size = 8; /* an options struct never passed through _init */
  o.server_url = "ws://127.0.0.1:9/ws";
  o.database_path = ":memory:";
  CHECK(chat_client_create(&o, &c) == CHAT_E_MISUSE);
  CHECK(c == NULL);
  CHECK(strstr(chat_client_errmsg(NULL), "struct_size") != NULL);
  chat_client_options_init(&o);
  o.server_url = "http://nope";
  o.database_path = ":memory:";
  CHECK(chat_client_create(&o, &c) == CHAT_E_INVALID_ARGUMENT);
  CHECK(c == NULL);
  chat_client_options_init(&o);
  o.server_url = "ws://127.0.0.1:9/ws"; /* missing database_path */
  CHECK(chat_client_create(&o, &c) == CHAT_E_INVALID_ARGUMENT);
}

static void test_destroyed_handle(void) {
  chat_client* c = make_client();
  chat_client* stale;
  const chat_event* ev = NULL;
  CHECK(c != NULL);
  if (!c) return;
  CHECK(chat_client_poll(c, 0) == CHAT_OK);
  stale = c;
  chat_client_destroy(c);
  CHECK(chat_client_poll(stale, 0) == CHAT_E_MISUSE);
  CHECK(chat_client_next_event(stale, &ev) == CHAT_E_MISUSE);
  CHECK(chat_client_send_text(stale, "general", "x", NULL, 0, NULL) == CHAT_E_MISUSE);
  CHECK(chat_client_wakeup(stale) == CHAT_E_MISUSE);
  chat_client_destroy(stale); /* double destroy: no-op */
}

static void test_bad_arguments(void) {
  chat_client* c = make_client();
  chat_send_options so;
  const char* mentions[1] = {NULL};
  int64_t op = -1;
  chat_list* l = NULL;
  if (!c) {
    ++failures;
    return;
  }
  CHECK(chat_client_send_text(c, NULL, "x", NULL, 0, &op) == CHAT_E_INVALID_ARGUMENT);
  CHECK(op == 0);
  CHECK(strlen(chat_client_errmsg(c)) > 0);
  chat_send_options_init(&so);
  so.struct_size = 3;
  CHECK(chat_client_send_text(c, "general", "x", &so, 0, NULL) == CHAT_E_MISUSE);
  chat_send_options_init(&so);
  so.mentions = mentions;
  so.mention_count = 1;
  CHECK(chat_client_send_text(c, "general", "x", &so, 0, NULL) == CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_edit(c, "general", 0, NULL, "x", NULL, 0, NULL) == CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_next_event(c, NULL) == CHAT_E_MISUSE);
  CHECK(chat_client_cancel(c, 987654) != CHAT_OK);
  /* channel admin: nothing to update, an unknown role, a live query offline */
  CHECK(chat_client_update_channel(c, "general", NULL, -1, NULL, 0, &op) ==
        CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_update_channel(c, NULL, "n", -1, NULL, 0, &op) == CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_set_role(c, "general", "bob", (chat_role)7, 0, &op) ==
        CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_set_role(c, "general", NULL, CHAT_ROLE_OWNER, 0, &op) ==
        CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_list_members(c, NULL, NULL, 0, 0) == CHAT_E_INVALID_ARGUMENT);
  CHECK(chat_client_list_members(c, "general", NULL, 0, 0) == CHAT_E_NOT_CONNECTED);
  /* a valid command works offline: queued in the outbox, its op has an id */
  CHECK(chat_client_send_text(c, "general", "offline hello", NULL, 42, &op) == CHAT_OK);
  CHECK(op > 0);
  CHECK(strcmp(chat_client_errmsg(c), "") == 0);
  CHECK(chat_client_pending_ops(c, &l) == CHAT_OK);
  CHECK(chat_list_count(l) == 1);
  CHECK(chat_op_id(chat_list_op(l, 0)) == op);
  CHECK(chat_list_message(l, 0) == NULL); /* wrong kind of row */
  chat_list_destroy(l);
  {
    /* the op's events carry the tag; the accessors of other kinds answer defaults */
    const chat_event* ev = NULL;
    int saw_tagged_op = 0;
    while (chat_client_next_event(c, &ev) == CHAT_OK && ev) {
      char* json = NULL;
      CHECK(chat_event_to_json(ev, &json) == CHAT_OK);
      CHECK(json != NULL && json[0] == '{');
      chat_free(json);
      if (chat_event_type(ev) == CHAT_EVENT_OP && chat_op_id(chat_event_op(ev)) == op) {
        CHECK(chat_event_tag(ev) == 42);
        CHECK(chat_event_diff_count(ev) == 0);
        CHECK(chat_event_channel(ev) == NULL);
        saw_tagged_op = 1;
      }
    }
    CHECK(saw_tagged_op);
  }
  CHECK(chat_client_run(c) == CHAT_OK);
  CHECK(chat_client_run(c) == CHAT_E_INVALID_STATE);
  CHECK(chat_client_poll(c, 0) == CHAT_E_INVALID_STATE); /* run() owns the loop */
  CHECK(chat_client_stop(c) == CHAT_OK);
  CHECK(chat_client_poll(c, 0) == CHAT_OK);
  chat_client_destroy(c);
}

static void test_status(void) {
  CHECK(CHAT_OK == 0);
  CHECK(CHAT_E_INTERNAL == 1);
  CHECK(CHAT_E_MISUSE == 28);
  CHECK(strcmp(chat_status_name(CHAT_E_NOT_MEMBER), "not_member") == 0);
  CHECK(strcmp(chat_status_name((chat_status)99999), "unknown") == 0);
  CHECK(strcmp(chat_status_str((chat_status)99999), "Unknown status.") == 0);
  CHECK(strcmp(chat_status_str(CHAT_OK), "Success.") == 0);
  CHECK(chat_status_retryable(CHAT_E_RATE_LIMITED) == 1);
  CHECK(chat_status_retryable(CHAT_E_NOT_MEMBER) == 0);
}

int main(void) {
  test_null_handles();
  test_options();
  test_destroyed_handle();
  test_bad_arguments();
  test_status();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api misuse tests passed\n");
  return 0;
}
