/* chatsdk_jni.c - JNI glue between dev.chatsdk.Native and the C API.
 *
 * Deliberately thin: one native per C call, strings crossed as modified-UTF-8
 * (fine for JSON and ids; bodies go through byte arrays so supplementary
 * characters survive), events and query snapshots crossed once as JSON
 * (chat_event_to_json / chat_list_to_json) so no accessor-level JNI is needed.
 * Every failing status becomes a thrown dev.chatsdk.ChatException; nothing here
 * can crash the JVM on a bad handle because the C API checks handles itself.
 */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatsdk/chatsdk.h"

#define JNI_FN(name) Java_dev_chatsdk_Native_##name

static chat_client* handle(jlong h) {
  return (chat_client*)(intptr_t)h;
}

/* Throws ChatException(status, name, detail, retryable). */
static void throw_status(JNIEnv* env, chat_status st, const char* detail) {
  jclass cls = (*env)->FindClass(env, "dev/chatsdk/ChatException");
  if (cls == NULL) return; /* NoClassDefFoundError is pending */
  jmethodID ctor =
      (*env)->GetMethodID(env, cls, "<init>", "(ILjava/lang/String;Ljava/lang/String;Z)V");
  if (ctor == NULL) return;
  jstring name = (*env)->NewStringUTF(env, chat_status_name(st));
  jstring det = (*env)->NewStringUTF(env, detail != NULL ? detail : "");
  if (name == NULL || det == NULL) return;
  jobject ex = (*env)->NewObject(env, cls, ctor, (jint)st, name, det,
                                 chat_status_retryable(st) ? JNI_TRUE : JNI_FALSE);
  if (ex != NULL) (*env)->Throw(env, (jthrowable)ex);
}

/* Returns 1 (and throws) when st is a failure. */
static int check(JNIEnv* env, jlong h, chat_status st) {
  if (st == CHAT_OK) return 0;
  throw_status(env, st, chat_client_errmsg(h != 0 ? handle(h) : NULL));
  return 1;
}

/* A Java String as a malloc'ed NUL-terminated UTF-8 copy (NULL for null).
 * Goes through String.getBytes(UTF_8) so that non-BMP characters are encoded
 * as real UTF-8, not JNI's modified UTF-8. *oom is set on allocation failure. */
static char* utf8(JNIEnv* env, jstring s, int* oom) {
  if (s == NULL) return NULL;
  jclass str_cls = (*env)->GetObjectClass(env, s);
  jmethodID get_bytes = (*env)->GetMethodID(env, str_cls, "getBytes", "(Ljava/lang/String;)[B");
  jstring cs = (*env)->NewStringUTF(env, "UTF-8");
  if (get_bytes == NULL || cs == NULL) {
    *oom = 1;
    return NULL;
  }
  jbyteArray arr = (jbyteArray)(*env)->CallObjectMethod(env, s, get_bytes, cs);
  if (arr == NULL || (*env)->ExceptionCheck(env)) {
    *oom = 1;
    return NULL;
  }
  jsize n = (*env)->GetArrayLength(env, arr);
  char* out = malloc((size_t)n + 1);
  if (out == NULL) {
    *oom = 1;
    return NULL;
  }
  (*env)->GetByteArrayRegion(env, arr, 0, n, (jbyte*)out);
  out[n] = '\0';
  (*env)->DeleteLocalRef(env, arr);
  (*env)->DeleteLocalRef(env, cs);
  (*env)->DeleteLocalRef(env, str_cls);
  return out;
}

/* A UTF-8 C string as a Java String (decoded with new String(bytes, UTF_8)). */
static jstring jstr(JNIEnv* env, const char* s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s);
  jbyteArray arr = (*env)->NewByteArray(env, (jsize)n);
  if (arr == NULL) return NULL;
  (*env)->SetByteArrayRegion(env, arr, 0, (jsize)n, (const jbyte*)s);
  jclass str_cls = (*env)->FindClass(env, "java/lang/String");
  jmethodID ctor =
      str_cls ? (*env)->GetMethodID(env, str_cls, "<init>", "([BLjava/lang/String;)V") : NULL;
  jstring cs = (*env)->NewStringUTF(env, "UTF-8");
  if (ctor == NULL || cs == NULL) return NULL;
  jstring out = (jstring)(*env)->NewObject(env, str_cls, ctor, arr, cs);
  (*env)->DeleteLocalRef(env, arr);
  (*env)->DeleteLocalRef(env, cs);
  (*env)->DeleteLocalRef(env, str_cls);
  return out;
}

