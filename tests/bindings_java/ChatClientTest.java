import dev.chatsdk.ChatClient;
import dev.chatsdk.ChatEvent;
import dev.chatsdk.ChatException;
import dev.chatsdk.ChatListener;
import dev.chatsdk.Message;
import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Java binding against the real chatsdk-server (path in args[0]): alice
 * creates a group with bob and sends a message, bob's listener receives it,
 * bob replies, alice receives the reply. Also: tags come back on op events,
 * listeners run on the chosen executor, errors are ChatExceptions with the
 * status name, non-ASCII text survives JNI, and a closed client answers misuse.
 * Channel administration: the owner renames a channel and the other member
 * sees it, a promoted member can invite, listMembers pages through every
 * member exactly once, a refused listMembers is answered by an error page, and
 * join works on a public channel only.
 * Exit status 0 only when every check passed.
 */
public final class ChatClientTest {
  private static final long TIMEOUT_MS = 15_000;

  private static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError("check failed: " + what);
  }

  // ---- the server ----------------------------------------------------------------------

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String b64url(byte[] b) { return Base64.getUrlEncoder().withoutPadding().encodeToString(b); }

  /** An HS256 JWT {"sub","iat","exp"}, as the server expects (examples/bot/chat_bot.py). */
  static String mintToken(String secret, String user) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    String header = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String payload = b64url(("{\"sub\":\"" + user + "\",\"iat\":" + now + ",\"exp\":" + (now + 3600) + "}")
        .getBytes(StandardCharsets.UTF_8));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    byte[] sig = mac.doFinal((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
    return header + "." + payload + "." + b64url(sig);
  }

  private static void waitHealthy(Process p, int port, Path log) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      if (!p.isAlive()) throw new IllegalStateException("server exited: " + Files.readString(log));
      try {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/healthz").openConnection();
        c.setConnectTimeout(1000);
        c.setReadTimeout(1000);
        if (c.getResponseCode() == 200) return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("server did not become healthy");
  }

  // ---- events --------------------------------------------------------------------------

  /** A listener that queues events and remembers which thread delivered them. */
  static final class Inbox implements ChatListener {
    final LinkedBlockingQueue<ChatEvent> events = new LinkedBlockingQueue<>();
    volatile String lastThread = "";
    volatile Throwable failure;
    final AtomicInteger membersPages = new AtomicInteger();  // typed onMembersPage calls

    @Override
    public void onEvent(ChatEvent e) {
      lastThread = Thread.currentThread().getName();
      events.add(e);
    }

    @Override
    public void onMembersPage(ChatEvent.MembersPage e) { membersPages.incrementAndGet(); }

    @Override
    public void onListenerFailure(Throwable t) { failure = t; }

    @SuppressWarnings("unchecked")
    <T extends ChatEvent> T await(Class<T> type, Predicate<T> p, String what) throws InterruptedException {
      long deadline = System.currentTimeMillis() + TIMEOUT_MS;
      for (;;) {
        long left = deadline - System.currentTimeMillis();
        ChatEvent e = left > 0 ? events.poll(left, TimeUnit.MILLISECONDS) : null;
        if (e == null) throw new AssertionError("timed out waiting for " + what);
        if (type.isInstance(e) && p.test((T) e)) return (T) e;
      }
    }

    ChatEvent.OpChanged settled(long opId) throws InterruptedException {
      return await(ChatEvent.OpChanged.class, e -> e.op.id == opId && e.op.isSettled(), "op " + opId);
    }

    /** Waits for a failed op with status name `code`, then cancels it (a failed op
     *  holds back the later ops of its channel). */
    void refused(ChatClient c, long opId, long tag, String code) throws InterruptedException {
      ChatEvent.OpChanged ev = settled(opId);
      check(ev.op.state.equals("failed") && code.equals(ev.op.failureCode) && ev.tag == tag,
          "op refused with " + code + ", got " + ev.op);
      c.cancel(opId);
      await(ChatEvent.OpChanged.class, e -> e.op.id == opId && e.op.state.equals("cancelled"), "cancel " + opId);
    }

    Message message(String channel, Predicate<Message> p, String what) throws InterruptedException {
      ChatEvent.TimelineDiff d = await(ChatEvent.TimelineDiff.class,
          e -> e.channel.equals(channel) && e.messages().stream().anyMatch(p), what);
      return d.messages().stream().filter(p).findFirst().orElseThrow();
    }
  }

  private static ExecutorService serial(String name) {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  // ---- the scenario --------------------------------------------------------------------------

  static void scenario(String url, String secret, Path dir) throws Exception {
    // A bad URL is a ChatException named after the status, not a crash.
    try {
      new ChatClient.Builder("http://nowhere", ":memory:").token("x").build().close();
      check(false, "bad URL accepted");
    } catch (ChatException e) {
      check(e.name().equals("invalid_argument"), "bad URL -> invalid_argument, got " + e.name());
    }
    check(!ChatClient.libraryVersion().isEmpty(), "library version");

    ExecutorService aliceExec = serial("alice-listener");
    ExecutorService bobExec = serial("bob-listener");
    Inbox aliceIn = new Inbox();
    Inbox bobIn = new Inbox();
    try (ChatClient alice = new ChatClient.Builder(url, dir.resolve("alice.db").toString())
             .token(mintToken(secret, "alice")).executor(aliceExec).listener(aliceIn).build();
         ChatClient bob = new ChatClient.Builder(url, dir.resolve("bob.db").toString())
             .token(mintToken(secret, "bob")).executor(bobExec).listener(bobIn).build()) {
      alice.connect();
      bob.connect();
      aliceIn.await(ChatEvent.Connection.class, ChatEvent.Connection::isLive, "alice live");
      bobIn.await(ChatEvent.Connection.class, ChatEvent.Connection::isLive, "bob live");
      check(aliceIn.lastThread.equals("alice-listener"), "listener runs on the app's executor");
      check(alice.state().equals("live") && alice.userId().equals("alice"), "alice state/user id");

      // An argument error is a ChatException too (edit names no message).
      try {
        bob.edit("room1", 0, null, "x", null, 0);
        check(false, "edit without seq or client id accepted");
      } catch (ChatException e) {
        check(e.name().equals("invalid_argument") && !e.retryable(), "edit -> invalid_argument, got " + e.name());
      }

      long create = alice.createGroup("room1", "Room 1", List.of("bob"), false, 11);
      ChatEvent.OpChanged created = aliceIn.settled(create);
      check(created.op.state.equals("sent"), "group created, got " + created.op);
      check(created.tag == 11, "create tag comes back");
      bobIn.await(ChatEvent.ChannelListDiff.class,
          e -> e.channels().stream().anyMatch(c -> c.id.equals("room1")), "bob sees room1");
      check(bob.channels().stream().anyMatch(c -> c.id.equals("room1") && c.name.equals("Room 1")),
          "room1 in bob's channel list query");
      alice.openTimeline("room1");
      bob.openTimeline("room1");

      String hello = "hello bob, h\u00e9llo \uD83D\uDC4B";  // non-BMP survives the JNI strings
      long sent = alice.send("room1", hello, 21);
      ChatEvent.OpChanged sentEv = aliceIn.settled(sent);
      check(sentEv.op.state.equals("sent") && sentEv.tag == 21, "send settled with tag: " + sentEv.op);
      long seq = sentEv.op.seq;
      check(seq > 0, "sent message has a seq");
      Message got = bobIn.message("room1", m -> m.seq == seq && m.body.equals(hello), "bob receives hello");
      check(got.sender.equals("alice"), "sender alice");

      long reply = bob.reply("room1", seq, "hi alice", 31);
      ChatEvent.OpChanged replyEv = bobIn.settled(reply);
      check(replyEv.op.state.equals("sent") && replyEv.tag == 31, "reply settled with tag: " + replyEv.op);
      Message back = aliceIn.message("room1", m -> m.body.equals("hi alice") && m.seq > 0, "alice receives reply");
      check(back.sender.equals("bob") && back.replyTo == seq, "reply from bob to the hello");
      check(alice.messages("room1", 10).stream().anyMatch(m -> m.body.equals("hi alice")), "reply cached");
      check(alice.members("room1").stream().map(m -> m.user).sorted().toList().equals(List.of("alice", "bob")),
          "members query");

      // Edit and reaction reach the other side.
      ChatEvent.OpChanged edited = aliceIn.settled(alice.edit("room1", seq, null, "hello bob (edited)", null, 41));
      check(edited.op.state.equals("sent") && edited.tag == 41, "edit settled: " + edited.op);
      Message editedMsg = bobIn.message("room1", m -> m.seq == seq && m.body.equals("hello bob (edited)"), "bob sees edit");
      check(editedMsg.editedAt > 0, "edited_at set");
      ChatEvent.OpChanged reacted = bobIn.settled(bob.react("room1", seq, null, "\uD83D\uDC4D", true, 51));
      check(reacted.op.state.equals("sent") && reacted.tag == 51, "react settled: " + reacted.op);
      aliceIn.message("room1", m -> m.seq == seq && m.reactions.stream()
          .anyMatch(r -> r.emoji.equals("\uD83D\uDC4D") && r.count == 1), "alice sees reaction");
      ChatEvent.OpChanged read = aliceIn.settled(alice.markRead("room1", 0, 61));
      check(!read.op.state.equals("failed") && read.tag == 61, "mark read settled: " + read.op);

      channelAdministration(alice, aliceIn, bob, bobIn);

      // Ephemeral: presence answer carries the tag; typing reaches the other member.
      alice.queryPresence(List.of("bob"), 71);
      ChatEvent.Presence p = aliceIn.await(ChatEvent.Presence.class, ev -> ev.tag == 71, "presence answer");
      check(p.user.equals("bob") && p.online, "bob online");
      bob.typing("room1");
      aliceIn.await(ChatEvent.Typing.class, ev -> ev.channel.equals("room1") && ev.users.contains("bob"), "typing");

      // History paging answers with the tag.
      alice.loadOlder("room1", 81);
      ChatEvent.HistoryLoaded h = aliceIn.await(ChatEvent.HistoryLoaded.class, ev -> ev.tag == 81, "history page");
      check(h.channel.equals("room1"), "history channel");

      // A failed op can be retried (its events then carry the new tag); a queued one cancelled.
      long bad = bob.send("no-such-room", "x", 91);
      ChatEvent.OpChanged failed = bobIn.settled(bad);
      check(failed.op.state.equals("failed") && failed.op.failureCode != null, "send to unknown room fails: " + failed.op);
      bob.retry(bad, 92);
      ChatEvent.OpChanged again = bobIn.await(ChatEvent.OpChanged.class, ev -> ev.op.id == bad && ev.tag == 92,
          "retried op event");
      check(again.tag == 92, "retry tag");
      bob.suspend();
      bobIn.await(ChatEvent.Connection.class, ev -> ev.state.equals("disconnected"), "bob suspended");
      try {
        bob.listMembers("room1", 95);
        check(false, "listMembers while offline accepted");
      } catch (ChatException e) {
        check(e.name().equals("not_connected"), "offline listMembers -> not_connected, got " + e.name());
      }
      long queued = bob.send("room1", "never sent", 93);
      bob.cancel(queued);
      ChatEvent.OpChanged cancelled = bobIn.settled(queued);
      check(cancelled.op.state.equals("cancelled"), "cancelled queued op: " + cancelled.op);
      bob.resume();
      bobIn.await(ChatEvent.Connection.class, ChatEvent.Connection::isLive, "bob resumed");
      ChatEvent.OpChanged after = bobIn.settled(bob.send("room1", "back", 94));
      check(after.op.state.equals("sent"), "send after resume: " + after.op);
      aliceIn.message("room1", m -> m.body.equals("back"), "alice receives after resume");

      // A TokenProvider instead of a fixed token: asked on connect, on the event thread.
      Inbox carolIn = new Inbox();
      String carolToken = mintToken(secret, "carol");
      java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
      try (ChatClient carol = new ChatClient.Builder(url, dir.resolve("carol.db").toString())
               .tokenProvider(() -> {
                 asked.incrementAndGet();
                 return carolToken;
               })
               .listener(carolIn).build()) {
        carol.connect();
        carolIn.await(ChatEvent.Connection.class, ChatEvent.Connection::isLive, "carol live via provider");
        check(asked.get() >= 1 && carol.userId().equals("carol"), "token provider used");
      }

      check(aliceIn.failure == null && bobIn.failure == null, "no listener failures");
      alice.close();
      alice.close();  // idempotent
      try {
        alice.send("room1", "after close");
        check(false, "send after close accepted");
      } catch (ChatException e) {
        check(e.name().equals("misuse"), "closed client -> misuse, got " + e.name());
      }
    } finally {
      aliceExec.shutdownNow();
      bobExec.shutdownNow();
    }
  }

  /** update_channel, set_role, list_members and join against the server (alice owns room1). */
  static void channelAdministration(ChatClient alice, Inbox aliceIn, ChatClient bob, Inbox bobIn)
      throws Exception {
    // The owner renames room1 and sets its metadata; visibility (null) stays as it was.
    ChatEvent.OpChanged renamed = aliceIn.settled(
        alice.updateChannel("room1", "Room One", null, "{\"topic\":\"admin\"}", 101));
    check(renamed.op.state.equals("sent") && renamed.op.kind.equals("channel_update") && renamed.tag == 101,
        "rename settled: " + renamed.op);
    bobIn.await(ChatEvent.ChannelListDiff.class,
        e -> e.channels().stream().anyMatch(c -> c.id.equals("room1") && c.name.equals("Room One")),
        "bob sees the new name");
    check(bob.channels().stream().anyMatch(c -> c.id.equals("room1") && c.name.equals("Room One")
        && !c.isPublic && c.metadata.contains("admin")), "new name and metadata in bob's cache, still private");

    // A plain member may neither rename nor invite.
    bobIn.refused(bob, bob.renameChannel("room1", "Bob's room", 102), 102, "permission_denied");
    bobIn.refused(bob, bob.invite("room1", List.of("carol"), 103), 103, "permission_denied");
    for (String badRole : new String[] {"king", null}) {
      try {
        alice.setRole("room1", "bob", badRole, 0);
        check(false, "role " + badRole + " accepted");
      } catch (ChatException e) {
        check(e.name().equals("invalid_argument"), "role " + badRole + " -> invalid_argument, got " + e.name());
      }
    }
    try {
      alice.updateChannel("room1", null, null, null, 0);
      check(false, "update without a field accepted");
    } catch (ChatException e) {
      check(e.name().equals("invalid_argument"), "empty update -> invalid_argument, got " + e.name());
    }

    // Promoted to moderator, bob can invite.
    ChatEvent.OpChanged promoted = aliceIn.settled(alice.setRole("room1", "bob", "moderator", 104));
    check(promoted.op.state.equals("sent") && promoted.op.kind.equals("member_role") && promoted.tag == 104,
        "set role settled: " + promoted.op);
    ChatEvent.OpChanged invited = bobIn.settled(bob.invite("room1", List.of("carol", "dave", "erin"), 105));
    check(invited.op.state.equals("sent") && invited.tag == 105, "moderator's invite sent: " + invited.op);

    // listMembers pages of two: every member exactly once, ascending, with roles.
    List<String> seen = new ArrayList<>();
    Map<String, String> roles = new HashMap<>();
    String after = "";
    int pages = 0;
    for (;;) {
      final long tag = 110 + pages;
      bob.listMembers("room1", after, 2, tag);
      ChatEvent.MembersPage page = bobIn.await(ChatEvent.MembersPage.class, e -> e.tag == tag, "members page " + tag);
      check(page.isOk() && page.code.equals("ok") && page.channel.equals("room1") && page.members.size() <= 2,
          "members page: " + page);
      for (ChatClient.Member m : page.members) {
        seen.add(m.user);
        roles.put(m.user, m.role);
      }
      ++pages;
      if (!page.more) break;
      check(pages < 10 && !page.nextAfter.isEmpty(), "paging ends, next_after set: " + page);
      after = page.nextAfter;
    }
    check(seen.equals(List.of("alice", "bob", "carol", "dave", "erin")),
        "every member exactly once across pages, got " + seen);
    check(pages >= 3, "pages of two, got " + pages);
    check(roles.get("alice").equals("owner") && roles.get("bob").equals("moderator")
        && roles.get("carol").equals("member"), "roles on the pages: " + roles);
    try {
      bob.listMembers("room1", null, -1, 0);
      check(false, "negative limit accepted");
    } catch (ChatException e) {
      check(e.name().equals("invalid_argument"), "negative limit -> invalid_argument, got " + e.name());
    }

    // A channel bob is not in: the request is answered by a page carrying the error.
    ChatEvent.OpChanged priv = aliceIn.settled(alice.createGroup("private1", "Private", List.of(), false, 120));
    check(priv.op.state.equals("sent"), "private1 created: " + priv.op);
    bob.listMembers("private1", 121);
    ChatEvent.MembersPage refused = bobIn.await(ChatEvent.MembersPage.class, e -> e.tag == 121, "refused page");
    check(!refused.isOk() && refused.code.equals("not_member") && refused.status != 0
        && refused.channel.equals("private1") && refused.members.isEmpty() && !refused.more,
        "refused listMembers -> error page: " + refused);

    // join: a public channel yes, a private one no.
    ChatEvent.OpChanged lobby = aliceIn.settled(alice.createGroup("lobby", "Lobby", List.of(), true, 130));
    check(lobby.op.state.equals("sent"), "lobby created: " + lobby.op);
    ChatEvent.OpChanged joined = bobIn.settled(bob.join("lobby", 131));
    check(joined.op.state.equals("sent") && joined.op.kind.equals("join") && joined.tag == 131, "join: " + joined.op);
    bobIn.await(ChatEvent.ChannelListDiff.class,
        e -> e.channels().stream().anyMatch(c -> c.id.equals("lobby")), "bob sees lobby");
    bobIn.refused(bob, bob.join("private1", 132), 132, "permission_denied");
    check(bobIn.membersPages.get() >= 4, "onMembersPage called, got " + bobIn.membersPages.get());
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ChatClientTest <chatsdk-server>");
      System.exit(2);
    }
    Path dir = Files.createTempDirectory("chatsdk-java-");
    int port = freePort();
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String secret = HexFormat.of().formatHex(raw);
    Path log = dir.resolve("server.log");
    Process server = new ProcessBuilder(args[0], "--listen", "127.0.0.1:" + port,
        "--data", dir.resolve("data").toString(), "--secret", secret)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    int rc = 1;
    try {
      waitHealthy(server, port, log);
      scenario("ws://127.0.0.1:" + port + "/ws", secret, dir);
      System.out.println("bindings_java: all checks passed");
      rc = 0;
    } catch (Throwable t) {
      t.printStackTrace();
      try {
        System.err.println("--- server log ---\n" + Files.readString(log));
      } catch (IOException ignored) {
        // the log is a diagnostic only
      }
    } finally {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) server.destroyForcibly().waitFor();
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
    System.exit(rc);
  }
}
