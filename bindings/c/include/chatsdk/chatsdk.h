/* chatsdk.h - the C API of the chatsdk client (C99).
 *
 * This header is the contract. It is a thin shim over the C++ client
 * (include/chatsdk/client.hpp): argument checks, conversion and status mapping
 * only, so the two behave the same.
 *
 * Objects
 *   chat_client  one user's session: a SQLite cache + outbox and at most one
 *                WebSocket connection. CONSTRUCTOR chat_client_create,
 *                DESTRUCTOR chat_client_destroy.
 *   chat_event   one event, BORROWED from the client by chat_client_next_event
 *                and valid until the next chat_client_next_event or
 *                chat_client_destroy on that client. Read it with chat_event_*.
 *   chat_message, chat_channel, chat_op
 *                borrowed views inside an event or a chat_list; valid as long
 *                as their owner. Read them with chat_message_*, ...
 *   chat_list    an owned snapshot returned by a query (chat_client_channels,
 *                ...). DESTRUCTOR chat_list_destroy.
 *
 * Rules that hold everywhere
 *   - Every fallible function returns chat_status (CHAT_OK = 0); outputs go
 *     through out-pointers. chat_status_str() names a status;
 *     chat_client_errmsg(c) gives the detail of the last failure on c.
 *   - A NULL or destroyed handle returns CHAT_E_MISUSE; no call crashes on one
 *     and no C++ exception ever leaves the library (CHAT_E_INTERNAL instead).
 *   - Strings are UTF-8, NUL-terminated. Inputs are copied before the call
 *     returns. Returned `const char *` are borrowed (lifetime stated per call);
 *     `char **out` results are owned by the caller: free them with chat_free().
 *   - The library never needs its own thread: the host calls
 *     chat_client_poll(c, 0) from its loop (0 never blocks). chat_client_run()
 *     starts an SDK-owned loop thread instead, if the app prefers.
 *   - Every asynchronous command takes a uint64_t `tag` chosen by the caller;
 *     it comes back on the events that complete the command (chat_event_tag).
 *     Unsolicited events carry tag 0.
 *   - An accessor asked for a field its event type does not have returns 0,
 *     or NULL for strings and views.
 *
 * Usage
 * \code
 *   chat_client_options o;
 *   chat_client_options_init(&o);
 *   o.server_url = "ws://127.0.0.1:8080/ws";
 *   o.database_path = "alice.db";
 *   o.token = jwt_from_my_backend;
 *   chat_client *c = NULL;
 *   if (chat_client_create(&o, &c) != CHAT_OK) {
 *     fprintf(stderr, "%s\n", chat_client_errmsg(NULL));
 *     return 1;
 *   }
 *   chat_client_connect(c);
 *   chat_client_open_timeline(c, "general");
 *   for (;;) {                                    // the host's frame loop
 *     chat_client_poll(c, 0);                     // never blocks
 *     const chat_event *ev;
 *     while (chat_client_next_event(c, &ev) == CHAT_OK && ev) {
 *       if (chat_event_type(ev) == CHAT_EVENT_TIMELINE_DIFF) redraw(ev);
 *     }
 *   }
 *   chat_client_destroy(c);
 * \endcode
 *
 * Since: 0.1.0 (for every declaration below unless it says otherwise)
 */
#ifndef CHATSDK_H
#define CHATSDK_H

#include <stddef.h>
#include <stdint.h>

#include "chatsdk/chatsdk_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export and versions ------------------------------------------------- */

#if defined(_WIN32)
#if defined(CHATSDK_C_BUILDING)
#define CHAT_API __declspec(dllexport)
#else
#define CHAT_API __declspec(dllimport)
#endif
#else
#define CHAT_API __attribute__((visibility("default")))
#endif

/* Same numbers as include/chatsdk/version.hpp (the shim fails to compile if
 * they differ). */
#ifndef CHATSDK_VERSION_MAJOR
#define CHATSDK_VERSION_MAJOR 0
#define CHATSDK_VERSION_MINOR 1
#define CHATSDK_VERSION_PATCH 0
#define CHATSDK_VERSION_STRING "0.1.0"
#define CHATSDK_VERSION_NUMBER \
  (CHATSDK_VERSION_MAJOR * 1000000 + CHATSDK_VERSION_MINOR * 1000 + CHATSDK_VERSION_PATCH)
#endif
/** True when the header is at least version x.y.z. */
#define CHATSDK_AT_LEAST_VERSION(x, y, z) (CHATSDK_VERSION_NUMBER >= ((x)*1000000 + (y)*1000 + (z)))

/** Version of the linked library, as CHATSDK_VERSION_NUMBER. Compare the two to
 * detect a header/library mismatch.
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API int chat_version_number(void);
/** "major.minor.patch" of the linked library.
 * Thread: any. Ownership: static string. Since: 0.1.0 */
