package dev.chatsdk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One event, copied out of the library (safe to keep). Concrete classes are
 * nested; {@link #data()} keeps the full JSON rendering (docs/bindings.md) for
 * fields a class does not name.
 */
public abstract class ChatEvent {
  /** "connection", "channel_list_diff", "timeline_diff", "op", "typing", "presence",
   *  "receipt", "profiles", "cache_evicted", "history_loaded", "error" or "members_page". */
  public final String type;
  /** The tag of the command this event completes; 0 for unsolicited events. */
  public final long tag;
  private final Map<String, Object> data;

  ChatEvent(Map<String, Object> m) {
    this.data = Collections.unmodifiableMap(m);
    this.type = Fields.str(m, "type");
    this.tag = Fields.num(m, "tag");
  }

  /** The parsed JSON object (Map / List / String / Long / Double / Boolean / null). */
  public Map<String, Object> data() { return data; }

  @Override
  public String toString() { return getClass().getSimpleName() + data; }

  /** Parses one chat_event_to_json rendering. */
  static ChatEvent fromJson(String json) {
    Map<String, Object> m = Json.object(json);
    switch (Fields.str(m, "type")) {
      case "connection": return new Connection(m);
      case "channel_list_diff": return new ChannelListDiff(m);
      case "timeline_diff": return new TimelineDiff(m);
      case "op": return new OpChanged(m);
      case "typing": return new Typing(m);
      case "presence": return new Presence(m);
      case "receipt": return new Receipt(m);
      case "profiles": return new Profiles(m);
      case "cache_evicted": return new CacheEvicted(m);
      case "history_loaded": return new HistoryLoaded(m);
      case "error": return new Error(m);
      case "members_page": return new MembersPage(m);
      default: return new Other(m);
    }
  }

  /** The connection state changed. */
  public static final class Connection extends ChatEvent {
    /** "disconnected", "connecting", "authenticating", "syncing" or "live". */
    public final String state;
    /** Why the connection ended (status name; "ok" otherwise) and detail. */
    public final String code;
    public final String detail;
    /** Next reconnect in ms, -1 = none planned. */
    public final long retryInMs;

    Connection(Map<String, Object> m) {
      super(m);
      state = Fields.str(m, "state");
      code = Fields.str(m, "code");
      detail = Fields.str(m, "detail");
      retryInMs = Fields.num(m, "retry_in_ms");
    }

    public boolean isLive() { return state.equals("live"); }
  }

  /** One op of a view-model diff: apply the ops of an event in order. */
  public static final class DiffOp<T> {
    /** "reset" (replace everything with items), "insert" / "update" (one item at index), "remove". */
    public final String kind;
    public final int index;
    /** The row key (insert/update/remove; "" for reset). */
    public final String key;
    /** Row keys of the items, parallel to items. */
    public final List<String> itemKeys;
    public final List<T> items;
    /** Timeline rows only: local-echo op states and op ids (0 = none), parallel to items. */
    public final List<String> itemStates;
    public final List<Long> itemOps;

    DiffOp(String kind, int index, String key, List<String> itemKeys, List<T> items,
        List<String> itemStates, List<Long> itemOps) {
      this.kind = kind;
      this.index = index;
      this.key = key;
      this.itemKeys = Collections.unmodifiableList(itemKeys);
      this.items = Collections.unmodifiableList(items);
      this.itemStates = Collections.unmodifiableList(itemStates);
      this.itemOps = Collections.unmodifiableList(itemOps);
    }
  }

  /** The channel list changed. */
  public static final class ChannelListDiff extends ChatEvent {
    public final List<DiffOp<Channel>> ops;

    ChannelListDiff(Map<String, Object> m) {
      super(m);
      List<DiffOp<Channel>> out = new ArrayList<>();
      for (Map<String, Object> o : Fields.objs(m, "ops")) {
        List<String> keys = new ArrayList<>();
        List<Channel> items = new ArrayList<>();
        for (Map<String, Object> it : Fields.objs(o, "items")) {
          keys.add(Fields.str(it, "key"));
          Map<String, Object> ch = Fields.obj(it, "channel");
          items.add(new Channel(ch == null ? Map.of() : ch));
        }
        out.add(new DiffOp<>(Fields.str(o, "kind"), (int) Fields.num(o, "index"), Fields.str(o, "key"),
            keys, items, List.of(), List.of()));
      }
      ops = Collections.unmodifiableList(out);
    }

    /** Every channel this diff inserts or updates (reset: all of them). */
    public List<Channel> channels() {
      List<Channel> out = new ArrayList<>();
      for (DiffOp<Channel> o : ops) out.addAll(o.items);
      return out;
    }
  }

  /** The timeline of an open channel changed. */
  public static final class TimelineDiff extends ChatEvent {
    public final String channel;
    public final List<DiffOp<Message>> ops;

    TimelineDiff(Map<String, Object> m) {
      super(m);
      channel = Fields.str(m, "channel");
      List<DiffOp<Message>> out = new ArrayList<>();
      for (Map<String, Object> o : Fields.objs(m, "ops")) {
        List<String> keys = new ArrayList<>();
        List<Message> items = new ArrayList<>();
        List<String> states = new ArrayList<>();
        List<Long> opIds = new ArrayList<>();
        for (Map<String, Object> it : Fields.objs(o, "items")) {
          keys.add(Fields.str(it, "key"));
          Map<String, Object> msg = Fields.obj(it, "message");
          items.add(new Message(msg == null ? Map.of() : msg));
          states.add(Fields.str(it, "state"));
          opIds.add(Fields.num(it, "op"));
        }
        out.add(new DiffOp<>(Fields.str(o, "kind"), (int) Fields.num(o, "index"), Fields.str(o, "key"),
            keys, items, states, opIds));
      }
      ops = Collections.unmodifiableList(out);
    }

    /** Every message this diff inserts or updates (reset: all of them). */
    public List<Message> messages() {
      List<Message> out = new ArrayList<>();
      for (DiffOp<Message> o : ops) out.addAll(o.items);
      return out;
    }
  }

  /** An outbox op changed state. */
  public static final class OpChanged extends ChatEvent {
    public final Op op;

    OpChanged(Map<String, Object> m) {
      super(m);
      Map<String, Object> o = Fields.obj(m, "op");
      op = new Op(o == null ? Map.of() : o);
    }
  }

  /** The typing users of a channel changed. */
  public static final class Typing extends ChatEvent {
    public final String channel;
    public final List<String> users;

    Typing(Map<String, Object> m) {
      super(m);
      channel = Fields.str(m, "channel");
      users = Fields.strs(m, "users");
    }
  }

  /** A user's presence changed (or a queryPresence answer). */
  public static final class Presence extends ChatEvent {
    public final String user;
    public final boolean online;
    /** ms since the epoch. */
    public final long lastSeen;

    Presence(Map<String, Object> m) {
      super(m);
      user = Fields.str(m, "user");
      online = Fields.bool(m, "online");
      lastSeen = Fields.num(m, "last_seen");
    }
  }

  /** Another member's read / delivered position. */
  public static final class Receipt extends ChatEvent {
    public final String channel;
    public final String user;
    public final long readSeq;
    public final long deliveredSeq;

    Receipt(Map<String, Object> m) {
      super(m);
      channel = Fields.str(m, "channel");
      user = Fields.str(m, "user");
      readSeq = Fields.num(m, "read_seq");
      deliveredSeq = Fields.num(m, "delivered_seq");
    }
  }

  /** User profiles arrived (a fetchProfiles answer). */
  public static final class Profiles extends ChatEvent {
    /** One profile. */
    public static final class Profile {
      public final String id;
      public final String displayName;
      public final String avatarUrl;
      public final String metadata;

      Profile(Map<String, Object> m) {
        id = Fields.str(m, "id");
        displayName = Fields.str(m, "display_name");
        avatarUrl = Fields.str(m, "avatar_url");
        metadata = Fields.str(m, "metadata");
      }
    }

    public final List<Profile> users;

    Profiles(Map<String, Object> m) {
      super(m);
      List<Profile> out = new ArrayList<>();
      for (Map<String, Object> u : Fields.objs(m, "users")) out.add(new Profile(u));
      users = Collections.unmodifiableList(out);
    }
  }

  /** Old history was dropped to stay under the cache cap. */
  public static final class CacheEvicted extends ChatEvent {
    public final long messages;
    public final long bytesBefore;
    public final long bytesAfter;

    CacheEvicted(Map<String, Object> m) {
      super(m);
      messages = Fields.num(m, "messages");
      bytesBefore = Fields.num(m, "bytes_before");
      bytesAfter = Fields.num(m, "bytes_after");
    }
  }

  /** Result of loadOlder / loadNewer (the rows arrive as timeline diffs). */
  public static final class HistoryLoaded extends ChatEvent {
    public final String channel;
    public final long count;
    public final boolean moreBefore;
    public final boolean moreAfter;

    HistoryLoaded(Map<String, Object> m) {
      super(m);
      channel = Fields.str(m, "channel");
      count = Fields.num(m, "count");
      moreBefore = Fields.bool(m, "more_before");
      moreAfter = Fields.bool(m, "more_after");
    }
  }

  /** A failure not tied to an op. */
  public static final class Error extends ChatEvent {
    /** The status name, its number and the detail. */
    public final String code;
    public final int status;
    public final String detail;

    Error(Map<String, Object> m) {
      super(m);
      code = Fields.str(m, "code");
      status = (int) Fields.num(m, "status");
      detail = Fields.str(m, "detail");
    }
  }

  /**
   * One page of a channel's members: the answer to {@link ChatClient#listMembers}
   * (one per request, carrying its tag). Continue with {@link #nextAfter} while
   * {@link #more}. A refused request is answered by a page without members
   * whose {@link #code} names the error ({@code "not_member"}, ...).
   */
  public static final class MembersPage extends ChatEvent {
    public final String channel;
    /** In ascending user id order; read cursors only in small channels. */
    public final List<ChatClient.Member> members;
    /** True when more members follow this page. */
    public final boolean more;
    /** The user id to pass as {@code after} for the next page ("" for an empty page). */
    public final String nextAfter;
    /** "ok", or the status name of the refusal; its number and detail. */
    public final String code;
    public final int status;
    public final String detail;

    MembersPage(Map<String, Object> m) {
      super(m);
      channel = Fields.str(m, "channel");
      List<ChatClient.Member> out = new ArrayList<>();
      for (Map<String, Object> u : Fields.objs(m, "members")) out.add(new ChatClient.Member(u));
      members = Collections.unmodifiableList(out);
      more = Fields.bool(m, "more");
      nextAfter = Fields.str(m, "next_after");
      code = Fields.str(m, "code");
      status = (int) Fields.num(m, "status");
      detail = Fields.str(m, "detail");
    }

    /** True unless the request was refused. */
    public boolean isOk() { return status == 0; }
  }

  /** An event type newer than this wrapper (the library is append-only). */
  public static final class Other extends ChatEvent {
    Other(Map<String, Object> m) { super(m); }
  }
}