/* Takes ownership of a library string and returns it as a Java String. */
static jstring take(JNIEnv* env, char* s) {
  jstring out = jstr(env, s != NULL ? s : "");
  chat_free(s);
  return out;
}

/* A String[] as a malloc'ed array of UTF-8 copies. */
typedef struct {
  char** v;
  size_t n;
  int oom;
} strs;

static strs to_strs(JNIEnv* env, jobjectArray a) {
  strs r = {NULL, 0, 0};
  if (a == NULL) return r;
  jsize n = (*env)->GetArrayLength(env, a);
  r.v = calloc((size_t)n + 1, sizeof(char*));
  if (r.v == NULL) {
    r.oom = 1;
    return r;
  }
  r.n = (size_t)n;
  for (jsize i = 0; i < n && !r.oom; ++i) {
    jstring s = (jstring)(*env)->GetObjectArrayElement(env, a, i);
    r.v[i] = s != NULL ? utf8(env, s, &r.oom) : NULL;
    if (s != NULL) (*env)->DeleteLocalRef(env, s);
  }
  return r;
}

static void free_strs(strs* r) {
  for (size_t i = 0; i < r->n; ++i)
    free(r->v[i]);
  free(r->v);
}

/* Checks the conversions of a call's arguments: 1 (and an exception pending)
 * when one failed. */
static int args_failed(JNIEnv* env, int oom) {
  if ((*env)->ExceptionCheck(env)) return 1;
  if (oom) {
    throw_status(env, CHAT_E_INTERNAL, "out of memory converting arguments");
    return 1;
  }
  return 0;
}

/* ---- token provider ---------------------------------------------------------- */

/* token_user_data of a client whose Java side gave a TokenProvider. Owned by
 * the Java ChatClient (tokenContextCreate / tokenContextFree), freed after the
 * client is destroyed. */
typedef struct {
  JavaVM* vm;
  jobject provider; /* global ref */
} token_ctx;

/* chat_token_fn: runs inside chat_client_poll on the wrapper's event thread,
 * which is a Java thread, so the JNIEnv is at hand. A provider that throws or
 * returns null leaves the stored token as it is. */
static void token_fn(void* user_data, chat_client* c) {
  token_ctx* t = (token_ctx*)user_data;
  JNIEnv* env = NULL;
  if ((*t->vm)->GetEnv(t->vm, (void**)&env, JNI_VERSION_1_8) != JNI_OK || env == NULL) return;
  jclass cls = (*env)->GetObjectClass(env, t->provider);
  jmethodID mid = cls ? (*env)->GetMethodID(env, cls, "token", "()Ljava/lang/String;") : NULL;
  if (mid == NULL) {
    (*env)->ExceptionClear(env);
    return;
  }
  jstring tok = (jstring)(*env)->CallObjectMethod(env, t->provider, mid);
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionClear(env);
    return;
  }
  if (tok != NULL) {
    int oom = 0;
    char* jwt = utf8(env, tok, &oom);
    if (jwt != NULL) chat_client_set_token(c, jwt);
    free(jwt);
    (*env)->ExceptionClear(env);
    (*env)->DeleteLocalRef(env, tok);
  }
  (*env)->DeleteLocalRef(env, cls);
}

JNIEXPORT jlong JNICALL JNI_FN(tokenContextCreate)(JNIEnv* env, jclass cls, jobject provider) {
  (void)cls;
  token_ctx* t = calloc(1, sizeof *t);
  if (t == NULL || (*env)->GetJavaVM(env, &t->vm) != JNI_OK ||
      (t->provider = (*env)->NewGlobalRef(env, provider)) == NULL) {
    free(t);
    throw_status(env, CHAT_E_INTERNAL, "out of memory creating the token provider context");
    return 0;
  }
  return (jlong)(intptr_t)t;
}

JNIEXPORT void JNICALL JNI_FN(tokenContextFree)(JNIEnv* env, jclass cls, jlong ctx) {
  (void)cls;
  token_ctx* t = (token_ctx*)(intptr_t)ctx;
  if (t == NULL) return;
  (*env)->DeleteGlobalRef(env, t->provider);
  free(t);
}

/* ---- library ---------------------------------------------------------------- */

JNIEXPORT jstring JNICALL JNI_FN(version)(JNIEnv* env, jclass cls) {
  (void)cls;
  return jstr(env, chat_version_string());
}

