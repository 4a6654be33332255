// chatsdk/client.hpp — the chat client.
//
// Contract:
//  - A Client owns a SQLite cache + outbox (options.database_path) and at most
//    one WebSocket connection. It never creates a thread unless run() is called.
//  - Loop thread: the thread that calls poll() (or the SDK thread started by
//    run()). Network I/O, timers, the listener and the token provider run there.
//  - Commands (send_text, mark_read, ...) and queries may be called from any
//    thread. They take a short internal lock, do their SQLite work, wake the
//    loop, and return. Mutations return only after the op is committed to
//    SQLite: it survives a crash and is sent when a connection is live.
//  - Events come out in order, via next_event() (any thread) or a listener
//    (called on the loop thread with no SDK lock held).
//  - Callbacks (listener, token provider) must not destroy the Client.
//    The token provider runs with the client lock held: it must not call the Client.
//
//   auto client = chatsdk::Client::create(options);
//   if (!client) return fail(client.error());
//   (*client)->connect();
//   for (;;) {                                   // the host's frame loop
//     (*client)->poll(0);                        // never blocks
//     while (auto ev = (*client)->next_event()) handle(*ev);
//   }
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chatsdk/events.hpp"
#include "chatsdk/export.hpp"
#include "chatsdk/options.hpp"
#include "chatsdk/result.hpp"
#include "chatsdk/types.hpp"
#include "chatsdk/version.hpp"

namespace chatsdk {

class CHATSDK_API Client {
 public:
  /// Opens (or creates, or migrates) the cache and prepares the transport. No
  /// network I/O happens until connect(). The channel list is readable at once
  /// and the first event is a ChannelListDiff reset from the cache.
  /// Thread: any. Ownership: the caller owns the Client.
  static Result<std::unique_ptr<Client>> create(ClientOptions options);

  /// Stops the SDK thread if running and closes the connection and the cache.
  /// Thread: any thread except the loop thread (not from a listener).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- lifecycle ------------------------------------------------------------------
  /// Start connecting; reconnects with backoff until disconnect(). Thread: any.
  void connect();
  /// Close the connection and stop reconnecting. Thread: any.
  void disconnect();
  /// Before the app is suspended: closes the connection, stops reconnects and
  /// leaves no SQLite transaction, lock or active statement. Thread: any.
  void prepare_suspend();
  /// After suspension: reconnects once (with backoff after that). Thread: any.
  void resume();

  // ---- driving ----------------------------------------------------------------------
  /// Does ready I/O and due timers, waiting at most timeout_ms (0 never blocks).
  /// Returns invalid_state while run() owns the loop. Thread: the host's loop thread.
  Result<void> poll(int timeout_ms);
  /// Starts an SDK-owned loop thread. Thread: any (not the loop thread).
  Result<void> run();
  /// Stops and joins the SDK thread started by run(). Thread: any except it.
  void stop();
  /// Interrupts a blocking poll(). Thread: any.
  void wakeup() noexcept;

  /// Next event, in order; empty when none is ready. Thread: any.
  std::optional<Event> next_event();
  /// Receives every event on the loop thread instead of next_event().
  /// Pass nullptr to go back to pulling. Thread: any.
  void set_listener(std::function<void(const Event&)> listener);