CHAT_API const char* chat_version_string(void);

/* ---- status -------------------------------------------------------------- */

/** One-line meaning of a status ("Success.", ...); "Unknown status." for a
 * number this library does not know.
 * Thread: any. Ownership: static string. Since: 0.1.0 */
CHAT_API const char* chat_status_str(chat_status s);
/** Stable snake_case name of a status ("not_member"), the same string the wire
 * protocol uses; "unknown" for a number this library does not know.
 * Thread: any. Ownership: static string. Since: 0.1.0 */
CHAT_API const char* chat_status_name(chat_status s);
/** 1 when the same request may succeed later unchanged, else 0.
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API int chat_status_retryable(chat_status s);

/** Frees a string the library returned through a `char **out`. NULL is a no-op.
 * Thread: any. Ownership: takes p. Since: 0.1.0 */
CHAT_API void chat_free(void* p);

/* ---- handles ------------------------------------------------------------- */

typedef struct chat_client chat_client;
typedef struct chat_event chat_event;
typedef struct chat_message chat_message;
typedef struct chat_channel chat_channel;
typedef struct chat_op chat_op;
typedef struct chat_list chat_list;

/* ---- enums (append-only, like chat_status) -------------------------------- */

typedef enum chat_event_type_t {
  CHAT_EVENT_NONE = 0,              /**< not an event (bad handle) */
  CHAT_EVENT_CONNECTION = 1,        /**< connection state changed */
  CHAT_EVENT_CHANNEL_LIST_DIFF = 2, /**< channel list view-model diff */
  CHAT_EVENT_TIMELINE_DIFF = 3,     /**< timeline view-model diff of one open channel */
  CHAT_EVENT_OP = 4,                /**< an outbox op changed state */
  CHAT_EVENT_TYPING = 5,            /**< the typing users of a channel changed */
  CHAT_EVENT_PRESENCE = 6,          /**< a user's presence changed */
  CHAT_EVENT_RECEIPT = 7,           /**< another member's read/delivered position */
  CHAT_EVENT_PROFILES = 8,          /**< user profiles arrived */
  CHAT_EVENT_CACHE_EVICTED = 9,     /**< old history dropped to stay under the cache cap */
  CHAT_EVENT_HISTORY_LOADED = 10,   /**< result of load_older / load_newer */
  CHAT_EVENT_ERROR = 11,            /**< a failure not tied to an op */
  CHAT_EVENT_MEMBERS_PAGE = 12      /**< a page of members (chat_client_list_members) */
} chat_event_type_t;

typedef enum chat_connection_state {
  CHAT_CONN_DISCONNECTED = 0,
  CHAT_CONN_CONNECTING = 1,
  CHAT_CONN_AUTHENTICATING = 2,
  CHAT_CONN_SYNCING = 3,
  CHAT_CONN_LIVE = 4
} chat_connection_state;

typedef enum chat_diff_kind {
  CHAT_DIFF_RESET = 0,  /**< replace the whole list with the op's items */
  CHAT_DIFF_INSERT = 1, /**< insert the op's one item at index */
  CHAT_DIFF_UPDATE = 2, /**< replace the row at index (same key) */
  CHAT_DIFF_REMOVE = 3  /**< drop the row at index (no item) */
} chat_diff_kind;

typedef enum chat_op_state {
  CHAT_OP_QUEUED = 0,
  CHAT_OP_SENDING = 1,
  CHAT_OP_SENT = 2,
  CHAT_OP_DELIVERED = 3,
  CHAT_OP_READ = 4,
  CHAT_OP_FAILED = 5,
  CHAT_OP_CANCELLED = 6
} chat_op_state;

typedef enum chat_op_kind {
  CHAT_OP_SEND = 0,
  CHAT_OP_EDIT = 1,
  CHAT_OP_DELETE = 2,
  CHAT_OP_REACT = 3,
  CHAT_OP_UNREACT = 4,
  CHAT_OP_MARK_READ = 5,
  CHAT_OP_CHANNEL_CREATE = 6,
  CHAT_OP_MEMBERS_ADD = 7,
  CHAT_OP_MEMBERS_REMOVE = 8,
  CHAT_OP_PROFILE_SET = 9,
  CHAT_OP_JOIN = 10,
  CHAT_OP_CHANNEL_UPDATE = 11, /**< chat_client_update_channel */
  CHAT_OP_MEMBER_ROLE = 12     /**< chat_client_set_role */
} chat_op_kind;

typedef enum chat_channel_kind {
  CHAT_CHANNEL_DIRECT = 0,
  CHAT_CHANNEL_GROUP = 1,
  CHAT_CHANNEL_LARGE = 2
} chat_channel_kind;