JNIEXPORT jstring JNICALL JNI_FN(statusName)(JNIEnv* env, jclass cls, jint st) {
  (void)cls;
  return jstr(env, chat_status_name((chat_status)st));
}

JNIEXPORT jstring JNICALL JNI_FN(statusStr)(JNIEnv* env, jclass cls, jint st) {
  (void)cls;
  return jstr(env, chat_status_str((chat_status)st));
}

/* ---- lifecycle --------------------------------------------------------------- */

JNIEXPORT jlong JNICALL JNI_FN(create)(JNIEnv* env, jclass cls, jstring url, jstring db,
                                       jstring device, jstring token, jint history_page,
                                       jint heartbeat_ms, jint backoff_initial_ms,
                                       jint backoff_max_ms, jlong cache_cap_bytes,
                                       jlong token_ctx_handle) {
  (void)cls;
  int oom = 0;
  char *u = utf8(env, url, &oom), *d = utf8(env, db, &oom), *dev = utf8(env, device, &oom),
       *t = utf8(env, token, &oom);
  chat_client* c = NULL;
  if (!args_failed(env, oom)) {
    chat_client_options o;
    chat_client_options_init(&o);
    o.server_url = u;
    o.database_path = d;
    o.device_id = dev;
    o.token = t;
    if (history_page > 0) o.history_page = (uint32_t)history_page;
    if (heartbeat_ms > 0) o.heartbeat_ms = (uint32_t)heartbeat_ms;
    if (backoff_initial_ms > 0) o.backoff_initial_ms = (uint32_t)backoff_initial_ms;
    if (backoff_max_ms > 0) o.backoff_max_ms = (uint32_t)backoff_max_ms;
    if (cache_cap_bytes > 0) o.cache_cap_bytes = (uint64_t)cache_cap_bytes;
    if (token_ctx_handle != 0) {
      o.token_fn = token_fn;
      o.token_user_data = (void*)(intptr_t)token_ctx_handle;
    }
    chat_status st = chat_client_create(&o, &c);
    if (st != CHAT_OK) throw_status(env, st, chat_client_errmsg(NULL));
  }
  free(u);
  free(d);
  free(dev);
  free(t);
  return (jlong)(intptr_t)c;
}

JNIEXPORT void JNICALL JNI_FN(destroy)(JNIEnv* env, jclass cls, jlong h) {
  (void)env;
  (void)cls;
  chat_client_destroy(handle(h));
}

JNIEXPORT void JNICALL JNI_FN(setToken)(JNIEnv* env, jclass cls, jlong h, jstring jwt) {
  (void)cls;
  int oom = 0;
  char* t = utf8(env, jwt, &oom);
  if (!args_failed(env, oom)) check(env, h, chat_client_set_token(handle(h), t));
  free(t);
}

/* Calls without arguments besides the handle. */
#define SIMPLE(jname, cfn)                                                  \
  JNIEXPORT void JNICALL JNI_FN(jname)(JNIEnv * env, jclass cls, jlong h) { \
    (void)cls;                                                              \
    check(env, h, cfn(handle(h)));                                          \
  }
SIMPLE(connect, chat_client_connect)
SIMPLE(disconnect, chat_client_disconnect)
SIMPLE(suspend, chat_client_suspend)
SIMPLE(resume, chat_client_resume)
SIMPLE(wakeup, chat_client_wakeup)

JNIEXPORT jint JNICALL JNI_FN(state)(JNIEnv* env, jclass cls, jlong h) {
  (void)env;
  (void)cls;
  return (jint)chat_client_state(handle(h));
}

JNIEXPORT jstring JNICALL JNI_FN(userId)(JNIEnv* env, jclass cls, jlong h) {
  (void)cls;
  char* out = NULL;
  if (check(env, h, chat_client_user_id(handle(h), &out))) return NULL;
  return take(env, out);
}

/* ---- loop and events ----------------------------------------------------------- */

JNIEXPORT void JNICALL JNI_FN(poll)(JNIEnv* env, jclass cls, jlong h, jint timeout_ms) {
  (void)cls;
  check(env, h, chat_client_poll(handle(h), timeout_ms));
}

/* The next event as JSON, or null when none is ready. */
JNIEXPORT jstring JNICALL JNI_FN(nextEventJson)(JNIEnv* env, jclass cls, jlong h) {
  (void)cls;
  const chat_event* ev = NULL;
  if (check(env, h, chat_client_next_event(handle(h), &ev)) || ev == NULL) return NULL;
  char* out = NULL;
  if (check(env, h, chat_event_to_json(ev, &out))) return NULL;
  return take(env, out);
}

