// The simulated users of one generator process and everything they measure.
//
// Bench owns the epoll loop, the clients (one WebSocket connection per
// simulated user), the rooms they join, and the counters and histograms the
// scenarios report. It implements the chatsdk protocol mapping of the
// WORKLOAD.md operations:
//   connect+auth  WebSocket to /ws, first frame hello{token (JWT HS256, sub = user)}
//   join          the room's first member creates it (channel_create, public);
//                 the others join{channel} once it exists -> channel{info}
//   send          send{channel, client_id, body, metadata{sent_at}} -> sent{seq}
//                 (already_applied{seq} for a retry); deliveries are
//                 message{change: created} events
//   sync          history{channel, after, limit 500} -> history_page{more_after}
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/util/random.hpp"
#include "hist.hpp"
#include "options.hpp"
#include "report.hpp"
#include "seq_set.hpp"
#include "ws_engine.hpp"

namespace chatsdk::bench {

inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint32_t kPageLimit = 500;

struct PerMsg {
  std::uint32_t cnt = 0;
  float max_ms = 0;
  bool in_window = false;
};

struct Room {
  std::string name;
  std::string kind = "group";
  std::uint32_t creator = kNone;
  bool created = false;
  bool create_sent = false;
  std::vector<std::uint32_t> waiting;  // clients waiting for the room to exist
  std::uint32_t members = 0;           // joined members in this process
  std::uint32_t remote_members = 0;    // joined members hosted by worker processes
  std::vector<std::uint32_t> member_clients;
  SeqSet assigned;              // seqs acked to any sender (this process)
  std::vector<PerMsg> per_msg;  // by seq (room scenario)
  std::uint32_t total_members() const { return members + remote_members; }
};

enum class ReqKind : std::uint8_t { hello, create, join, send, history, other };

struct Pending {
  ReqKind kind = ReqKind::other;
  std::uint32_t room = kNone;
  double sent_at = 0;
};

enum class Phase : std::uint8_t { idle, connecting, joining, ready, failed, closed };

struct Client {
  std::uint32_t idx = 0;
  std::uint32_t global_idx = 0;  // across generator processes (source address choice)
  std::string user;
  std::string token;
  std::vector<std::uint32_t> rooms;
  std::uint32_t url = 0;
  std::unique_ptr<Conn> conn;
  Phase phase = Phase::idle;
  std::uint32_t joins_left = 0;
  double t_start = 0;
  SeqSet seen;  // seqs held in rooms[0]
  std::uint64_t next_id = 2;
  std::uint64_t sent = 0;
  std::unordered_map<std::uint64_t, Pending> pending;
  std::uint32_t disc = 0;
  // storm
  double reconn_ms = -1, caught_ms = -1;
  std::uint64_t recovered = 0, sync_pages = 0;
  // check scenario: raw copies of every frame received
  bool capture = false;
  std::vector<std::string> frames;
  std::string fail_reason;
};

/// Send/ack/delivery accounting over the measurement window.
struct Traffic {
  double w_start = std::numeric_limits<double>::infinity();
  double w_end = std::numeric_limits<double>::infinity();
  Hist lat, ack, lag;
  std::uint64_t deliv = 0, deliv_win = 0, dup_deliv = 0, echoes = 0;
  std::uint64_t sends = 0, sends_win = 0, pending = 0, acked = 0, ack_timeouts = 0, ack_errors = 0,
                ack_dup = 0, assign_dup = 0, expected = 0;
  bool per_msg = false;
  std::map<std::string, std::uint64_t> errors;
};

struct Ramp {
  bool active = false;
  std::vector<std::uint32_t> order;
  std::size_t next = 0;
  std::uint32_t inflight = 0, done = 0, failed = 0, conc = 200;
  Hist conn_hist;
  double t0 = 0;
  std::map<std::string, std::uint64_t> errors;
};

class Bench : public Handler {
 public:
  Bench(const Options& opts, ReportContext ctx);