typedef enum chat_role {
  CHAT_ROLE_MEMBER = 0,
  CHAT_ROLE_MODERATOR = 1,
  CHAT_ROLE_OWNER = 2,
  /* Not a role. Makes every int a valid chat_role value, so that a role read
     from elsewhere and passed in unchecked is refused (CHAT_E_INVALID_ARGUMENT)
     rather than being undefined behaviour. */
  CHAT_ROLE_FORCE_INT = 0x7FFFFFFF
} chat_role;

/* ---- options ------------------------------------------------------------- */

/** Called on the loop thread (with the client's internal lock held) whenever
 * the client needs a token: on connect and when the current one expired. Call
 * chat_client_set_token(c, jwt) from inside it, or leave the stored token as it
 * is. chat_client_set_token is the only chatsdk call allowed inside it (others
 * return CHAT_E_MISUSE). Keep it fast: return a cached token. */
typedef void (*chat_token_fn)(void* user_data, chat_client* c);

/** Options of chat_client_create. Always fill with chat_client_options_init()
 * first: struct_size lets newer libraries accept older callers.
 * Ownership: strings are copied by chat_client_create. */
typedef struct chat_client_options {
  uint32_t struct_size;      /**< set by _init: sizeof(chat_client_options) */
  const char* server_url;    /**< required: ws:// or wss:// URL (path defaults to /ws) */
  const char* database_path; /**< required: SQLite cache + outbox file; ":memory:" keeps nothing */
  const char* device_id;     /**< this installation's id (id charset); NULL or "" = none */
  const char* token;         /**< initial JWT; NULL = none yet (see token_fn / set_token) */
  chat_token_fn token_fn;    /**< optional, see chat_token_fn */
  void* token_user_data;     /**< passed to token_fn */
  uint32_t backoff_initial_ms; /**< reconnect delay: uniform(0, min(max, initial*factor^n)) */
  uint32_t backoff_max_ms;
  double backoff_factor;
  uint32_t heartbeat_ms;        /**< 0 = the server's interval */
  uint64_t cache_cap_bytes;     /**< 0 = unlimited; only old synced history is evicted */
  uint32_t history_page;        /**< messages per load_older/load_newer page */
  int failed_op_blocks_channel; /**< nonzero: a failed op holds back later ops of its channel */
  uint32_t max_auto_retries;    /**< transient failures retried before an op becomes failed */
  uint64_t random_seed;         /**< 0 = random */
} chat_client_options;

/** Fills *opts with the defaults and sets struct_size. Returns CHAT_E_MISUSE for NULL.
 * Thread: any. Ownership: writes *opts. Since: 0.1.0 */
CHAT_API chat_status chat_client_options_init(chat_client_options* opts);

/** Optional parts of a message to send. Fill with chat_send_options_init(). */
typedef struct chat_send_options {
  uint32_t struct_size;        /**< set by _init */
  uint64_t reply_to;           /**< parent message seq in the same channel; 0 = none */
  const char* const* mentions; /**< user ids; may be NULL when mention_count is 0 */
  size_t mention_count;
  const char* metadata; /**< compact JSON object, NULL or "" = none */
} chat_send_options;

/** Fills *opts with the defaults and sets struct_size.
 * Thread: any. Ownership: writes *opts. Since: 0.1.0 */
CHAT_API chat_status chat_send_options_init(chat_send_options* opts);

/* ---- lifecycle ----------------------------------------------------------- */

/** CONSTRUCTOR: opens (or creates, or migrates) the cache. No network I/O until
 * chat_client_connect. The first event is a channel-list reset from the cache.
 * \param[in] opts filled by chat_client_options_init, then edited
 * \param[out] out the new client, or NULL on failure (then chat_client_errmsg(NULL)
 *             gives the detail on this thread)
 * \return CHAT_OK, CHAT_E_MISUSE (NULL, bad struct_size), CHAT_E_INVALID_ARGUMENT
 *         (URL, missing database_path), CHAT_E_IO_ERROR (cache), CHAT_E_INTERNAL
 * Thread: any. Ownership: the caller owns *out; free it with chat_client_destroy.
 * Since: 0.1.0 */
CHAT_API chat_status chat_client_create(const chat_client_options* opts, chat_client** out);

/** DESTRUCTOR: stops chat_client_run's thread, closes the connection and the
 * cache. Queued ops stay in the cache and are sent by the next client on the
 * same database. NULL (and an already destroyed handle) is a harmless no-op.
 * Every event, view and string borrowed from c dies with it.
 * Thread: any thread but the loop thread, never concurrently with another call on c.
 * Ownership: takes c. Since: 0.1.0 */
CHAT_API void chat_client_destroy(chat_client* c);

/** Detail of the last failure of a call on c ("" when the last call succeeded).
 * With c == NULL: the detail of the last failure on this thread of a call
 * that had no valid client (chat_client_create, a misuse).
 * Thread: any. Ownership: borrowed, valid until the next call on c (or, for
 * NULL, the next chatsdk call on this thread). Since: 0.1.0 */
