package dev.chatsdk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** A message (copied out of the library; immutable). Times are ms since the epoch. */
public final class Message {
  /** One reaction: emoji, number of users, whether this user is one of them. */
  public static final class Reaction {
    public final String emoji;
    public final long count;
    public final boolean mine;

    Reaction(Map<String, Object> m) {
      emoji = Fields.str(m, "emoji");
      count = Fields.num(m, "count");
      mine = Fields.bool(m, "mine");
    }
  }

  public final String channel;
  /** 0 while a local echo not yet accepted by the server. */
  public final long seq;
  public final long version;
  public final String sender;
  public final String clientId;
  /** "" when deleted. */
  public final String body;
  public final long createdAt;
  /** 0 = never edited. */
  public final long editedAt;
  public final boolean deleted;
  public final long replyTo;
  public final long replyCount;
  public final List<Reaction> reactions;
  public final List<String> mentions;
  /** JSON object text or "". */
  public final String metadata;

  Message(Map<String, Object> m) {
    channel = Fields.str(m, "channel");
    seq = Fields.num(m, "seq");
    version = Fields.num(m, "version");
    sender = Fields.str(m, "sender");
    clientId = Fields.str(m, "client_id");
    body = Fields.str(m, "body");
    createdAt = Fields.num(m, "created_at");
    editedAt = Fields.num(m, "edited_at");
    deleted = Fields.bool(m, "deleted");
    replyTo = Fields.num(m, "reply_to");
    replyCount = Fields.num(m, "reply_count");
    List<Reaction> r = new ArrayList<>();
    for (Map<String, Object> o : Fields.objs(m, "reactions")) r.add(new Reaction(o));
    reactions = Collections.unmodifiableList(r);
    mentions = Fields.strs(m, "mentions");
    metadata = Fields.str(m, "metadata");
  }

  @Override
  public String toString() {
    return "Message{" + channel + "#" + seq + " " + sender + ": " + body + "}";
  }
}
