// The engine's in-memory state: users, channels (with members and who of them
// is online) and sessions. Owned and mutated by the loop thread only.
//
// Pointers between these objects are stable: users and channels are held by
// unique_ptr, member slots live in node-based maps. Fan-out walks
// Channel::online (member slots of users with >= 1 live session), so a message
// to a large channel costs O(online members), not O(members).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/protocol/frames.hpp"
#include "server/api.hpp"
#include "server/engine/token_bucket.hpp"

namespace chatsdk::server::engine {

struct Channel;
struct UserEntry;

/// One user's membership of one channel.
struct MemberSlot {
  Channel* channel = nullptr;
  UserEntry* user = nullptr;
  proto::Role role = proto::Role::member;
  proto::Seq read_seq = 0;  // in-memory receipt cursors (max semantics)
  proto::Seq delivered_seq = 0;
};

struct UserEntry {
  std::string id;
  std::vector<SessionId> sessions;       // live authenticated sessions
  std::vector<MemberSlot*> memberships;  // every channel the user is in
  TokenBucket sends;                     // per-user mutation budget, shared by sessions
  proto::TimeMs last_seen = 0;           // when the last session ended (this process)
  std::uint32_t mark = 0;                // scratch for de-duplicating recipients

  bool online() const { return !sessions.empty(); }
};

struct Channel {
  proto::ChannelInfo info;  // info.role unused
  std::unordered_map<std::string, MemberSlot> members;
  std::unordered_set<MemberSlot*> online;

  /// Typing, per-user receipts and presence are fanned out only here.
  bool small(std::uint32_t threshold) const {
    return info.kind != proto::ChannelKind::large && members.size() <= threshold;
  }
  MemberSlot* find(const std::string& user) {
    auto it = members.find(user);
    return it == members.end() ? nullptr : &it->second;
  }
};

struct Session {
  SessionId id = 0;
  UserEntry* user = nullptr;       // set once authenticated
  std::int64_t last_frame_ms = 0;  // steady
  std::int64_t token_exp_ms = 0;   // wall clock: token exp + leeway (close 4003 then)
  std::int64_t token_due_ms = 0;   // steady: the armed token timer (others are stale)
  TokenBucket frames;
  TokenBucket typing;
  std::int64_t reject_window_ms = 0;  // steady start of the rate-limit rejection window
  std::uint32_t rejects = 0;
  std::uint16_t bad_frames = 0;  // consecutive undecodable frames
  bool closing = false;
  bool expiry_noticed = false;
};

}  // namespace chatsdk::server::engine