CHAT_API const char* chat_client_errmsg(chat_client* c);

/** Replaces the token used for the next connect or refresh.
 * \return CHAT_OK, CHAT_E_MISUSE
 * Thread: any (also inside chat_token_fn). Ownership: jwt is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_set_token(chat_client* c, const char* jwt);

/** Starts connecting; reconnects with backoff until chat_client_disconnect.
 * Progress arrives as CHAT_EVENT_CONNECTION events.
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_connect(chat_client* c);
/** Closes the connection and stops reconnecting.
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_disconnect(chat_client* c);
/** Before the app is suspended: closes the connection, stops reconnects and
 * leaves no SQLite transaction or lock open.
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_suspend(chat_client* c);
/** After suspension: reconnects at once (then with backoff).
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_resume(chat_client* c);
/** Current connection state (CHAT_CONN_DISCONNECTED for a bad handle).
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API chat_connection_state chat_client_state(chat_client* c);
/** The authenticated user id ("" before the first successful connect).
 * \param[out] out a new string; free with chat_free
 * Thread: any. Ownership: caller owns *out. Since: 0.1.0 */
CHAT_API chat_status chat_client_user_id(chat_client* c, char** out);

/* ---- driving the loop ---------------------------------------------------- */

/** Does ready network I/O and due timers, waiting at most timeout_ms for
 * something to happen; 0 never blocks. Events become available to
 * chat_client_next_event.
 * \return CHAT_OK, CHAT_E_MISUSE (bad handle, or another thread is polling),
 *         CHAT_E_INVALID_STATE (chat_client_run owns the loop)
 * Thread: the host's loop thread (one at a time). Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_poll(chat_client* c, int timeout_ms);

/** Makes a blocking chat_client_poll return early (coalesced; if nobody is
 * polling, the next poll returns at once).
 * Thread: any. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_wakeup(chat_client* c);

/** Starts an SDK-owned loop thread (then do not call chat_client_poll).
 * \return CHAT_OK, CHAT_E_INVALID_STATE (already running), CHAT_E_MISUSE
 * Thread: any but the loop thread. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_run(chat_client* c);
/** Stops and joins the thread of chat_client_run (no-op when not running).
 * Thread: any but that thread. Ownership: none. Since: 0.1.0 */
CHAT_API chat_status chat_client_stop(chat_client* c);

/** Pulls the next event, in order.
 * \param[out] out the event, or NULL when none is ready (the status is still CHAT_OK)
 * Thread: any, one thread at a time. Ownership: *out is borrowed from c and
 * valid until the next chat_client_next_event or chat_client_destroy on c.
 * Since: 0.1.0 */
CHAT_API chat_status chat_client_next_event(chat_client* c, const chat_event** out);

/* ---- commands: outbox ops ------------------------------------------------
 * Each is committed to the local outbox before it returns (it survives a crash
 * and is sent when a connection is live). Progress arrives as CHAT_EVENT_OP
 * events carrying `tag` (queued, sending, sent, delivered, read, failed,
 * cancelled). `out_op` (may be NULL) receives the op id for chat_client_retry
 * and chat_client_cancel.
 * Return: CHAT_OK, CHAT_E_MISUSE, CHAT_E_INVALID_ARGUMENT / CHAT_E_OUT_OF_RANGE /
 * CHAT_E_BODY_TOO_LARGE (checked locally), CHAT_E_IO_ERROR (outbox write).
 * Thread: any. Ownership: every argument is copied. Since: 0.1.0 */

/** Sends a text message; opts may be NULL. */
CHAT_API chat_status chat_client_send_text(chat_client* c, const char* channel, const char* body,
                                           const chat_send_options* opts, uint64_t tag,
                                           int64_t* out_op);
/** Sends a reply to message parent_seq of the same channel. */
CHAT_API chat_status chat_client_reply(chat_client* c, const char* channel, uint64_t parent_seq,
                                       const char* body, uint64_t tag, int64_t* out_op);
/** Edits a message named by seq, or (seq 0) by the client_id of a message sent
 * from this device, which works before the server assigned a seq. metadata may be NULL. */
CHAT_API chat_status chat_client_edit(chat_client* c, const char* channel, uint64_t seq,
                                      const char* client_id, const char* body, const char* metadata,
                                      uint64_t tag, int64_t* out_op);
/** Deletes a message (named as for chat_client_edit). */
CHAT_API chat_status chat_client_delete(chat_client* c, const char* channel, uint64_t seq,
                                        const char* client_id, uint64_t tag, int64_t* out_op);
/** Adds (add != 0) or removes a reaction (message named as for chat_client_edit). */
CHAT_API chat_status chat_client_react(chat_client* c, const char* channel, uint64_t seq,
                                       const char* client_id, const char* emoji, int add,
                                       uint64_t tag, int64_t* out_op);