  // ---- mutations (outbox ops; committed to SQLite before returning) ------------------
  /// Thread: any. Ownership: arguments are copied.
  Result<OpId> send_text(const std::string& channel, const std::string& body,
                         const SendOptions& options = {});
  /// New body (and metadata) for your own message. Thread: any.
  Result<OpId> edit(const MessageRef& message, const std::string& body,
                    const std::string& metadata = {});
  /// Tombstones a message (yours, or any as moderator/owner). Thread: any.
  Result<OpId> delete_message(const MessageRef& message);
  /// Adds / removes your reaction. Thread: any.
  Result<OpId> react(const MessageRef& message, const std::string& emoji);
  Result<OpId> unreact(const MessageRef& message, const std::string& emoji);
  /// Moves the read cursor (seq 0 = newest); unread counts drop at once. Thread: any.
  Result<OpId> mark_read(const std::string& channel, Seq seq = 0);
  /// channel_id "" lets the server choose (see OpChanged for the id). Thread: any.
  Result<OpId> create_group(const std::string& channel_id, const std::string& name,
                            const std::vector<std::string>& members, bool is_public = false);
  /// The direct channel with `other_user` (created, or the existing one). Thread: any.
  Result<OpId> create_direct(const std::string& other_user);
  /// Joins a public channel (queued like every mutation; joining twice is harmless).
  /// Fails as an op with not_found / permission_denied (not public). Thread: any.
  Result<OpId> join(const std::string& channel);
  /// Adds members (owner/moderator). Thread: any.
  Result<OpId> invite(const std::string& channel, const std::vector<std::string>& users);
  /// Removes members (owner/moderator; yourself always). Thread: any.
  Result<OpId> remove_members(const std::string& channel, const std::vector<std::string>& users);
  /// Leaves the channel (needs the user id: after the first connect). Thread: any.
  Result<OpId> leave(const std::string& channel);
  /// Renames a channel / changes its visibility / replaces its metadata (JSON
  /// object text; "" or "{}" clears it). nullopt = unchanged; at least one field
  /// is needed (invalid_argument). Owner/moderator: others get a failed op
  /// (permission_denied). Members see it as a ChannelListDiff (channel_updated).
  /// Thread: any.
  Result<OpId> update_channel(const std::string& channel, std::optional<std::string> name,
                              std::optional<bool> is_public,
                              std::optional<std::string> metadata_json);
  /// Sets a member's role (owner only; others get a failed op, permission_denied).
  /// The change reaches members() when the server's member event arrives. Thread: any.
  Result<OpId> set_role(const std::string& channel, const std::string& user, Role role);
  /// Sets the fields given (nullopt = unchanged). Thread: any.
  Result<OpId> set_profile(std::optional<std::string> display_name,
                           std::optional<std::string> avatar_url);
  /// Puts a failed op back in the queue. Thread: any.
  Result<void> retry(OpId op);
  /// Drops a queued or failed op (never one in flight). Thread: any.
  Result<void> cancel(OpId op);

  // ---- ephemeral ------------------------------------------------------------------
  /// Call on every keystroke; debounced (one start per 3 s, stop after 5 s idle
  /// or on send). Nothing is sent or queued while offline. Thread: any.
  void typing(const std::string& channel);
  void typing_stop(const std::string& channel);
  /// Answers arrive as PresenceChanged / ProfilesReceived events. Needs a live
  /// connection (not_connected otherwise). Thread: any.
  Result<void> query_presence(const std::vector<std::string>& users);
  Result<void> fetch_profiles(const std::vector<std::string>& users);
  /// One page of the channel's members from the server, ascending by user id,
  /// after the user id `after` ("" = from the start); limit 0 = server default
  /// (100, at most 1000). Answered by a MembersPage event (continue with its
  /// next_after while `more`); a refused request gets one too, with
  /// `error` set (e.g. not_member). Use it for large channels, whose members() cache is
  /// incomplete. Needs a live connection (not_connected otherwise). Thread: any.
  Result<void> list_members(const std::string& channel, const std::string& after = "",
                            std::uint32_t limit = 0);

  // ---- view-models ------------------------------------------------------------------
  /// Emits a TimelineDiff reset (last 50 cached messages + local echoes), then
  /// diffs as things change. Thread: any.
  Result<void> open_timeline(const std::string& channel);
  /// Stops timeline diffs for the channel. Thread: any.
  void close_timeline(const std::string& channel);
  /// Older messages: from the cache, else from the server (HistoryLoaded). Thread: any.
  Result<void> load_older(const std::string& channel);
  /// Messages newer than the newest cached one, from the server. Thread: any.
  Result<void> load_newer(const std::string& channel);

  // ---- queries (cache only, never network) --------------------------------------------
  /// Thread: any. Ownership: returns copies.
  std::vector<Channel> channels();
  std::optional<Channel> channel(const std::string& id);
  std::vector<Message> messages(const std::string& channel, std::size_t newest = 50);
  std::vector<TimelineItem> timeline(const std::string& channel);
  std::vector<Member> members(const std::string& channel);
  std::vector<Op> pending_ops();
  std::optional<Op> op(OpId id);
  std::vector<std::string> typing_users(const std::string& channel);
  ConnectionState state();
  /// The authenticated user's id ("" before the first successful connect).
  std::string user_id();

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatsdk
