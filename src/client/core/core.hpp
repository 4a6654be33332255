// The sans-IO client core: a deterministic state machine.
//
// Inputs: transport events (opened/closed/failed, a decoded server frame),
// the clock (tick() runs due timers at clock.steady_ms()), and app commands.
// Outputs: transport actions (take_actions(): open, send a frame, close) and
// app events (next_event()). It never touches sockets, threads or the real
// clock; the store is a SQLite file (":memory:" in unit tests). That makes it
// drivable from a game loop, an SDK thread, or a seeded simulation (virtual
// clock, lossy transport, crash = drop the Core and reopen the same file).
//
// Connection ids: every OpenAction carries a fresh id; transport inputs name
// the connection they are about, and inputs for an older connection are
// ignored (a late "closed" of a replaced connection must not tear down the new one).
//
// Not thread-safe: one thread (the loop thread) owns a Core.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "chatsdk/events.hpp"
#include "chatsdk/options.hpp"
#include "chatsdk/result.hpp"
#include "chatsdk/types.hpp"
#include "client/store/store.hpp"
#include "common/protocol/frames.hpp"
#include "common/util/backoff.hpp"
#include "common/util/clock.hpp"
#include "common/util/random.hpp"

namespace chatsdk::client {

using ConnId = std::uint64_t;

struct OpenAction {
  ConnId conn = 0;
};
struct SendAction {
  ConnId conn = 0;
  proto::ClientFrame frame;
};
struct CloseAction {
  ConnId conn = 0;
  std::uint16_t code = 1000;
};
using Action = std::variant<OpenAction, SendAction, CloseAction>;

struct CoreOptions {
  std::string device_id;
  BackoffOptions backoff;
  std::uint32_t heartbeat_ms = 0;  // 0 = server's
  std::uint64_t cache_cap_bytes = 0;
  std::uint32_t history_page = 50;
  bool failed_op_blocks_channel = true;
  std::uint32_t max_auto_retries = 5;
  std::uint64_t seed = 1;
  std::uint32_t connect_timeout_ms = 10'000;  // open + welcome must arrive within this
  std::uint32_t request_timeout_ms = 30'000;  // a reply later than this: reconnect
};

class Core {
 public:
  using TokenProvider = std::function<std::string()>;

  Core(CoreOptions options, Store& store, const Clock& clock, TokenProvider tokens);

  // ---- lifecycle commands ----------------------------------------------------
  void connect();          // start connecting (and keep reconnecting) until disconnect()
  void disconnect();       // close and stay disconnected
  void prepare_suspend();  // close, no reconnects, store quiesced
  void resume();           // reconnect once (if connect() was called before)

  // ---- transport inputs -----------------------------------------------------
  void on_open(ConnId conn);
  void on_closed(ConnId conn, std::uint16_t code, const std::string& reason);
  void on_failed(ConnId conn, const std::string& reason);  // could not connect
  void on_frame(ConnId conn, const proto::ServerFrame& frame);
  void on_decode_error(ConnId conn, const Error& error);

  // ---- time ---------------------------------------------------------------------
  void tick();
  /// Earliest steady_ms at which tick() has work; nullopt = none.
  std::optional<std::int64_t> next_deadline() const;

  // ---- outputs ---------------------------------------------------------------------
  std::vector<Action> take_actions();
  std::optional<Event> next_event();
  bool has_events() const { return !events_.empty(); }

  // ---- app commands: mutations (persisted in the outbox before returning) ----------
  Result<OpId> send_text(const std::string& channel, const std::string& body,
                         const SendOptions& opts = {});
  Result<OpId> edit(const MessageRef& msg, const std::string& body,
                    const std::string& metadata = {});
  Result<OpId> remove(const MessageRef& msg);
  Result<OpId> react(const MessageRef& msg, const std::string& emoji, bool add);
  Result<OpId> mark_read(const std::string& channel, Seq seq = 0);  // 0 = newest known
  Result<OpId> create_group(const std::string& channel_id, const std::string& name,
                            const std::vector<std::string>& members, bool is_public = false);
  Result<OpId> create_direct(const std::string& other_user);
  Result<OpId> add_members(const std::string& channel, const std::vector<std::string>& users);
  Result<OpId> join(const std::string& channel);
  Result<OpId> remove_members(const std::string& channel, const std::vector<std::string>& users);
  Result<OpId> leave(const std::string& channel);
  Result<OpId> update_channel(const std::string& channel, std::optional<std::string> name,
                              std::optional<bool> is_public,
                              std::optional<std::string> metadata_json);
  Result<OpId> set_role(const std::string& channel, const std::string& user, Role role);
  Result<OpId> set_profile(std::optional<std::string> display_name,
                           std::optional<std::string> avatar_url);
  Result<void> retry(OpId op);
  Result<void> cancel(OpId op);