/** Moves the read cursor to seq (0 = newest); unread counts drop at once. */
CHAT_API chat_status chat_client_mark_read(chat_client* c, const char* channel, uint64_t seq,
                                           uint64_t tag, int64_t* out_op);
/** Creates a group channel; channel_id NULL/"" lets the server choose (see the
 * op's channel when it is sent). */
CHAT_API chat_status chat_client_create_group(chat_client* c, const char* channel_id,
                                              const char* name, const char* const* members,
                                              size_t member_count, int is_public, uint64_t tag,
                                              int64_t* out_op);
/** Creates (or finds) the direct channel with another user. */
CHAT_API chat_status chat_client_create_direct(chat_client* c, const char* other_user, uint64_t tag,
                                               int64_t* out_op);
/** Joins a public channel. Like every mutation it is queued (an op with `tag`);
 * it fails as an op with CHAT_E_NOT_FOUND or CHAT_E_PERMISSION_DENIED (not public).
 * Thread: any. Ownership: `channel` is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_join(chat_client* c, const char* channel, uint64_t tag,
                                      int64_t* out_op);
/** Adds users to a channel (owners and moderators). */
CHAT_API chat_status chat_client_invite(chat_client* c, const char* channel,
                                        const char* const* users, size_t user_count, uint64_t tag,
                                        int64_t* out_op);
/** Removes users from a channel. */
CHAT_API chat_status chat_client_remove_members(chat_client* c, const char* channel,
                                                const char* const* users, size_t user_count,
                                                uint64_t tag, int64_t* out_op);
/** Leaves a channel. */
CHAT_API chat_status chat_client_leave(chat_client* c, const char* channel, uint64_t tag,
                                       int64_t* out_op);
/** Renames a channel, changes its visibility or replaces its metadata (owners
 * and moderators; others get a failed op, CHAT_E_PERMISSION_DENIED). NULL
 * name / metadata and is_public < 0 leave a field unchanged; is_public 0/1
 * sets it; metadata is a JSON object ("" or "{}" clears it). At least one
 * field must be given (CHAT_E_INVALID_ARGUMENT). Since: 0.1.0 */
CHAT_API chat_status chat_client_update_channel(chat_client* c, const char* channel,
                                                const char* name, int is_public,
                                                const char* metadata, uint64_t tag,
                                                int64_t* out_op);
/** Sets a member's role (owners only; others get a failed op,
 * CHAT_E_PERMISSION_DENIED). Since: 0.1.0 */
CHAT_API chat_status chat_client_set_role(chat_client* c, const char* channel, const char* user,
                                          chat_role role, uint64_t tag, int64_t* out_op);
/** Sets this user's profile; NULL leaves a field unchanged. */
CHAT_API chat_status chat_client_set_profile(chat_client* c, const char* display_name,
                                             const char* avatar_url, uint64_t tag, int64_t* out_op);

/** Puts a failed op back in the queue. Its later events carry `tag` (0 keeps
 * the op's previous tag).
 * \return CHAT_OK, CHAT_E_NOT_FOUND, CHAT_E_INVALID_STATE, CHAT_E_MISUSE
 * Thread: any. Since: 0.1.0 */
CHAT_API chat_status chat_client_retry(chat_client* c, int64_t op, uint64_t tag);
/** Drops a queued or failed op (never one in flight); a CHAT_OP_CANCELLED event follows.
 * \return CHAT_OK, CHAT_E_NOT_FOUND, CHAT_E_INVALID_STATE, CHAT_E_MISUSE
 * Thread: any. Since: 0.1.0 */
CHAT_API chat_status chat_client_cancel(chat_client* c, int64_t op);

/* ---- commands: ephemeral ------------------------------------------------- */

