/* chatsdk_status.h - GENERATED from include/chatsdk/errc_list.inc by
 * bindings/c/tools/gen_status.cmake. Do not edit: change errc_list.inc and run
 * `cmake --build <dir> --target chatsdk_c_gen_status`.
 *
 * chat_status is append-only: numbers are never renumbered or reused. They are
 * the numbers of chatsdk::Errc (C++) and the codes of the wire protocol.
 * Since: 0.1.0
 */
#ifndef CHATSDK_STATUS_H
#define CHATSDK_STATUS_H

typedef enum chat_status {
  CHAT_OK = 0, /**< Success. */
  CHAT_E_INTERNAL = 1, /**< Unexpected failure inside the server or library; report it. */
  CHAT_E_INVALID_ARGUMENT = 2, /**< A request or API call combines arguments in a way that is not allowed. */
  CHAT_E_MALFORMED_FRAME = 3, /**< The frame is not valid JSON or not a JSON object. */
  CHAT_E_UNKNOWN_TYPE = 4, /**< The frame's `type` is not one this peer accepts. */
  CHAT_E_MISSING_FIELD = 5, /**< A required field is absent. */
  CHAT_E_WRONG_TYPE = 6, /**< A field has the wrong JSON type. */
  CHAT_E_INVALID_UTF8 = 7, /**< The frame contains bytes that are not valid UTF-8. */
  CHAT_E_FRAME_TOO_LARGE = 8, /**< The WebSocket message exceeds the peer's frame size limit. */
  CHAT_E_TOO_DEEP = 9, /**< JSON nesting exceeds the depth limit. */
  CHAT_E_OUT_OF_RANGE = 10, /**< A value is outside its allowed range, length, count or character set. */
  CHAT_E_BODY_TOO_LARGE = 11, /**< The message body or metadata exceeds its size limit. */
  CHAT_E_UNAUTHENTICATED = 12, /**< A frame other than hello arrived before authentication. */
  CHAT_E_AUTH_FAILED = 13, /**< The token is malformed, forged, signed with another key or algorithm. */
  CHAT_E_TOKEN_EXPIRED = 14, /**< The token's `exp` has passed; get a fresh token and reconnect. */
  CHAT_E_TOKEN_NOT_YET_VALID = 15, /**< The token's `nbf`/`iat` lies in the future. */
  CHAT_E_UNSUPPORTED_PROTOCOL = 16, /**< The protocol version in hello is not supported. */
  CHAT_E_NOT_MEMBER = 17, /**< The user is not a member of the channel. */
  CHAT_E_NOT_FOUND = 18, /**< The channel, message or user does not exist. */
  CHAT_E_PERMISSION_DENIED = 19, /**< The user's role does not allow this (e.g. editing another's message). */
  CHAT_E_ALREADY_EXISTS = 20, /**< A channel with that id already exists. */
  CHAT_E_RATE_LIMITED = 21, /**< Too many requests; retry after `retry_after_ms`. */
  CHAT_E_STORAGE_FAILED = 22, /**< The server could not commit (disk full, I/O error); nothing was stored. */
  CHAT_E_UNAVAILABLE = 23, /**< The service is shutting down or not reachable now. */
  CHAT_E_MESSAGE_DELETED = 24, /**< The message is deleted; it cannot be edited or reacted to. */
  CHAT_E_TIMEOUT = 25, /**< The operation did not complete in time. */
  CHAT_E_CANCELLED = 26, /**< The operation was cancelled by the application. */
  CHAT_E_SLOW_CONSUMER = 27, /**< The connection fell too far behind and was closed; resync. */
  CHAT_E_MISUSE = 28, /**< API misuse: NULL or destroyed handle, wrong thread, wrong state. */
  CHAT_E_NOT_CONNECTED = 29, /**< The client has no live connection for a request that needs one. */
  CHAT_E_STORAGE_FULL = 30, /**< The local cache hit its size cap and nothing more could be evicted. */
  CHAT_E_INVALID_STATE = 31, /**< The object is in a state that does not allow the call. */
  CHAT_E_LIMIT_EXCEEDED = 32, /**< A count limit was reached (members per channel, channels per user). */
  CHAT_E_IO_ERROR = 33, /**< A local I/O operation failed (SQLite, socket). */
  /* Not a status: makes the enum span every int, so any value a newer
   * library returns (or a caller passes) is a valid chat_status. */
  CHAT_STATUS_FORCE_INT = 0x7FFFFFFF
} chat_status;

#endif /* CHATSDK_STATUS_H */
