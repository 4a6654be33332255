// Compiled by tests/bindings_swift (clang -fmodules -fsyntax-only -Werror):
// imports the C API through bindings/swift's module map exactly as Swift's
// `import CChatSDK` does, and uses the declarations the Swift wrapper relies on
// (handles, option structs, enums, out-pointers, lists, events).
@import CChatSDK;

static int use_api(const char *url) {
  chat_client_options o;
  if (chat_client_options_init(&o) != CHAT_OK) return 1;
  o.server_url = url;
  o.database_path = ":memory:";
  chat_client *c = 0;
  chat_status st = chat_client_create(&o, &c);
  if (st != CHAT_OK) return (int)chat_status_retryable(st);
  chat_send_options so;
  chat_send_options_init(&so);
  const char *mentions[] = {"bob"};
  so.mentions = mentions;
  so.mention_count = 1;
  int64_t op = 0;
  chat_client_send_text(c, "general", "hi", &so, 7, &op);
  const chat_event *ev = 0;
  while (chat_client_next_event(c, &ev) == CHAT_OK && ev) {
    char *json = 0;
    if (chat_event_type(ev) == CHAT_EVENT_OP && chat_event_to_json(ev, &json) == CHAT_OK) chat_free(json);
  }
  /* Channel administration as ChatSDK.swift calls it: Int32 -1 for "unchanged",
     chat_role constants, a UInt32 limit; the members page answers by event. */
  chat_client_join(c, "lobby", 8, &op);
  chat_client_update_channel(c, "general", "General", -1, 0, 9, &op);
  chat_client_set_role(c, "general", "bob", CHAT_ROLE_MODERATOR, 10, &op);
  if (chat_client_list_members(c, "general", "", (uint32_t)0, 11) == CHAT_OK) {
    const chat_event *page = 0;
    if (chat_client_next_event(c, &page) == CHAT_OK && page &&
        chat_event_type(page) == CHAT_EVENT_MEMBERS_PAGE &&
        chat_event_user_count(page) > 0 && chat_event_member_role(page, 0) == CHAT_ROLE_OWNER)
      op += chat_event_members_more(page) + (int64_t)chat_event_member_read_seq(page, 0) +
            (chat_event_members_next_after(page) != 0);
  }
  chat_list *l = 0;
  if (chat_client_channels(c, &l) == CHAT_OK) chat_list_destroy(l);
  chat_connection_state s = chat_client_state(c);
  chat_client_destroy(c);
  return s == CHAT_CONN_LIVE ? 2 : 0;
}

int main(int argc, char **argv) {
  (void)argv;
  return argc > 1 ? use_api("ws://127.0.0.1:1/ws") : (int)chat_version_number();
}
