package dev.chatsdk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One user's chat session over the C API (chat_client): a local SQLite cache
 * and outbox plus at most one WebSocket connection.
 *
 * <p>Threads: commands and queries may be called from any thread. A thread
 * owned by this object drives the library (chat_client_poll) and hands every
 * event, in order, to the listeners on the executor chosen with
 * {@link Builder#executor} (default: that event thread itself; use a serial
 * executor, e.g. the UI thread's, to keep the order). {@link #close()} stops
 * the thread and frees the client; queued ops stay in the database and are sent
 * by the next client opened on it.
 *
 * <p>Errors: every failing call throws {@link ChatException} carrying the
 * status name ({@code "invalid_argument"}, {@code "not_connected"},
 * {@code "misuse"} after close, ...).
 *
 * <p>Outbox commands (send, edit, delete, react, markRead, createGroup, join,
 * updateChannel, setRole, ...)
 * are committed locally before they return and return the op id (for
 * {@link #retry} / {@link #cancel}); their progress arrives as
 * {@link ChatEvent.OpChanged} events carrying the caller's {@code tag}.
 */
public final class ChatClient implements AutoCloseable {
  /** Optional parts of a message: reply parent, mentions, metadata JSON. */
  public static final class SendOptions {
    long replyTo;
    String[] mentions = new String[0];
    String metadata;

    public SendOptions replyTo(long parentSeq) { this.replyTo = parentSeq; return this; }

    public SendOptions mentions(List<String> users) {
      this.mentions = users.toArray(new String[0]);
      return this;
    }

    /** A compact JSON object. */
    public SendOptions metadata(String json) { this.metadata = json; return this; }
  }

  /** A channel member: user id, role ("member", "moderator", "owner"), read cursor
   *  (a {@link #members} row, or one of a {@link ChatEvent.MembersPage}). */
  public static final class Member {
    public final String user;
    public final String role;
    public final long readSeq;

    Member(Map<String, Object> m) {
      user = Fields.str(m, "user");
      role = Fields.str(m, "role");
      readSeq = Fields.num(m, "read_seq");
    }
  }

  /** Options of a new client; {@link #build()} opens the cache (no network yet). */
  public static final class Builder {
    private final String serverUrl;
    private final String databasePath;
    private String token;
    private TokenProvider tokenProvider;
    private String deviceId;
    private int historyPage;
    private int heartbeatMs;
    private int backoffInitialMs;
    private int backoffMaxMs;
    private long cacheCapBytes;
    private int pollIntervalMs = 100;
    private Executor executor = Runnable::run;
    private final List<ChatListener> listeners = new ArrayList<>();

    /** @param serverUrl ws:// or wss:// URL; @param databasePath cache file or ":memory:" */
    public Builder(String serverUrl, String databasePath) {
      this.serverUrl = Objects.requireNonNull(serverUrl, "serverUrl");
      this.databasePath = Objects.requireNonNull(databasePath, "databasePath");
    }

    /** The JWT used to connect (replace it later with {@link ChatClient#setToken}). */
    public Builder token(String jwt) { this.token = jwt; return this; }

    /** Asked for a token on every connect and when the current one expired
     *  (on the event thread; keep it fast, return a cached token). */
    public Builder tokenProvider(TokenProvider p) { this.tokenProvider = p; return this; }

    public Builder deviceId(String id) { this.deviceId = id; return this; }

    /** Messages per loadOlder / loadNewer page (0 = library default). */
    public Builder historyPage(int n) { this.historyPage = n; return this; }

    /** 0 = the server's interval. */
    public Builder heartbeatMs(int ms) { this.heartbeatMs = ms; return this; }

    public Builder backoff(int initialMs, int maxMs) {
      this.backoffInitialMs = initialMs;
      this.backoffMaxMs = maxMs;
      return this;
    }

    /** 0 = unlimited; only old synced history is evicted. */
    public Builder cacheCapBytes(long bytes) { this.cacheCapBytes = bytes; return this; }

    /** Longest time the event thread blocks in one poll; commands wake it at once anyway. */
    public Builder pollIntervalMs(int ms) { this.pollIntervalMs = Math.max(1, ms); return this; }

    /** Where listener methods run. Should be serial to keep event order. */
    public Builder executor(Executor e) { this.executor = Objects.requireNonNull(e); return this; }

    /** Registered before the first event (the cache's channel-list reset) is delivered. */
    public Builder listener(ChatListener l) { this.listeners.add(Objects.requireNonNull(l)); return this; }

    /** Creates the client and starts its event thread.
     *  @throws ChatException invalid_argument (URL), io_error (cache), ... */
    public ChatClient build() { return new ChatClient(this); }
  }

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final List<ChatListener> listeners = new CopyOnWriteArrayList<>();
  private final Executor executor;
  private final int pollIntervalMs;
  private final Thread loop;
  private volatile long handle;
  private final long tokenContext;  // the TokenProvider's native side, freed after destroy
  private volatile boolean stopping;
  private volatile boolean destroyOnExit;
  private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

  private ChatClient(Builder b) {
    tokenContext = b.tokenProvider != null ? Native.tokenContextCreate(b.tokenProvider) : 0;
    try {
      handle = Native.create(b.serverUrl, b.databasePath, b.deviceId, b.token, b.historyPage,
          b.heartbeatMs, b.backoffInitialMs, b.backoffMaxMs, b.cacheCapBytes, tokenContext);
    } catch (RuntimeException e) {
      Native.tokenContextFree(tokenContext);
      throw e;
    }
    executor = b.executor;
    pollIntervalMs = b.pollIntervalMs;
    listeners.addAll(b.listeners);
    loop = new Thread(this::runLoop, "chatsdk-events");
    loop.setDaemon(true);
    loop.start();
  }

  /** The linked library's version ("major.minor.patch"). */
  public static String libraryVersion() { return Native.version(); }

  /** The stable name of a status number ("not_member"). */
  public static String statusName(int status) { return Native.statusName(status); }

  public void addListener(ChatListener l) { listeners.add(Objects.requireNonNull(l)); }

  public void removeListener(ChatListener l) { listeners.remove(l); }

  // ---- the event thread ---------------------------------------------------------------

  private void runLoop() {
    try {
      while (!stopping) {
        Native.poll(handle, pollIntervalMs);
        String json;
        while (!stopping && (json = Native.nextEventJson(handle)) != null) {
          ChatEvent ev;
          try {
            ev = ChatEvent.fromJson(json);
          } catch (IllegalArgumentException bad) {  // a rendering this reader cannot parse: skip it
            fail(bad);
            continue;
          }
          dispatch(ev);
        }
      }
    } catch (RuntimeException e) {
      if (!stopping) fail(e);
    } finally {
      // close() called from a listener running on this thread: finish it here.
      if (destroyOnExit) destroyHandle();
    }
  }

  private void fail(Throwable e) {
    post(() -> {
      for (ChatListener l : listeners) l.onListenerFailure(e);
    });
  }

  /** Hands a task to the app's executor; one that was shut down drops it. */
  private void post(Runnable r) {
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException ignored) {
      // The app shut its executor down before closing the client: nobody listens.
    }
  }

  private void dispatch(ChatEvent ev) {
    post(() -> {
      for (ChatListener l : listeners) {
        try {
          l.onEvent(ev);
          deliver(l, ev);
        } catch (RuntimeException e) {
          l.onListenerFailure(e);
        }
      }
    });
  }

  private static void deliver(ChatListener l, ChatEvent ev) {
    if (ev instanceof ChatEvent.Connection) l.onConnection((ChatEvent.Connection) ev);
    else if (ev instanceof ChatEvent.ChannelListDiff) l.onChannelListDiff((ChatEvent.ChannelListDiff) ev);
    else if (ev instanceof ChatEvent.TimelineDiff) l.onTimelineDiff((ChatEvent.TimelineDiff) ev);
    else if (ev instanceof ChatEvent.OpChanged) l.onOp((ChatEvent.OpChanged) ev);
    else if (ev instanceof ChatEvent.Typing) l.onTyping((ChatEvent.Typing) ev);
    else if (ev instanceof ChatEvent.Presence) l.onPresence((ChatEvent.Presence) ev);
    else if (ev instanceof ChatEvent.Receipt) l.onReceipt((ChatEvent.Receipt) ev);
    else if (ev instanceof ChatEvent.Profiles) l.onProfiles((ChatEvent.Profiles) ev);
    else if (ev instanceof ChatEvent.CacheEvicted) l.onCacheEvicted((ChatEvent.CacheEvicted) ev);
    else if (ev instanceof ChatEvent.HistoryLoaded) l.onHistoryLoaded((ChatEvent.HistoryLoaded) ev);
    else if (ev instanceof ChatEvent.Error) l.onError((ChatEvent.Error) ev);
    else if (ev instanceof ChatEvent.MembersPage) l.onMembersPage((ChatEvent.MembersPage) ev);
  }

  // ---- plumbing ------------------------------------------------------------------------

  /** Runs a command under the read lock so close() cannot free the handle mid-call. */
  private <T> T call(java.util.function.LongFunction<T> f) {
    lock.readLock().lock();
    try {
      return f.apply(handle);  // handle 0 after close: the C API answers misuse
    } finally {
      lock.readLock().unlock();
    }
  }

  private void run(java.util.function.LongConsumer f) {
    call(h -> {
      f.accept(h);
      return null;
    });
  }

  private long op(java.util.function.LongUnaryOperator f) {
    lock.readLock().lock();
    try {
      return f.applyAsLong(handle);
    } finally {
      lock.readLock().unlock();
    }
  }

  private static String[] arr(List<String> xs) { return xs.toArray(new String[0]); }

  @SuppressWarnings("unchecked")
  private static <T> List<T> rows(String json, java.util.function.Function<Map<String, Object>, T> f) {
    List<T> out = new ArrayList<>();
    for (Object o : Json.array(json)) out.add(f.apply((Map<String, Object>) o));
    return Collections.unmodifiableList(out);
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Stops the event thread and frees the client (idempotent). Safe from a listener. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) return;
    stopping = true;
    Native.wakeup(handle);
    if (Thread.currentThread() == loop) {  // a listener on the event thread: runLoop's finally destroys
      destroyOnExit = true;
      return;
    }
    boolean interrupted = false;
    for (;;) {
      try {
        loop.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    destroyHandle();
    if (interrupted) Thread.currentThread().interrupt();
  }

  private void destroyHandle() {
    lock.writeLock().lock();
    try {
      long h = handle;
      handle = 0;
      Native.destroy(h);
      if (h != 0) Native.tokenContextFree(tokenContext);
    } finally {
      lock.writeLock().unlock();
    }
  }

  public void setToken(String jwt) { run(h -> Native.setToken(h, jwt)); }

  /** Starts connecting; reconnects with backoff until {@link #disconnect}. */
  public void connect() { run(Native::connect); }

  public void disconnect() { run(Native::disconnect); }

  /** Before the app is suspended: closes the connection, leaves no SQLite lock open. */
  public void suspend() { run(Native::suspend); }

  /** After suspension: reconnects at once. */
  public void resume() { run(Native::resume); }

  /** "disconnected", "connecting", "authenticating", "syncing" or "live". */
  public String state() {
    int s = call(h -> Native.state(h));
    String[] names = {"disconnected", "connecting", "authenticating", "syncing", "live"};
    return s >= 0 && s < names.length ? names[s] : "unknown";
  }

  /** The authenticated user id ("" before the first successful connect). */
  public String userId() { return call(Native::userId); }

  // ---- outbox commands (return the op id) ------------------------------------------------

  public long send(String channel, String body) { return send(channel, body, null, 0); }

  public long send(String channel, String body, long tag) { return send(channel, body, null, tag); }

  public long send(String channel, String body, SendOptions opts, long tag) {
    SendOptions o = opts != null ? opts : new SendOptions();
    return op(h -> Native.sendText(h, channel, body, o.replyTo, o.mentions, o.metadata, tag));
  }

  /** A reply to message parentSeq of the same channel. */
  public long reply(String channel, long parentSeq, String body, long tag) {
    return send(channel, body, new SendOptions().replyTo(parentSeq), tag);
  }

  /** Edits message seq (seq 0: the message this device sent with clientId). metadata may be null. */
  public long edit(String channel, long seq, String clientId, String body, String metadata, long tag) {
    return op(h -> Native.edit(h, channel, seq, clientId, body, metadata, tag));
  }

  public long edit(String channel, long seq, String body) { return edit(channel, seq, null, body, null, 0); }

  /** Deletes message seq (seq 0: by clientId). */
  public long delete(String channel, long seq, String clientId, long tag) {
    return op(h -> Native.delete(h, channel, seq, clientId, tag));
  }

  public long delete(String channel, long seq) { return delete(channel, seq, null, 0); }

  /** Adds (add) or removes a reaction on message seq (seq 0: by clientId). */
  public long react(String channel, long seq, String clientId, String emoji, boolean add, long tag) {
    return op(h -> Native.react(h, channel, seq, clientId, emoji, add, tag));
  }

  public long react(String channel, long seq, String emoji, boolean add) {
    return react(channel, seq, null, emoji, add, 0);
  }

  /** Moves the read cursor to seq (0 = newest). */
  public long markRead(String channel, long seq, long tag) { return op(h -> Native.markRead(h, channel, seq, tag)); }

  public long markRead(String channel) { return markRead(channel, 0, 0); }

  /** Creates a group channel (channelId null: the server chooses, see the op's channel). */
  public long createGroup(String channelId, String name, List<String> members, boolean isPublic, long tag) {
    return op(h -> Native.createGroup(h, channelId, name, arr(members), isPublic, tag));
  }

  /** Creates (or finds) the direct channel with another user. */
  public long createDirect(String otherUser, long tag) { return op(h -> Native.createDirect(h, otherUser, tag)); }

  /** Joins a public channel. Fails as an op: not_found, or permission_denied
   *  when the channel is not public. */
  public long join(String channel, long tag) { return op(h -> Native.join(h, channel, tag)); }

  /** Adds users to a channel (owners and moderators). */
  public long invite(String channel, List<String> users, long tag) {
    return op(h -> Native.invite(h, channel, arr(users), tag));
  }

  public long removeMembers(String channel, List<String> users, long tag) {
    return op(h -> Native.removeMembers(h, channel, arr(users), tag));
  }

  public long leave(String channel, long tag) { return op(h -> Native.leave(h, channel, tag)); }

  /**
   * Renames a channel, changes its visibility and/or replaces its metadata.
   * Owners and moderators only: others get a failed op ({@code permission_denied}).
   *
   * @param name the new name, or null to keep it
   * @param isPublic the new visibility, or null to keep it
   * @param metadata a JSON object replacing the metadata ("" or "{}" clears it), or null to keep it
   * @throws ChatException invalid_argument when all three are null
   */
  public long updateChannel(String channel, String name, Boolean isPublic, String metadata, long tag) {
    int pub = isPublic == null ? -1 : (isPublic ? 1 : 0);
    return op(h -> Native.updateChannel(h, channel, name, pub, metadata, tag));
  }

  /** Renames a channel (see {@link #updateChannel}). */
  public long renameChannel(String channel, String name, long tag) {
    return updateChannel(channel, name, null, null, tag);
  }

  /**
   * Sets a member's role. Owners only: others get a failed op ({@code permission_denied}).
   *
   * @param role "member", "moderator" or "owner"
   * @throws ChatException invalid_argument for another role name (or null)
   */
  public long setRole(String channel, String user, String role, long tag) {
    int r = role == null ? -1 : ROLES.indexOf(role);  // -1 is refused by the glue (invalid_argument)
    return op(h -> Native.setRole(h, channel, user, r, tag));
  }

  /** Role names by chat_role number. */
  private static final List<String> ROLES = List.of("member", "moderator", "owner");

  /** Sets this user's profile; null leaves a field unchanged. */
  public long setProfile(String displayName, String avatarUrl, long tag) {
    return op(h -> Native.setProfile(h, displayName, avatarUrl, tag));
  }

  /** Puts a failed op back in the queue (tag 0 keeps its previous tag).
   *  @throws ChatException not_found, invalid_state */
  public void retry(long opId, long tag) { run(h -> Native.retry(h, opId, tag)); }

  /** Drops a queued or failed op; a "cancelled" op event follows. */
  public void cancel(long opId) { run(h -> Native.cancel(h, opId)); }

  // ---- ephemeral ------------------------------------------------------------------------

  /** Call on every keystroke (debounced by the library). */
  public void typing(String channel) { run(h -> Native.typing(h, channel)); }

  public void typingStop(String channel) { run(h -> Native.typingStop(h, channel)); }

  /** Answers arrive as {@link ChatEvent.Presence}. @throws ChatException not_connected */
  public void queryPresence(List<String> users, long tag) { run(h -> Native.queryPresence(h, arr(users), tag)); }

  /** The answer is one {@link ChatEvent.Profiles}. @throws ChatException not_connected */
  public void fetchProfiles(List<String> users, long tag) { run(h -> Native.fetchProfiles(h, arr(users), tag)); }

  /**
   * Asks the server for one page of a channel's members, ascending by user id,
   * after the user id {@code after} ("" or null: from the start); limit 0 = the
   * server's default (100; at most 1000). The answer is one
   * {@link ChatEvent.MembersPage} carrying {@code tag}: continue with its
   * {@code nextAfter} while {@code more}. A refused request (not a member, no
   * such channel) is answered by a page too, with the error in its
   * {@code code}. Use it for large channels, whose cached {@link #members} is
   * incomplete; the cache is not changed.
   *
   * @throws ChatException not_connected (a live query, never queued), invalid_argument
   */
  public void listMembers(String channel, String after, int limit, long tag) {
    run(h -> Native.listMembers(h, channel, after, limit, tag));
  }

  /** The first page (server default size) of {@link #listMembers(String, String, int, long)}. */
  public void listMembers(String channel, long tag) { listMembers(channel, null, 0, tag); }

  // ---- view-models and history ------------------------------------------------------------

  /** A timeline reset follows, then diffs. @throws ChatException not_found (not cached yet) */
  public void openTimeline(String channel) { run(h -> Native.openTimeline(h, channel)); }

  public void closeTimeline(String channel) { run(h -> Native.closeTimeline(h, channel)); }

  /** Loads an older page of an open timeline; one {@link ChatEvent.HistoryLoaded} follows. */
  public void loadOlder(String channel, long tag) { run(h -> Native.loadOlder(h, channel, tag)); }

  public void loadNewer(String channel, long tag) { run(h -> Native.loadNewer(h, channel, tag)); }

  // ---- queries (cache only, never network) ---------------------------------------------------

  /** The channel list, newest activity first. */
  public List<Channel> channels() { return rows(call(Native::channelsJson), Channel::new); }

  /** Up to `newest` latest cached messages of a channel, ascending. */
  public List<Message> messages(String channel, int newest) {
    return rows(call(h -> Native.messagesJson(h, channel, newest)), Message::new);
  }

  /** The timeline rows of a channel (messages and local echoes). */
  public List<Message> timeline(String channel) {
    return rows(call(h -> Native.timelineJson(h, channel)), m -> {
      Map<String, Object> msg = Fields.obj(m, "message");
      return new Message(msg != null ? msg : m);
    });
  }

  /** The cached members of a channel (complete for small channels; see {@link #listMembers}). */
  public List<Member> members(String channel) { return rows(call(h -> Native.membersJson(h, channel)), Member::new); }

  /** Ops not yet final (queued, sending, failed, ...). */
  public List<Op> pendingOps() { return rows(call(Native::pendingOpsJson), Op::new); }

  @SuppressWarnings("unchecked")
  public List<String> typingUsers(String channel) {
    List<String> out = new ArrayList<>();
    for (Object o : Json.array(call(h -> Native.typingUsersJson(h, channel)))) out.add(String.valueOf(o));
    return Collections.unmodifiableList(out);
  }
}
