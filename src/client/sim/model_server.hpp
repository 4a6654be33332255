// An in-memory model of the chatsdk server for the seeded simulation.
//
// Deterministic and synchronous: handle() applies one decoded client frame
// and returns every frame it causes, addressed to sessions. It honours the
// protocol semantics the simulated clients rely on (docs/protocol.md,
// SEMANTICS.md): per-channel gapless seq and a version bumped by every change,
// idempotent mutations keyed by (user, client_id) answered `already_applied`
// with the original result, sync deltas by version (limit, `more`,
// too_far_behind, joined, removed), keyset history, read cursors that never
// move backwards, and fan-out of message and receipt events. Durable state
// (channels, messages, cursors, the dedupe table) survives restart(); live
// sessions do not. Channels and memberships are fixed at construction: the
// simulation exercises messaging, not channel administration.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/protocol/frames.hpp"

namespace chatsdk::client::sim {

using SessionId = std::uint64_t;

struct Outgoing {
  SessionId session = 0;
  proto::ServerFrame frame;
};

/// One mutation the server applied (not replays): the harness checks each
/// client op appears here exactly once.
struct AppliedOp {
  std::string user;
  std::string client_id;
  std::string channel;
  std::string kind;  // send, edit, delete, react
  proto::Seq seq = 0;
};

class ModelServer {
 public:
  struct ChannelState {
    proto::ChannelInfo info;               // info.last_seq / info.version are the head
    std::vector<proto::Message> messages;  // index = seq - 1
    std::map<std::string, std::set<std::string>> reactors;  // "seq/emoji" -> users
    std::map<std::string, proto::Seq> read_seq;             // user -> read cursor
    std::map<std::string, proto::Seq> delivered_seq;
    std::set<std::string> members;
  };

  /// sync_limit: changes per channel per sync page when the client names none
  /// (the real server's default is 200; smaller pages exercise `more`).
  explicit ModelServer(std::int64_t start_time_ms = 1'700'000'000'000,
                       std::uint32_t sync_limit = 200)
      : now_(start_time_ms), sync_limit_(sync_limit) {}

  /// Creates a group channel with these members (setup, before any session).
  void add_channel(const std::string& id, const std::vector<std::string>& members);
  /// Appends `n` messages from `sender` (setup: history older than the simulation).
  void preload(const std::string& channel, const std::string& sender, int n);
  void set_time(std::int64_t wall_ms) { now_ = wall_ms; }

  void open_session(SessionId s);
  void close_session(SessionId s);
  /// Drops every live session; durable state stays.
  void restart() {
    sessions_.clear();
    if (broken_dedupe_) dedupe_.clear();
  }
  /// A deliberately wrong server for the harness's self-test: restarts forget
  /// which client_ids were applied, so resends apply twice.
  void break_dedupe() { broken_dedupe_ = true; }

  std::vector<Outgoing> handle(SessionId s, const proto::ClientFrame& frame);

  /// The token a simulated user presents (the model trusts it: "t.<user>").
  static std::string token_for(const std::string& user) { return "t." + user; }

  const std::map<std::string, ChannelState>& channels() const { return channels_; }
  const std::vector<AppliedOp>& applied() const { return applied_; }
  std::uint64_t replays() const { return replays_; }

 private:
  struct Session {
    std::string user;  // empty until hello
  };
  struct Result {
    std::string channel;
    proto::Seq seq = 0;
    proto::Version version = 0;
  };

  std::vector<Outgoing> on_send(SessionId s, const std::string& user, const proto::Send& f);
  std::vector<Outgoing> on_change(SessionId s, const std::string& user, const std::string& kind,
                                  const std::string& channel, proto::Seq seq,
                                  const std::string& client_id, proto::RequestId id,
                                  const proto::ClientFrame& frame);
  std::vector<Outgoing> on_sync(SessionId s, const std::string& user, const proto::Sync& f);
  std::vector<Outgoing> on_history(SessionId s, const std::string& user, const proto::History& f);
  std::vector<Outgoing> on_mark_read(SessionId s, const std::string& user,
                                     const proto::MarkRead& f);
  std::vector<Outgoing> on_delivered(SessionId s, const std::string& user,
                                     const proto::MarkDelivered& f);

  proto::ServerFrame error(proto::RequestId id, const char* code) const;
  proto::Message for_user(const ChannelState& c, const proto::Message& m,
                          const std::string& user) const;
  proto::ChannelSync snapshot(const ChannelState& c, const std::string& user,
                              proto::SyncStatus status) const;
  void counters(const ChannelState& c, const std::string& user, proto::ChannelSync& cs) const;
  /// Frames to every authenticated session of the channel's members except `skip`.
  void fan_out(const ChannelState& c, SessionId skip, const proto::ServerFrame& f,
               std::vector<Outgoing>& out) const;
  void fan_receipt(const ChannelState& c, SessionId skip, const std::string& user,
                   std::vector<Outgoing>& out) const;

  std::int64_t now_;
  std::uint32_t sync_limit_;
  std::map<std::string, ChannelState> channels_;
  std::map<SessionId, Session> sessions_;
  std::map<std::pair<std::string, std::string>, Result> dedupe_;  // (user, client_id)
  std::vector<AppliedOp> applied_;
  std::uint64_t replays_ = 0;
  bool broken_dedupe_ = false;
};

}  // namespace chatsdk::client::sim