  // ---- configuration
  const Options& opts() const { return opts_; }
  const ReportContext& ctx() const { return ctx_; }
  const std::vector<pid_t>& server_pids() const { return server_pids_; }
  std::vector<pid_t> worker_pids;  // extra generator processes (--procs)
  std::string run_id() const { return ctx_.run_id; }
  std::size_t url_count() const { return endpoints_.size(); }
  double ack_timeout_ms = 10000;
  double connect_timeout_ms = 20000;
  std::string body;
  /// Send client ids as the SDK makes them (ULID: time-ordered, `--client-ids
  /// ulid`, the default) or as "<user>-<n>" (`--client-ids counter`), which
  /// sorts by sender and so lands on a random page of the server's dedupe index.
  bool ulid_client_ids = true;
  Rng id_rng{Rng::entropy_seed()};
  std::uint32_t source_spread = 25000;  // connections per local source address
  bool spread_sources = false;

  // ---- world
  Loop& loop() { return loop_; }
  std::uint32_t add_room(const std::string& name, const std::string& kind = "group");
  std::uint32_t add_client(const std::string& user, std::vector<std::uint32_t> rooms,
                           std::uint32_t global_idx);
  std::vector<Client>& clients() { return clients_; }
  void reserve_clients(std::size_t n) { clients_.reserve(n); }
  std::vector<Room>& rooms() { return rooms_; }
  Traffic& traffic() { return tr_; }
  /// The first client listing a room creates it (call after adding clients).
  void assign_creators();

  // ---- connecting
  /// Connects and joins `order` with at most `conc` in flight; returns when all
  /// are ready or failed (or after max_ms).
  Ramp& connect_all(const std::vector<std::uint32_t>& order, std::uint32_t conc, double max_ms);
  /// Starts (re)connecting one client now; on_ready fires when joined.
  void start_client(std::uint32_t idx);
  std::function<void(Client&)> on_ready;
  std::function<void(Client&)> on_lost;  // a ready client's connection dropped
  Ramp& ramp() { return ramp_; }

  // ---- requests
  void send_message(Client& c, std::uint32_t room);
  std::uint64_t send_history(Client& c, std::uint32_t room, std::uint64_t after,
                             std::uint32_t limit = kPageLimit);
  /// WORKLOAD `sync(room, after_seq)`: history after a seq. `after: 0` cannot
  /// be told apart from an absent `after` on the wire (it means "newest page"),
  /// so the first page from the start is asked as `before: limit + 1`, which
  /// names exactly seqs 1..limit.
  std::uint64_t send_sync(Client& c, std::uint32_t room, std::uint64_t after);
  /// Sends a raw request frame built by `build(id)`; returns its id.
  std::uint64_t send_request(Client& c, ReqKind kind,
                             const std::function<std::string(std::uint64_t)>& build);
  std::string sent_at_text(double t) const;

  // ---- storm hooks
  double storm_t1 = 0;
  Hist reconn_hist, caught_hist;
  std::uint64_t sync_dup = 0, sync_failed = 0;

  // ---- per-iteration work
  std::vector<std::function<void(double)>> tickers;
  void tick();
  std::map<int, std::uint64_t> close_codes;
  bool fast_scan = true;  // message events without a DOM (--no-fast-scan: always the full parser)
  std::uint64_t fast_frames = 0, dom_frames = 0, ignored_frames = 0;
  std::uint64_t notices = 0;

  // Handler
  void on_open(Conn& c) override;
  void on_message(Conn& c, char* data, std::size_t len) override;
  void on_closed(Conn& c, int code, const char* why) override;

 private:
  void handle_frame(Client& c, char* frame, std::size_t len, double now);
  void on_delivery(Client& c, std::uint64_t seq, std::string_view sender, bool has_sent_at,
                   double sent_at, double now);
  void fail_client(Client& c, const std::string& why);
  void client_done(Client& c, bool ok);
  void start_joins(Client& c);
  void send_join(Client& c, std::uint32_t room);
  void room_created(std::uint32_t room);
  void joined(Client& c, std::uint32_t room, double now);
  void heartbeat(double now);

  const Options& opts_;
  ReportContext ctx_;
  std::vector<pid_t> server_pids_;
  std::vector<Endpoint> endpoints_;
  std::string secret_;
  Loop loop_;
  std::vector<Room> rooms_;
  std::unordered_map<std::string, std::uint32_t> room_by_name_;
  std::vector<Client> clients_;
  Traffic tr_;
  Ramp ramp_;
  double heartbeat_ms_ = 25000;
  double last_hb_ = 0, last_timeout_scan_ = 0, last_progress_ = 0;
};

}  // namespace chatsdk::bench