/* ---- outbox ops (each returns the op id) ------------------------------------------ */

JNIEXPORT jlong JNICALL JNI_FN(sendText)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                         jstring body, jlong reply_to, jobjectArray mentions,
                                         jstring metadata, jlong tag) {
  (void)cls;
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *b = utf8(env, body, &oom), *md = utf8(env, metadata, &oom);
  strs m = to_strs(env, mentions);
  int64_t op = 0;
  if (!args_failed(env, oom || m.oom)) {
    chat_send_options so;
    chat_send_options_init(&so);
    so.reply_to = (uint64_t)reply_to;
    so.mentions = (const char* const*)m.v;
    so.mention_count = m.n;
    so.metadata = md;
    check(env, h, chat_client_send_text(handle(h), ch, b, &so, (uint64_t)tag, &op));
  }
  free(ch);
  free(b);
  free(md);
  free_strs(&m);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(edit)(JNIEnv* env, jclass cls, jlong h, jstring channel, jlong seq,
                                     jstring client_id, jstring body, jstring metadata, jlong tag) {
  (void)cls;
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *cid = utf8(env, client_id, &oom),
       *b = utf8(env, body, &oom), *md = utf8(env, metadata, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h, chat_client_edit(handle(h), ch, (uint64_t)seq, cid, b, md, (uint64_t)tag, &op));
  free(ch);
  free(cid);
  free(b);
  free(md);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(delete)(JNIEnv* env, jclass cls, jlong h, jstring channel, jlong seq,
                                       jstring client_id, jlong tag) {
  (void)cls;
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *cid = utf8(env, client_id, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h, chat_client_delete(handle(h), ch, (uint64_t)seq, cid, (uint64_t)tag, &op));
  free(ch);
  free(cid);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(react)(JNIEnv* env, jclass cls, jlong h, jstring channel, jlong seq,
                                      jstring client_id, jstring emoji, jboolean add, jlong tag) {
  (void)cls;
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *cid = utf8(env, client_id, &oom),
       *e = utf8(env, emoji, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h,
          chat_client_react(handle(h), ch, (uint64_t)seq, cid, e, add ? 1 : 0, (uint64_t)tag, &op));
  free(ch);
  free(cid);
  free(e);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(markRead)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                         jlong seq, jlong tag) {
  (void)cls;
  int oom = 0;
  char* ch = utf8(env, channel, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h, chat_client_mark_read(handle(h), ch, (uint64_t)seq, (uint64_t)tag, &op));
  free(ch);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(createGroup)(JNIEnv* env, jclass cls, jlong h, jstring channel_id,
                                            jstring name, jobjectArray members, jboolean is_public,
                                            jlong tag) {
  (void)cls;
  int oom = 0;
  char *id = utf8(env, channel_id, &oom), *n = utf8(env, name, &oom);
  strs m = to_strs(env, members);
  int64_t op = 0;
  if (!args_failed(env, oom || m.oom))
    check(env, h,
          chat_client_create_group(handle(h), id, n, (const char* const*)m.v, m.n,
                                   is_public ? 1 : 0, (uint64_t)tag, &op));
  free(id);
  free(n);
  free_strs(&m);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(createDirect)(JNIEnv* env, jclass cls, jlong h, jstring other,
                                             jlong tag) {
  (void)cls;
  int oom = 0;
  char* o = utf8(env, other, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h, chat_client_create_direct(handle(h), o, (uint64_t)tag, &op));
  free(o);
  return (jlong)op;
}

/* invite / remove members: same shape. */
#define MEMBERS(jname, cfn)                                                                 \
  JNIEXPORT jlong JNICALL JNI_FN(jname)(JNIEnv * env, jclass cls, jlong h, jstring channel, \
                                        jobjectArray users, jlong tag) {                    \
    (void)cls;                                                                              \
    int oom = 0;                                                                            \
    char* ch = utf8(env, channel, &oom);                                                    \
    strs u = to_strs(env, users);                                                           \
    int64_t op = 0;                                                                         \
    if (!args_failed(env, oom || u.oom))                                                    \
      check(env, h, cfn(handle(h), ch, (const char* const*)u.v, u.n, (uint64_t)tag, &op));  \
    free(ch);                                                                               \
    free_strs(&u);                                                                          \
    return (jlong)op;                                                                       \
  }
MEMBERS(invite, chat_client_invite)
MEMBERS(removeMembers, chat_client_remove_members)

JNIEXPORT jlong JNICALL JNI_FN(leave)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                      jlong tag) {
  (void)cls;
  int oom = 0;
  char* ch = utf8(env, channel, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom)) check(env, h, chat_client_leave(handle(h), ch, (uint64_t)tag, &op));
  free(ch);
  return (jlong)op;
}

/* join: (handle, channel, tag) like leave. */
JNIEXPORT jlong JNICALL JNI_FN(join)(JNIEnv* env, jclass cls, jlong h, jstring channel, jlong tag) {
  (void)cls;
  int oom = 0;
  char* ch = utf8(env, channel, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom)) check(env, h, chat_client_join(handle(h), ch, (uint64_t)tag, &op));
  free(ch);
  return (jlong)op;
}

/* is_public: -1 leaves the visibility unchanged, 0/1 sets it (the C API's
 * convention); null name / metadata leave those fields unchanged. */
JNIEXPORT jlong JNICALL JNI_FN(updateChannel)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                              jstring name, jint is_public, jstring metadata,
                                              jlong tag) {
  (void)cls;
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *n = utf8(env, name, &oom), *md = utf8(env, metadata, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h,
          chat_client_update_channel(handle(h), ch, n, (int)is_public, md, (uint64_t)tag, &op));
  free(ch);
  free(n);
  free(md);
  return (jlong)op;
}

/* role: the chat_role number (ChatClient maps the name; -1 for an unknown
 * one). Checked here so that no out-of-range value is ever converted to the
 * enum: the same invalid_argument the C API gives, without relying on it. */
JNIEXPORT jlong JNICALL JNI_FN(setRole)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                        jstring user, jint role, jlong tag) {
  (void)cls;
  if (role < (jint)CHAT_ROLE_MEMBER || role > (jint)CHAT_ROLE_OWNER) {
    throw_status(env, CHAT_E_INVALID_ARGUMENT, "unknown role");
    return 0;
  }
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *u = utf8(env, user, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h,
          chat_client_set_role(handle(h), ch, u, (chat_role)role, (uint64_t)tag, &op));
  free(ch);
  free(u);
  return (jlong)op;
}