/** Call on every keystroke; debounced (one "start" per 3 s, "stop" after 5 s
 * idle or on send). Nothing is sent or queued while offline.
 * Thread: any. Ownership: channel is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_typing(chat_client* c, const char* channel);
/** Says "stopped typing" now. Thread: any. Ownership: channel is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_typing_stop(chat_client* c, const char* channel);
/** Asks for the presence of users; answers arrive as CHAT_EVENT_PRESENCE, the
 * first one per user after this call carrying `tag`.
 * \return CHAT_OK, CHAT_E_NOT_CONNECTED, CHAT_E_INVALID_ARGUMENT, CHAT_E_MISUSE
 * Thread: any. Ownership: users are copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_query_presence(chat_client* c, const char* const* users,
                                                size_t user_count, uint64_t tag);
/** Asks for user profiles; the answer is one CHAT_EVENT_PROFILES carrying `tag`.
 * \return CHAT_OK, CHAT_E_NOT_CONNECTED, CHAT_E_INVALID_ARGUMENT, CHAT_E_MISUSE
 * Thread: any. Ownership: users are copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_fetch_profiles(chat_client* c, const char* const* users,
                                                size_t user_count, uint64_t tag);

/** Asks the server for one page of a channel's members, ascending by user id,
 * after the user id `after` (NULL or "" = from the start); limit 0 = server
 * default (100; at most 1000). The answer is one CHAT_EVENT_MEMBERS_PAGE
 * carrying `tag` (continue with chat_event_members_next_after while
 * chat_event_members_more is 1). A refused request (e.g. not a member) is
 * answered by a MEMBERS_PAGE too, with chat_event_status != CHAT_OK. Use it for large channels, whose cached chat_client_members
 * is incomplete. The cache is not changed.
 * \return CHAT_OK, CHAT_E_NOT_CONNECTED, CHAT_E_INVALID_ARGUMENT, CHAT_E_MISUSE
 * Thread: any. Ownership: strings are copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_list_members(chat_client* c, const char* channel,
                                              const char* after, uint32_t limit, uint64_t tag);

/* ---- view-models and history --------------------------------------------- */

/** Opens a channel's timeline: a CHAT_EVENT_TIMELINE_DIFF reset (last cached
 * messages + local echoes) follows, then diffs as things change.
 * \return CHAT_OK, CHAT_E_NOT_FOUND (channel not in the cache yet), CHAT_E_MISUSE
 * Thread: any. Ownership: channel is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_open_timeline(chat_client* c, const char* channel);
/** Stops the diffs of a timeline. Thread: any. Ownership: channel is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_close_timeline(chat_client* c, const char* channel);
/** Loads an older (or newer) page of an open timeline, from the cache or the
 * server; one CHAT_EVENT_HISTORY_LOADED carrying `tag` follows (the timeline
 * diffs carry the rows).
 * Thread: any. Ownership: channel is copied. Since: 0.1.0 */
CHAT_API chat_status chat_client_load_older(chat_client* c, const char* channel, uint64_t tag);
CHAT_API chat_status chat_client_load_newer(chat_client* c, const char* channel, uint64_t tag);

/* ---- queries (cache only, never network) ----------------------------------
 * Each returns an owned snapshot: free it with chat_list_destroy.
 * Thread: any. Ownership: caller owns *out. Since: 0.1.0 */

/** Channel list, newest activity first; read rows with chat_list_channel. */
CHAT_API chat_status chat_client_channels(chat_client* c, chat_list** out);
/** Up to `newest` latest cached messages of a channel, ascending; chat_list_message. */
CHAT_API chat_status chat_client_messages(chat_client* c, const char* channel, size_t newest,
                                          chat_list** out);
/** The timeline rows of a channel (messages + local echoes); chat_list_message,
 * chat_list_item_key, chat_list_item_state, chat_list_item_op. */
CHAT_API chat_status chat_client_timeline(chat_client* c, const char* channel, chat_list** out);
/** Members of a channel; chat_list_string (user id), chat_list_member_role,
 * chat_list_member_read_seq. */
CHAT_API chat_status chat_client_members(chat_client* c, const char* channel, chat_list** out);
/** Ops not yet final (queued, sending, failed, ...); chat_list_op. */
CHAT_API chat_status chat_client_pending_ops(chat_client* c, chat_list** out);
/** Users typing in a channel; chat_list_string. */
CHAT_API chat_status chat_client_typing_users(chat_client* c, const char* channel, chat_list** out);

/** Number of rows (0 for NULL). Thread: any. Since: 0.1.0 */
CHAT_API size_t chat_list_count(const chat_list* l);
/** Row i as a channel / message / op, or NULL when out of range or of another
 * kind. Ownership: borrowed, valid until chat_list_destroy(l). Since: 0.1.0 */
CHAT_API const chat_channel* chat_list_channel(const chat_list* l, size_t i);
CHAT_API const chat_message* chat_list_message(const chat_list* l, size_t i);
CHAT_API const chat_op* chat_list_op(const chat_list* l, size_t i);
/** Row i as a string (member / typing user id), or NULL. Since: 0.1.0 */
CHAT_API const char* chat_list_string(const chat_list* l, size_t i);
/** Timeline rows: stable key, op state of a local echo, its op id (0 = none). */
CHAT_API const char* chat_list_item_key(const chat_list* l, size_t i);
CHAT_API chat_op_state chat_list_item_state(const chat_list* l, size_t i);
CHAT_API int64_t chat_list_item_op(const chat_list* l, size_t i);
/** Member rows: role and read cursor. */
CHAT_API chat_role chat_list_member_role(const chat_list* l, size_t i);
CHAT_API uint64_t chat_list_member_read_seq(const chat_list* l, size_t i);
/** The whole list as JSON (an array). Ownership: free *out with chat_free. */
CHAT_API chat_status chat_list_to_json(const chat_list* l, char** out);
/** DESTRUCTOR: frees the snapshot; NULL is a no-op. Thread: any. Since: 0.1.0 */
CHAT_API void chat_list_destroy(chat_list* l);