  // ---- app commands: ephemeral ---------------------------------------------------
  void typing_keystroke(const std::string& channel);
  void typing_stop(const std::string& channel);
  Result<void> query_presence(const std::vector<std::string>& users);
  Result<void> fetch_profiles(const std::vector<std::string>& users);
  /// One page of members from the server (answered by a MembersPage event).
  Result<void> list_members(const std::string& channel, const std::string& after,
                            std::uint32_t limit);

  // ---- view-models -------------------------------------------------------------
  /// Inputs between begin_batch() and end_batch() (e.g. every frame one poll
  /// read) are one unit: their cache writes are one SQLite transaction
  /// (each input still atomic inside it, as a savepoint), committed at
  /// end_batch(), and view-models are rebuilt once, after that commit. A
  /// crash before end_batch() loses the whole batch and nothing else: the
  /// cursors roll back with the messages, so the next sync fetches them again.
  /// Drivers must hand out take_actions() only after end_batch(): no frame
  /// may leave based on writes that could still roll back. If the commit
  /// fails, the batch's frames are withdrawn, the outbox is reloaded from
  /// the cache and the connection is dropped (the resync repairs the rest).
  /// App commands issued inside a batch become durable at end_batch().
  void begin_batch();
  void end_batch();
  /// Starts emitting TimelineDiff for the channel (first a reset from the cache).
  Result<void> open_timeline(const std::string& channel);
  void close_timeline(const std::string& channel);
  /// Extends the open timeline downwards: from the cache, else from the server.
  Result<void> load_older(const std::string& channel);
  /// Fetches messages newer than the newest held (after a too_far_behind page).
  Result<void> load_newer(const std::string& channel);

  // ---- queries (read the cache; no network) -----------------------------------------
  std::vector<Channel> channels();  // ordered by last activity, newest first
  std::optional<Channel> channel(const std::string& id);
  std::vector<Message> latest_messages(const std::string& channel, std::size_t n = 50);
  std::vector<TimelineItem> timeline(const std::string& channel) const;
  std::vector<Member> members(const std::string& channel) { return store_.members(channel); }
  std::optional<Op> op(OpId id);
  std::vector<Op> pending_ops();
  std::vector<Gap> gaps(const std::string& channel) { return store_.gaps(channel); }
  ConnectionState state() const { return state_; }
  const std::string& user_id() const { return me_; }
  std::vector<std::string> typing_users(const std::string& channel) const;

 private:
  struct Pending {
    enum class Kind { op, sync, history, presence, profiles, auth_refresh, join, members } kind;
    OpId op = 0;
    std::string channel;
    bool older = false;
    std::int64_t sent_at = 0;  // steady ms; an unanswered request past the timeout drops the link
  };
  struct TypingOut {
    bool active = false;
    std::int64_t last_start = 0;
    std::int64_t stop_at = 0;
  };
  struct TimelineView {
    Seq floor = 0;        // rows with seq >= floor are shown
    bool pinned = false;  // the app paged back (load_older): keep what it loaded
    std::vector<TimelineItem> items;
  };

  // connection
  void start_attempt();
  void drop(Errc reason, const std::string& detail, std::uint16_t close_code);
  void schedule_reconnect(Errc reason, const std::string& detail, bool immediate);
  void set_state(ConnectionState s, Errc reason = Errc::ok, const std::string& detail = {},
                 std::int64_t retry_in = -1);
  void send(proto::ClientFrame f);
  proto::RequestId next_id() { return ++req_seq_; }
  void track(proto::RequestId id, Pending p);
  std::int64_t oldest_request() const;
  void refresh_token_now();

  // frames
  void handle(const proto::Welcome& f);
  void handle(const proto::Pong&) {}
  void handle(const proto::Ok& f);
  void handle(const proto::Sent& f);
  void handle(const proto::AlreadyApplied& f);
  void handle(const proto::SyncResult& f);
  void handle(const proto::HistoryPage& f);
  void handle(const proto::ChannelReply& f);
  void handle(const proto::MembersPage& f);
  void handle(const proto::Profiles& f);
  void handle(const proto::PresenceList& f);
  void handle(const proto::ErrorFrame& f);
  void handle(const proto::MessageEvent& f);
  void handle(const proto::MemberEvent& f);
  void handle(const proto::ChannelAdded& f);
  void handle(const proto::ChannelRemoved& f);
  void handle(const proto::ChannelUpdated& f);
  void handle(const proto::Receipt& f);
  void handle(const proto::TypingEvent& f);
  void handle(const proto::PresenceEvent& f);
  void handle(const proto::Notice& f);

