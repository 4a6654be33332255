package dev.chatsdk;

import java.util.Map;

/** An outbox op's state (copied out of the library; immutable). */
public final class Op {
  public final long id;
  /** "send", "edit", "delete", "react", "unreact", "mark_read", "channel_create",
   *  "members_add", "members_remove", "profile_set", "join", "channel_update" or
   *  "member_role" (the C API's chat_op_kind, by name). */
  public final String kind;
  /** "queued", "sending", "sent", "delivered", "read", "failed" or "cancelled". */
  public final String state;
  public final String channel;
  public final String clientId;
  /** send: the message's seq once sent; edit/delete/react: the target's seq. */
  public final long seq;
  /** While failed: the status name ("not_member", ...), else null. */
  public final String failureCode;
  public final boolean failureRetryable;
  public final String failureReason;
  public final long createdAt;

  Op(Map<String, Object> m) {
    id = Fields.num(m, "id");
    kind = Fields.str(m, "kind");
    state = Fields.str(m, "state");
    channel = Fields.str(m, "channel");
    clientId = Fields.str(m, "client_id");
    seq = Fields.num(m, "seq");
    Map<String, Object> f = Fields.obj(m, "failure");
    failureCode = f == null ? null : Fields.str(f, "code");
    failureRetryable = f != null && Fields.bool(f, "retryable");
    failureReason = f == null ? "" : Fields.str(f, "reason");
    createdAt = Fields.num(m, "created_at");
  }

  /** True for a state no later event changes (sent and beyond, failed, cancelled). */
  public boolean isSettled() {
    return !state.equals("queued") && !state.equals("sending");
  }

  @Override
  public String toString() {
    return "Op{" + id + " " + kind + " " + state + (failureCode != null ? " " + failureCode : "") + "}";
  }
}