/* ---- events ---------------------------------------------------------------
 * Accessors of a borrowed chat_event. Thread: any (the thread that owns the
 * event). Ownership: returned strings and views are borrowed from the event.
 * Since: 0.1.0 */

/** The event's type; CHAT_EVENT_NONE for NULL. */
CHAT_API chat_event_type_t chat_event_type(const chat_event* ev);
/** The tag of the command this event completes; 0 for unsolicited events. */
CHAT_API uint64_t chat_event_tag(const chat_event* ev);
/** The channel of a TIMELINE_DIFF, TYPING, RECEIPT, HISTORY_LOADED or
 * MEMBERS_PAGE event. */
CHAT_API const char* chat_event_channel(const chat_event* ev);
/** CONNECTION: the reason the connection ended; ERROR: the error; OP: the
 * failure of a failed op; MEMBERS_PAGE: why the request was refused.
 * CHAT_OK otherwise. */
CHAT_API chat_status chat_event_status(const chat_event* ev);
/** Human detail for CONNECTION / ERROR / a failed OP ("" when none). */
CHAT_API const char* chat_event_detail(const chat_event* ev);

/** CONNECTION: the new state, and the next reconnect in ms (-1 = none planned). */
CHAT_API chat_connection_state chat_event_connection_state(const chat_event* ev);
CHAT_API int64_t chat_event_retry_in_ms(const chat_event* ev);

/** CHANNEL_LIST_DIFF / TIMELINE_DIFF: apply ops in order to the list you hold. */
CHAT_API size_t chat_event_diff_count(const chat_event* ev);
CHAT_API chat_diff_kind chat_event_diff_kind(const chat_event* ev, size_t op);
CHAT_API size_t chat_event_diff_index(const chat_event* ev, size_t op);
/** The row key an insert/update/remove is about ("" for reset). */
CHAT_API const char* chat_event_diff_key(const chat_event* ev, size_t op);
/** Items an op carries: reset n, insert/update 1, remove 0. */
CHAT_API size_t chat_event_diff_item_count(const chat_event* ev, size_t op);
/** Item `item` of op `op`: a message (TIMELINE_DIFF) or a channel (CHANNEL_LIST_DIFF). */
CHAT_API const chat_message* chat_event_diff_message(const chat_event* ev, size_t op, size_t item);
CHAT_API const chat_channel* chat_event_diff_channel(const chat_event* ev, size_t op, size_t item);
/** TIMELINE_DIFF items: stable row key, local-echo op state and op id (0 = none). */
CHAT_API const char* chat_event_diff_item_key(const chat_event* ev, size_t op, size_t item);
CHAT_API chat_op_state chat_event_diff_item_state(const chat_event* ev, size_t op, size_t item);
CHAT_API int64_t chat_event_diff_item_op(const chat_event* ev, size_t op, size_t item);

/** OP: the op. */
CHAT_API const chat_op* chat_event_op(const chat_event* ev);

/** TYPING: the users now typing; PROFILES: the users described; PRESENCE and
 * RECEIPT: one user; MEMBERS_PAGE: the members of the page, in order. */
CHAT_API size_t chat_event_user_count(const chat_event* ev);
CHAT_API const char* chat_event_user(const chat_event* ev, size_t i);
/** PROFILES: fields of user i. */
CHAT_API const char* chat_event_profile_display_name(const chat_event* ev, size_t i);
CHAT_API const char* chat_event_profile_avatar_url(const chat_event* ev, size_t i);
CHAT_API const char* chat_event_profile_metadata(const chat_event* ev, size_t i);
/** PRESENCE: online (1/0) and last seen (ms since the epoch). */
CHAT_API int chat_event_presence_online(const chat_event* ev);
CHAT_API int64_t chat_event_presence_last_seen(const chat_event* ev);
/** RECEIPT: the user's read and delivered positions. */
CHAT_API uint64_t chat_event_receipt_read_seq(const chat_event* ev);
CHAT_API uint64_t chat_event_receipt_delivered_seq(const chat_event* ev);
/** HISTORY_LOADED: rows loaded and whether more exist before / after. */
CHAT_API size_t chat_event_history_count(const chat_event* ev);
CHAT_API int chat_event_history_more_before(const chat_event* ev);
CHAT_API int chat_event_history_more_after(const chat_event* ev);
/** MEMBERS_PAGE: role and read cursor of member i (read cursors only in small
 * channels), whether more members follow, and the user id to pass as `after`
 * for the next page ("" for an empty page). */
