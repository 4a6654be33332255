// Reads: membership fast path, then a store query on the reader thread; the
// answer goes back to the requesting session with its request id.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "server/engine/engine_impl.hpp"

namespace chatsdk::server {

namespace {
constexpr std::uint32_t kDefaultHistory = 50;
constexpr std::uint32_t kDefaultMembersPage = 100;
constexpr std::uint32_t kMaxMembersPage = 1000;
}  // namespace

void Engine::read(store::ReadOp op, std::function<void(store::ReadResult&)> done) {
  std::weak_ptr<int> alive = alive_;
  store_->read(std::move(op), [this, alive, done = std::move(done)](store::ReadResult r) {
    if (alive.expired()) return;
    note_store_result(r.code());
    done(r);
  });
}

void Engine::on_sync(Session& s, proto::Sync& f) {
  store::SyncQuery q;
  q.user = s.user->id;
  q.cursors = std::move(f.channels);
  q.limit = f.limit == 0 ? config_.sync_channel_max : std::min(f.limit, config_.sync_channel_max);
  read(std::move(q), [this, sid = s.id, rid = f.id, user = s.user->id](store::ReadResult& r) {
    if (!r) return send_error(sid, rid, r.error().code, r.error().message);
    auto* v = std::get_if<proto::SyncResult>(&*r);
    if (v == nullptr) return send_error(sid, rid, Errc::internal, "unexpected read result");
    v->id = rid;
    // Receipt cursors live in memory and reach the store up to a flush
    // interval later; the store's are the durable floor. Both ways, max wins:
    // the cache learns the durable cursors (it starts without them), and the
    // reply carries cursors not yet flushed, so counts converge at once.
    for (auto& cs : v->channels) {
      Channel* ch = find_channel(cs.channel);
      if (ch == nullptr) continue;
      if (MemberSlot* slot = ch->find(user)) {
        slot->read_seq = std::max(slot->read_seq, cs.read_seq);
        slot->delivered_seq = std::max(slot->delivered_seq, cs.delivered_seq);
        if (slot->read_seq > cs.read_seq) {
          cs.read_seq = slot->read_seq;
          cs.unread =
              cs.last_seq > cs.read_seq
                  ? static_cast<std::uint32_t>(std::min<proto::Seq>(
                        cs.last_seq - cs.read_seq, std::numeric_limits<std::uint32_t>::max()))
                  : 0;
          if (cs.unread == 0) cs.mentions = 0;
        }
        cs.delivered_seq = std::max(cs.delivered_seq, slot->delivered_seq);
      }
      if (!ch->small(config_.small_channel_threshold)) continue;
      for (auto& m : cs.members) {
        const MemberSlot* other = m.removed ? nullptr : ch->find(m.user);
        if (other != nullptr) m.read_seq = std::max(m.read_seq, other->read_seq);
      }
    }
    reply(sid, std::move(*v));
  });
}

void Engine::on_history(Session& s, proto::History& f) {
  if (f.before.has_value() && f.after.has_value()) {
    return send_error(s.id, f.id, Errc::invalid_argument, "give at most one of before and after");
  }
  if (!require_member(s, f.id, f.channel)) return;
  store::HistoryQuery q;
  q.channel = std::move(f.channel);
  q.user = s.user->id;
  q.before = f.before;
  q.after = f.after;
  q.limit = std::min(f.limit == 0 ? kDefaultHistory : f.limit, config_.history_max);
  read(std::move(q), [this, sid = s.id, rid = f.id](store::ReadResult& r) {
    if (!r) return send_error(sid, rid, r.error().code, r.error().message);
    auto* v = std::get_if<proto::HistoryPage>(&*r);
    if (v == nullptr) return send_error(sid, rid, Errc::internal, "unexpected read result");
    v->id = rid;
    reply(sid, std::move(*v));
  });
}

void Engine::on_members_list(Session& s, proto::MembersList& f) {
  if (!require_member(s, f.id, f.channel)) return;
  store::MembersQuery q;
  q.channel = std::move(f.channel);
  q.after = std::move(f.after);
  q.limit = std::min(f.limit == 0 ? kDefaultMembersPage : f.limit, kMaxMembersPage);
  read(std::move(q), [this, sid = s.id, rid = f.id](store::ReadResult& r) {
    if (!r) return send_error(sid, rid, r.error().code, r.error().message);
    auto* v = std::get_if<proto::MembersPage>(&*r);
    if (v == nullptr) return send_error(sid, rid, Errc::internal, "unexpected read result");
    v->id = rid;
    reply(sid, std::move(*v));
  });
}

void Engine::on_profiles_get(Session& s, proto::ProfilesGet& f) {
  store::ProfilesQuery q;
  q.users = std::move(f.users);
  read(std::move(q), [this, sid = s.id, rid = f.id](store::ReadResult& r) {
    if (!r) return send_error(sid, rid, r.error().code, r.error().message);
    auto* v = std::get_if<proto::Profiles>(&*r);
    if (v == nullptr) return send_error(sid, rid, Errc::internal, "unexpected read result");
    v->id = rid;
    reply(sid, std::move(*v));
  });
}

void Engine::on_presence_query(Session& s, proto::PresenceQuery& f) {
  // Online comes from memory; last_seen from the store (persisted on going
  // offline), overlaid with what this process saw more recently.
  store::LastSeenQuery q;
  q.users = f.users;
  read(std::move(q),
       [this, sid = s.id, rid = f.id, users = std::move(f.users)](store::ReadResult& r) {
         if (!r) return send_error(sid, rid, r.error().code, r.error().message);
         proto::PresenceList list;
         list.id = rid;
         const auto* stored = std::get_if<proto::PresenceList>(&*r);
         std::unordered_map<std::string_view, proto::TimeMs> seen;
         if (stored != nullptr) {
           for (const auto& sp : stored->users)
             seen[sp.user] = sp.last_seen;
         }
         list.users.reserve(users.size());
         for (const auto& u : users) {
           proto::PresenceInfo p;
           p.user = u;
           if (auto it = seen.find(u); it != seen.end()) p.last_seen = it->second;
           if (const UserEntry* e = find_user(u)) {
             p.online = e->online();
             p.last_seen = std::max(p.last_seen, e->last_seen);
           }
           if (p.online) p.last_seen = 0;
           list.users.push_back(std::move(p));
         }
         reply(sid, list);
       });
}

}  // namespace chatsdk::server