JNIEXPORT jlong JNICALL JNI_FN(setProfile)(JNIEnv* env, jclass cls, jlong h, jstring display_name,
                                           jstring avatar_url, jlong tag) {
  (void)cls;
  int oom = 0;
  char *dn = utf8(env, display_name, &oom), *av = utf8(env, avatar_url, &oom);
  int64_t op = 0;
  if (!args_failed(env, oom))
    check(env, h, chat_client_set_profile(handle(h), dn, av, (uint64_t)tag, &op));
  free(dn);
  free(av);
  return (jlong)op;
}

JNIEXPORT void JNICALL JNI_FN(retry)(JNIEnv* env, jclass cls, jlong h, jlong op, jlong tag) {
  (void)cls;
  check(env, h, chat_client_retry(handle(h), (int64_t)op, (uint64_t)tag));
}

JNIEXPORT void JNICALL JNI_FN(cancel)(JNIEnv* env, jclass cls, jlong h, jlong op) {
  (void)cls;
  check(env, h, chat_client_cancel(handle(h), (int64_t)op));
}

/* ---- ephemeral and view-models: (handle, channel) and (handle, channel, tag) ---- */

#define CHANNEL_CALL(jname, cfn)                                                             \
  JNIEXPORT void JNICALL JNI_FN(jname)(JNIEnv * env, jclass cls, jlong h, jstring channel) { \
    (void)cls;                                                                               \
    int oom = 0;                                                                             \
    char* ch = utf8(env, channel, &oom);                                                     \
    if (!args_failed(env, oom)) check(env, h, cfn(handle(h), ch));                           \
    free(ch);                                                                                \
  }
CHANNEL_CALL(typing, chat_client_typing)
CHANNEL_CALL(typingStop, chat_client_typing_stop)
CHANNEL_CALL(openTimeline, chat_client_open_timeline)
CHANNEL_CALL(closeTimeline, chat_client_close_timeline)