  // sync and apply
  void request_sync();
  void apply_channel_sync(const proto::ChannelSync& cs);
  /// Returns true when an open timeline of the channel was updated by
  /// appending the message (no re-read needed); false when it must be rebuilt.
  bool apply_message(const proto::Message& m, bool may_append = false);
  bool note_append(Message m);
  void apply_info(ChannelRow& row, const proto::ChannelInfo& info);
  void advance_cursor(const std::string& channel, Version v);
  void note_received(const std::string& channel, Seq seq);
  void remove_channel_locally(const std::string& channel);
  void maybe_evict();

  // outbox
  Result<OpId> enqueue(OpRow row);
  void load_outbox();
  void pump_outbox();
  bool dispatch(OpRow& row);
  void set_op_state(OpRow& row, OpState s, std::optional<OpFailure> failure = std::nullopt);
  void op_succeeded(OpRow& row, Seq seq, Version version, TimeMs created_at);
  void forget_old_sends();
  void op_failed(OpRow& row, Errc code, const std::string& reason, std::uint32_t retry_after);
  OpRow* find_op(OpId id);
  OpRow* find_op_by_client_id(const std::string& client_id);
  void receipts_advance_ops(const std::string& channel, Seq read, Seq delivered);
  void flush_delivered();

  // typing
  void send_typing(const std::string& channel, proto::TypingState s);
  void clear_typing_out();
  void emit_typing(const std::string& channel);

  // view-models
  void mark_dirty(const std::string& channel);
  void flush_views();
  bool append_to_timeline(const std::string& channel, TimelineView& tv,
                          std::vector<Message>& appended);
  void commit_batch();
  std::vector<TimelineItem> build_timeline(const std::string& channel, Seq floor);
  void overlay_pending(std::vector<TimelineItem>& items) const;
  std::vector<ChannelItem> build_channel_list();
  std::vector<ChannelItem> refresh_channel_list();
  void emit(Event e) { events_.push_back(std::move(e)); }
  std::string new_client_id();
  bool live() const { return state_ == ConnectionState::live; }
  std::int64_t now() const { return clock_.steady_ms(); }
  std::int64_t wall() const { return clock_.now_ms(); }

  CoreOptions opt_;
  Store& store_;
  const Clock& clock_;
  TokenProvider tokens_;
  Rng rng_;          // client ids
  Backoff backoff_;  // reconnect delays (full jitter)

  // connection
  ConnectionState state_ = ConnectionState::disconnected;
  bool want_connected_ = false;
  bool suspended_ = false;
  ConnId conn_ = 0;  // current connection (0 = none)
  ConnId conn_seq_ = 0;
  std::string token_;
  std::string rejected_token_;
  std::int64_t reconnect_at_ = -1;
  int batch_depth_ = 0;                // > 0: flush_views() waits for end_batch()
  bool batch_tx_ = false;              // begin_batch() opened the store transaction
  std::size_t batch_actions_ = 0;      // actions_ queued before the batch began
  std::uint32_t min_retry_delay_ = 0;  // notice.retry_after_ms: floor of the next delay
  std::int64_t connect_deadline_ = -1;
  std::int64_t ping_at_ = -1;
  std::int64_t last_rx_ = 0;
  std::uint32_t heartbeat_ms_ = 25'000;
  proto::RequestId req_seq_ = 0;
  std::map<proto::RequestId, Pending> pending_;
  proto::RequestId sync_req_ = 0;
  bool resync_wanted_ = false;
  std::string me_;
  std::uint32_t max_body_bytes_ = 0;  // from welcome.limits (persisted); 0 = protocol maximum
  std::uint32_t max_metadata_bytes_ = 0;
  Result<void> check_limits(const std::string& body, const std::string& metadata) const;

  // outbox (open ops in memory, by id)
  std::map<OpId, OpRow> ops_;
  std::int64_t outbox_retry_at_ = -1;
  std::map<OpId, std::int64_t> not_before_;

  // receipts
  std::map<std::string, Seq> delivered_local_;
  std::int64_t delivered_flush_at_ = -1;

  // typing
  std::map<std::string, TypingOut> typing_out_;
  std::map<std::string, std::map<std::string, std::int64_t>> typing_in_;  // ch -> user -> expiry

  // view-models
  std::map<std::string, TimelineView> timelines_;
  std::vector<ChannelItem> channel_list_;
  bool list_rebuild_ = false;              // re-read every channel (eviction)
  std::set<std::string> dirty_channels_;   // re-read just these rows
  std::set<std::string> dirty_timelines_;  // rebuilt from the store
  // Live messages that only extend an open timeline at the bottom, applied to
  // the view without re-reading its window (unless it is rebuilt anyway).
  std::map<std::string, std::vector<Message>> timeline_appends_;

  std::vector<Action> actions_;
  std::deque<Event> events_;
};

}  // namespace chatsdk::client