CHAT_API chat_role chat_event_member_role(const chat_event* ev, size_t i);
CHAT_API uint64_t chat_event_member_read_seq(const chat_event* ev, size_t i);
CHAT_API int chat_event_members_more(const chat_event* ev);
CHAT_API const char* chat_event_members_next_after(const chat_event* ev);
/** CACHE_EVICTED: messages dropped and cache bytes before / after. */
CHAT_API uint64_t chat_event_evicted_messages(const chat_event* ev);
CHAT_API uint64_t chat_event_evicted_bytes_before(const chat_event* ev);
CHAT_API uint64_t chat_event_evicted_bytes_after(const chat_event* ev);

/** The whole event as one JSON object ({"type":"timeline_diff","tag":0,...});
 * the format is documented in docs/bindings.md.
 * \return CHAT_OK, CHAT_E_MISUSE
 * Thread: any. Ownership: caller owns *out; free with chat_free. Since: 0.1.0 */
CHAT_API chat_status chat_event_to_json(const chat_event* ev, char** out);

/* ---- messages, channels, ops (borrowed views) ------------------------------
 * Thread: any. Ownership: strings borrowed from the view's owner. NULL view:
 * 0 / NULL. Since: 0.1.0 */

CHAT_API const char* chat_message_channel(const chat_message* m);
CHAT_API uint64_t chat_message_seq(const chat_message* m); /**< 0 while a local echo */
CHAT_API uint64_t chat_message_version(const chat_message* m);
CHAT_API const char* chat_message_sender(const chat_message* m);
CHAT_API const char* chat_message_client_id(const chat_message* m);
CHAT_API const char* chat_message_body(const chat_message* m); /**< "" when deleted */
CHAT_API int64_t chat_message_created_at(const chat_message* m);
CHAT_API int64_t chat_message_edited_at(const chat_message* m); /**< 0 = never */
CHAT_API int chat_message_deleted(const chat_message* m);
CHAT_API uint64_t chat_message_reply_to(const chat_message* m);
CHAT_API uint32_t chat_message_reply_count(const chat_message* m);
CHAT_API const char* chat_message_metadata(const chat_message* m); /**< JSON or "" */
CHAT_API size_t chat_message_reaction_count(const chat_message* m);
CHAT_API const char* chat_message_reaction_emoji(const chat_message* m, size_t i);
CHAT_API uint32_t chat_message_reaction_users(const chat_message* m, size_t i);
CHAT_API int chat_message_reaction_mine(const chat_message* m, size_t i);
CHAT_API size_t chat_message_mention_count(const chat_message* m);
CHAT_API const char* chat_message_mention(const chat_message* m, size_t i);

CHAT_API const char* chat_channel_id(const chat_channel* ch);
CHAT_API chat_channel_kind chat_channel_get_kind(const chat_channel* ch);
CHAT_API const char* chat_channel_name(const chat_channel* ch);
CHAT_API int chat_channel_is_public(const chat_channel* ch);
CHAT_API const char* chat_channel_created_by(const chat_channel* ch);
CHAT_API int64_t chat_channel_created_at(const chat_channel* ch);
CHAT_API uint32_t chat_channel_member_count(const chat_channel* ch);
CHAT_API chat_role chat_channel_role(const chat_channel* ch);
CHAT_API const char* chat_channel_metadata(const chat_channel* ch);
CHAT_API uint64_t chat_channel_last_seq(const chat_channel* ch);
CHAT_API uint64_t chat_channel_read_seq(const chat_channel* ch);
CHAT_API uint64_t chat_channel_delivered_seq(const chat_channel* ch);
CHAT_API uint32_t chat_channel_unread(const chat_channel* ch);
CHAT_API uint32_t chat_channel_mentions(const chat_channel* ch);
/** Preview of the newest message, or NULL. */
CHAT_API const chat_message* chat_channel_last_message(const chat_channel* ch);
CHAT_API int64_t chat_channel_last_activity(const chat_channel* ch);

CHAT_API int64_t chat_op_id(const chat_op* op);
CHAT_API chat_op_kind chat_op_get_kind(const chat_op* op);
CHAT_API chat_op_state chat_op_get_state(const chat_op* op);
CHAT_API const char* chat_op_channel(const chat_op* op); /**< "" when none */
CHAT_API const char* chat_op_client_id(const chat_op* op);
/** send: the message's seq once sent; edit/delete/react: the target's seq. */
CHAT_API uint64_t chat_op_seq(const chat_op* op);
/** While failed: the failure (CHAT_OK otherwise), whether retry may succeed,
 * and the server's reason. */
CHAT_API chat_status chat_op_failure(const chat_op* op);
CHAT_API int chat_op_failure_retryable(const chat_op* op);
CHAT_API const char* chat_op_failure_reason(const chat_op* op);
CHAT_API int64_t chat_op_created_at(const chat_op* op);

#ifdef __cplusplus
}
#endif

#endif /* CHATSDK_H */