#define CHANNEL_TAG_CALL(jname, cfn)                                                       \
  JNIEXPORT void JNICALL JNI_FN(jname)(JNIEnv * env, jclass cls, jlong h, jstring channel, \
                                       jlong tag) {                                        \
    (void)cls;                                                                             \
    int oom = 0;                                                                           \
    char* ch = utf8(env, channel, &oom);                                                   \
    if (!args_failed(env, oom)) check(env, h, cfn(handle(h), ch, (uint64_t)tag));          \
    free(ch);                                                                              \
  }
CHANNEL_TAG_CALL(loadOlder, chat_client_load_older)
CHANNEL_TAG_CALL(loadNewer, chat_client_load_newer)

#define USERS_TAG_CALL(jname, cfn)                                                            \
  JNIEXPORT void JNICALL JNI_FN(jname)(JNIEnv * env, jclass cls, jlong h, jobjectArray users, \
                                       jlong tag) {                                           \
    (void)cls;                                                                                \
    strs u = to_strs(env, users);                                                             \
    if (!args_failed(env, u.oom))                                                             \
      check(env, h, cfn(handle(h), (const char* const*)u.v, u.n, (uint64_t)tag));             \
    free_strs(&u);                                                                            \
  }
USERS_TAG_CALL(queryPresence, chat_client_query_presence)
USERS_TAG_CALL(fetchProfiles, chat_client_fetch_profiles)

/* One page of the server's member list; answered by a members_page event. A
 * negative limit is refused here: the C API takes a uint32_t. */
JNIEXPORT void JNICALL JNI_FN(listMembers)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                           jstring after, jint limit, jlong tag) {
  (void)cls;
  if (limit < 0) {
    throw_status(env, CHAT_E_INVALID_ARGUMENT, "limit must not be negative");
    return;
  }
  int oom = 0;
  char *ch = utf8(env, channel, &oom), *a = utf8(env, after, &oom);
  if (!args_failed(env, oom))
    check(env, h, chat_client_list_members(handle(h), ch, a, (uint32_t)limit, (uint64_t)tag));
  free(ch);
  free(a);
}

/* ---- queries: snapshots as JSON arrays ------------------------------------------------ */

static jstring list_json(JNIEnv* env, jlong h, chat_status st, chat_list* l) {
  jstring out = NULL;
  if (!check(env, h, st)) {
    char* json = NULL;
    chat_status js = chat_list_to_json(l, &json);
    if (js != CHAT_OK)
      throw_status(env, js, "chat_list_to_json failed");
    else
      out = take(env, json);
  }
  chat_list_destroy(l);
  return out;
}

JNIEXPORT jstring JNICALL JNI_FN(channelsJson)(JNIEnv* env, jclass cls, jlong h) {
  (void)cls;
  chat_list* l = NULL;
  chat_status st = chat_client_channels(handle(h), &l); /* before l is read */
  return list_json(env, h, st, l);
}

JNIEXPORT jstring JNICALL JNI_FN(pendingOpsJson)(JNIEnv* env, jclass cls, jlong h) {
  (void)cls;
  chat_list* l = NULL;
  chat_status st = chat_client_pending_ops(handle(h), &l);
  return list_json(env, h, st, l);
}

JNIEXPORT jstring JNICALL JNI_FN(messagesJson)(JNIEnv* env, jclass cls, jlong h, jstring channel,
                                               jint newest) {
  (void)cls;
  int oom = 0;
  char* ch = utf8(env, channel, &oom);
  jstring out = NULL;
  if (!args_failed(env, oom)) {
    chat_list* l = NULL;
    chat_status st = chat_client_messages(handle(h), ch, newest > 0 ? (size_t)newest : 0, &l);
    out = list_json(env, h, st, l);
  }
  free(ch);
  return out;
}

#define CHANNEL_LIST(jname, cfn)                                                                \
  JNIEXPORT jstring JNICALL JNI_FN(jname)(JNIEnv * env, jclass cls, jlong h, jstring channel) { \
    (void)cls;                                                                                  \
    int oom = 0;                                                                                \
    char* ch = utf8(env, channel, &oom);                                                        \
    jstring out = NULL;                                                                         \
    if (!args_failed(env, oom)) {                                                               \
      chat_list* l = NULL;                                                                      \
      chat_status st = cfn(handle(h), ch, &l);                                                  \
      out = list_json(env, h, st, l);                                                           \
    }                                                                                           \
    free(ch);                                                                                   \
    return out;                                                                                 \
  }
CHANNEL_LIST(timelineJson, chat_client_timeline)
CHANNEL_LIST(membersJson, chat_client_members)
CHANNEL_LIST(typingUsersJson, chat_client_typing_users)
