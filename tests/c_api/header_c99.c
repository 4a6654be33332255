/* Compiles chatsdk.h as strict C99 (-std=c99 -Wall -Wextra -Werror -pedantic)
 * and touches every kind of declaration, so a C++-ism in the header fails the
 * build. Linked against libchatsdk_c to prove the declared names exist. */
#include "chatsdk/chatsdk.h"

#include <stdio.h>

#if !CHATSDK_AT_LEAST_VERSION(0, 1, 0)
#error "version macros broken"
#endif

int main(void) {
  chat_client_options o;
  chat_send_options so;
  chat_status s = chat_client_options_init(&o);
  const chat_event* ev = NULL;
  const chat_message* m = NULL;
  const chat_channel* ch = NULL;
  const chat_op* op = NULL;
  chat_list* l = NULL;
  chat_event_type_t t = chat_event_type(ev);
  (void)chat_send_options_init(&so);
  (void)m;
  (void)ch;
  (void)op;
  (void)l;
  if (s != CHAT_OK || t != CHAT_EVENT_NONE) return 1;
  if (chat_version_number() != CHATSDK_VERSION_NUMBER) {
    fprintf(stderr, "header %d != library %d\n", CHATSDK_VERSION_NUMBER, chat_version_number());
    return 1;
  }
  printf("chatsdk %s: %s\n", chat_version_string(), chat_status_str(CHAT_E_MISUSE));
  return 0;
}
