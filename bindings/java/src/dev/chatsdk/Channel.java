package dev.chatsdk;

import java.util.Map;

/** A channel row of the channel list (copied out of the library; immutable). */
public final class Channel {
  public final String id;
  /** "direct", "group" or "large". */
  public final String kind;
  public final String name;
  public final boolean isPublic;
  public final String createdBy;
  public final long createdAt;
  public final long memberCount;
  /** "member", "moderator" or "owner". */
  public final String role;
  public final String metadata;
  public final long lastSeq;
  public final long readSeq;
  public final long deliveredSeq;
  public final long unread;
  public final long mentions;
  /** Preview of the newest message, or null. */
  public final Message lastMessage;
  public final long lastActivity;

  Channel(Map<String, Object> m) {
    id = Fields.str(m, "id");
    kind = Fields.str(m, "kind");
    name = Fields.str(m, "name");
    isPublic = Fields.bool(m, "is_public");
    createdBy = Fields.str(m, "created_by");
    createdAt = Fields.num(m, "created_at");
    memberCount = Fields.num(m, "member_count");
    role = Fields.str(m, "role");
    metadata = Fields.str(m, "metadata");
    lastSeq = Fields.num(m, "last_seq");
    readSeq = Fields.num(m, "read_seq");
    deliveredSeq = Fields.num(m, "delivered_seq");
    unread = Fields.num(m, "unread");
    mentions = Fields.num(m, "mentions");
    Map<String, Object> lm = Fields.obj(m, "last_message");
    lastMessage = lm == null ? null : new Message(lm);
    lastActivity = Fields.num(m, "last_activity");
  }

  @Override
  public String toString() {
    return "Channel{" + id + " " + kind + " \"" + name + "\" unread=" + unread + "}";
  }
}
