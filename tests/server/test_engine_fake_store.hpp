// An in-memory store::Store for the engine's unit tests: enough of the store
// contract (seq/version assignment, idempotency, membership and permission
// re-checks, receipts, last seen, reads) to drive the engine, with results
// delivered through the LoopPoster like the real store's writer thread.
// The real SQLite store has its own tests; end-to-end tests use it.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/api.hpp"
#include "server/store/store.hpp"

namespace chatsdk::server::testing {

class FakeStore final : public store::Store {
 public:
  struct Chan {
    store::ChannelRecord rec;
    std::vector<proto::Message> messages;
    std::map<std::pair<proto::Seq, std::string>, std::set<std::string>>
        reactions;  // (seq, emoji) -> users
  };

  explicit FakeStore(LoopPoster& poster) : poster_(poster) {}

  // ---- test controls
  std::map<std::string, Chan> chans;
  std::vector<store::CursorsOp> cursor_writes;
  std::map<std::string, proto::TimeMs> last_seen;
  std::map<std::string, proto::UserProfile> profiles;
  std::optional<Errc> fail_next;  // the next write fails with this code
  int writes = 0;
  bool closed = false;

  void add_channel(const std::string& id, proto::ChannelKind kind,
                   std::vector<std::pair<std::string, proto::Role>> members,
                   bool is_public = false) {
    Chan c;
    c.rec.info.channel = id;
    c.rec.info.kind = kind;
    c.rec.info.name = id;
    c.rec.info.is_public = is_public;
    for (auto& [u, r] : members)
      c.rec.members.push_back({u, r});
    c.rec.info.member_count = static_cast<std::uint32_t>(c.rec.members.size());
    chans[id] = std::move(c);
  }

  // ---- Store
  Result<void> open() override { return {}; }
  Result<store::StartupState> load() override {
    store::StartupState s;
    for (auto& [id, c] : chans)
      s.channels.push_back(c.rec);
    return s;
  }
  void write(store::WriteOp op, std::function<void(store::WriteResult)> done) override {
    ++writes;
    store::WriteResult r;
    if (fail_next) {
      r.error = Error{*fail_next, "injected"};
      fail_next.reset();
    } else {
      r = std::visit([&](auto& o) { return apply(o); }, op);
    }
    poster_.post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }
  void read(store::ReadOp op, std::function<void(store::ReadResult)> done) override {
    store::ReadResult r = std::visit([&](auto& q) { return query(q); }, op);
    poster_.post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }
  void close(std::function<void()> done) override {
    closed = true;
    poster_.post(std::move(done));
  }

 private:
  static store::WriteResult fail(Errc code) {
    store::WriteResult r;
    r.error = Error{code, std::string(errc_name(code))};
    return r;
  }
  const store::MemberRecord* member(Chan& c, const std::string& u) {
    for (auto& m : c.rec.members) {
      if (m.user == u) return &m;
    }
    return nullptr;
  }
  std::optional<store::WriteResult> replay(const std::string& user, const std::string& client_id) {
    if (client_id.empty()) return std::nullopt;
    auto it = dedupe_.find({user, client_id});
    if (it == dedupe_.end()) return std::nullopt;
    store::WriteResult r;
    r.already_applied = true;
    r.channel = it->second.channel;
    r.seq = it->second.seq;
    r.version = it->second.version;
    return r;
  }
  void remember(const std::string& user, const std::string& client_id,
                const store::WriteResult& r) {
    if (!client_id.empty()) dedupe_[{user, client_id}] = r;
  }
  store::WriteResult finish(const std::string& user, const std::string& client_id,
                            store::WriteResult r) {
    remember(user, client_id, r);
    return r;
  }
  Chan* chan(const std::string& id) {
    auto it = chans.find(id);
    return it == chans.end() ? nullptr : &it->second;
  }
  std::vector<proto::Reaction> reactions_of(Chan& c, proto::Seq seq) {
    std::vector<proto::Reaction> out;
    for (auto& [key, users] : c.reactions) {
      if (key.first == seq && !users.empty()) {
        out.push_back({key.second, static_cast<std::uint32_t>(users.size()), false});
      }
    }
    return out;
  }

  store::WriteResult apply(store::SendOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    if (!member(*c, o.user)) return fail(Errc::not_member);
    auto& info = c->rec.info;
    if (o.reply_to != 0 && o.reply_to > info.last_seq) return fail(Errc::not_found);
    proto::Message m;
    m.channel = o.channel;
    m.seq = ++info.last_seq;
    m.version = ++info.version;
    m.sender = o.user;
    m.client_id = o.client_id;
    m.body = o.body;
    m.created_at = o.now;
    m.reply_to = o.reply_to;
    m.mentions = o.mentions;
    m.metadata = o.metadata;
    c->messages.push_back(m);
    store::WriteResult r;
    r.channel = o.channel;
    r.seq = m.seq;
    r.version = m.version;
    r.created_at = o.now;
    r.messages.push_back(m);
    if (o.reply_to != 0) {
      auto& parent = c->messages[o.reply_to - 1];
      ++parent.reply_count;
      parent.version = ++info.version;
      r.messages.push_back(parent);
      r.version = parent.version;
    }
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::EditOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    if (!member(*c, o.user)) return fail(Errc::not_member);
    if (o.seq == 0 || o.seq > c->rec.info.last_seq) return fail(Errc::not_found);
    auto& m = c->messages[o.seq - 1];
    if (m.sender != o.user) return fail(Errc::permission_denied);
    if (m.deleted) return fail(Errc::message_deleted);
    m.body = o.body;
    m.edited_at = o.now;
    m.version = ++c->rec.info.version;
    store::WriteResult r;
    r.channel = o.channel;
    r.seq = m.seq;
    r.version = m.version;
    r.messages.push_back(m);
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::DeleteOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    const auto* mem = member(*c, o.user);
    if (!o.as_admin && !mem) return fail(Errc::not_member);
    if (o.seq == 0 || o.seq > c->rec.info.last_seq) return fail(Errc::not_found);
    auto& m = c->messages[o.seq - 1];
    if (!o.as_admin && m.sender != o.user && mem->role == proto::Role::member) {
      return fail(Errc::permission_denied);
    }
    store::WriteResult r;
    r.channel = o.channel;
    r.seq = m.seq;
    if (!m.deleted) {
      m.deleted = true;
      m.body.clear();
      m.metadata = {};
      m.reactions.clear();
      m.version = ++c->rec.info.version;
      r.messages.push_back(m);
    }
    r.version = m.version;
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::ReactOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    if (!member(*c, o.user)) return fail(Errc::not_member);
    if (o.seq == 0 || o.seq > c->rec.info.last_seq) return fail(Errc::not_found);
    auto& m = c->messages[o.seq - 1];
    if (m.deleted) return fail(Errc::message_deleted);
    auto& users = c->reactions[{o.seq, o.emoji}];
    const bool changed =
        o.action == proto::ReactAction::add ? users.insert(o.user).second : users.erase(o.user) > 0;
    store::WriteResult r;
    r.channel = o.channel;
    r.seq = o.seq;
    if (changed) {
      m.reactions = reactions_of(*c, o.seq);
      m.version = ++c->rec.info.version;
      r.messages.push_back(m);
    }
    r.version = m.version;
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::CreateChannelOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    std::string id = o.channel;
    if (o.kind == proto::ChannelKind::direct) {
      if (o.members.size() != 1) return fail(Errc::invalid_argument);
      auto a = o.user, b = o.members[0].user;
      if (b < a) std::swap(a, b);
      id = "dm:" + a + ":" + b;
      if (Chan* c = chan(id)) {
        store::WriteResult r;
        r.channel = id;
        r.version = c->rec.info.version;
        r.channel_state = c->rec;
        return r;
      }
    } else if (id.empty()) {
      id = "c" + std::to_string(++generated_);
    } else if (chan(id)) {
      return fail(Errc::already_exists);
    }
    Chan c;
    c.rec.info.channel = id;
    c.rec.info.kind = o.kind;
    c.rec.info.name = o.name;
    c.rec.info.is_public = o.is_public;
    c.rec.info.created_by = o.user;
    c.rec.info.created_at = o.now;
    c.rec.info.metadata = o.metadata;
    if (!o.user.empty()) {
      c.rec.members.push_back({o.user, o.kind == proto::ChannelKind::direct ? proto::Role::member
                                                                            : proto::Role::owner});
    }
    for (auto& m : o.members) {
      if (m.user != o.user) c.rec.members.push_back(m);
    }
    c.rec.info.member_count = static_cast<std::uint32_t>(c.rec.members.size());
    c.rec.info.version = 1;
    store::WriteResult r;
    r.channel = id;
    r.version = 1;
    r.channel_state = c.rec;
    chans[id] = std::move(c);
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::UpdateChannelOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    const auto* mem = member(*c, o.user);
    if (!o.as_admin && (!mem || mem->role == proto::Role::member))
      return fail(Errc::permission_denied);
    if (o.name) c->rec.info.name = *o.name;
    if (o.is_public) c->rec.info.is_public = *o.is_public;
    if (o.metadata) c->rec.info.metadata = *o.metadata;
    store::WriteResult r;
    r.channel = o.channel;
    r.version = ++c->rec.info.version;
    r.channel_state = c->rec;
    r.channel_state->members.clear();  // like a store that sends only the info
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::AddMembersOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    if (o.join) {
      if (!c->rec.info.is_public) return fail(Errc::permission_denied);
    } else if (!o.as_admin) {
      const auto* mem = member(*c, o.user);
      if (!mem) return fail(Errc::not_member);
      if (mem->role == proto::Role::member) return fail(Errc::permission_denied);
    }
    if (c->rec.info.kind == proto::ChannelKind::direct) return fail(Errc::permission_denied);
    store::WriteResult r;
    r.channel = o.channel;
    for (auto& u : o.users) {
      if (member(*c, u)) continue;
      c->rec.members.push_back({u, o.role});
      r.member_changes.push_back({u, proto::MemberChange::added, o.role, ++c->rec.info.version});
    }
    c->rec.info.member_count = static_cast<std::uint32_t>(c->rec.members.size());
    r.version = c->rec.info.version;
    r.channel_state = c->rec;
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::RemoveMembersOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    const auto* mem = member(*c, o.user);
    if (!o.as_admin && !mem) return fail(Errc::not_member);
    store::WriteResult r;
    r.channel = o.channel;
    for (auto& u : o.users) {
      if (!o.as_admin && u != o.user && mem->role == proto::Role::member) {
        return fail(Errc::permission_denied);
      }
      auto& ms = c->rec.members;
      auto it = std::find_if(ms.begin(), ms.end(), [&](auto& m) { return m.user == u; });
      if (it == ms.end()) continue;
      r.member_changes.push_back(
          {u, proto::MemberChange::removed, it->role, ++c->rec.info.version});
      ms.erase(it);
    }
    c->rec.info.member_count = static_cast<std::uint32_t>(c->rec.members.size());
    r.version = c->rec.info.version;
    r.channel_state = c->rec;
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::SetRoleOp& o) {
    if (auto r = replay(o.user, o.client_id)) return *r;
    Chan* c = chan(o.channel);
    if (!c) return fail(Errc::not_found);
    const auto* mem = member(*c, o.user);
    if (!o.as_admin && (!mem || mem->role != proto::Role::owner))
      return fail(Errc::permission_denied);
    store::WriteResult r;
    r.channel = o.channel;
    for (auto& m : c->rec.members) {
      if (m.user == o.target && m.role != o.role) {
        m.role = o.role;
        r.member_changes.push_back(
            {m.user, proto::MemberChange::role, o.role, ++c->rec.info.version});
      }
    }
    r.version = c->rec.info.version;
    r.channel_state = c->rec;
    return finish(o.user, o.client_id, r);
  }
  store::WriteResult apply(store::SetProfileOp& o) {
    auto& p = profiles[o.user];
    p.user = o.user;
    if (o.display_name) p.display_name = *o.display_name;
    if (o.avatar_url) p.avatar_url = *o.avatar_url;
    if (o.metadata) p.metadata = *o.metadata;
    p.updated_at = o.now;
    store::WriteResult r;
    r.profile = p;
    return r;
  }
  store::WriteResult apply(store::CursorsOp& o) {
    cursor_writes.push_back(o);
    return {};
  }
  store::WriteResult apply(store::LastSeenOp& o) {
    last_seen[o.user] = o.last_seen;
    return {};
  }

  store::ReadResult query(store::SyncQuery& q) {
    proto::SyncResult out;
    for (auto& [id, c] : chans) {
      if (!member(c, q.user)) continue;
      proto::ChannelSync cs;
      cs.channel = id;
      cs.status = proto::SyncStatus::joined;
      cs.version = c.rec.info.version;
      cs.last_seq = c.rec.info.last_seq;
      out.channels.push_back(cs);
    }
    return store::ReadValue{out};
  }
  store::ReadResult query(store::HistoryQuery& q) {
    Chan* c = chan(q.channel);
    if (!c) return Error{Errc::not_found, "no channel"};
    proto::HistoryPage page;
    page.channel = q.channel;
    for (auto& m : c->messages) {
      if ((!q.before || m.seq < *q.before) && m.seq > q.after.value_or(0)) {
        page.messages.push_back(m);
      }
    }
    if (page.messages.size() > q.limit) {
      page.messages.erase(page.messages.begin(),
                          page.messages.end() - static_cast<std::ptrdiff_t>(q.limit));
      page.more_before = true;
    }
    return store::ReadValue{page};
  }
  store::ReadResult query(store::MembersQuery& q) {
    Chan* c = chan(q.channel);
    if (!c) return Error{Errc::not_found, "no channel"};
    proto::MembersPage page;
    page.channel = q.channel;
    for (auto& m : c->rec.members)
      page.members.push_back({m.user, m.role, false, 0, 0});
    return store::ReadValue{page};
  }
  store::ReadResult query(store::ProfilesQuery& q) {
    proto::Profiles out;
    for (auto& u : q.users) {
      if (auto it = profiles.find(u); it != profiles.end()) out.users.push_back(it->second);
    }
    return store::ReadValue{out};
  }
  store::ReadResult query(store::LastSeenQuery& q) {
    proto::PresenceList out;
    for (auto& u : q.users) {
      proto::PresenceInfo p;
      p.user = u;
      if (auto it = last_seen.find(u); it != last_seen.end()) p.last_seen = it->second;
      out.users.push_back(p);
    }
    return store::ReadValue{out};
  }
  store::ReadResult query(store::ChannelsQuery& q) {
    std::vector<proto::ChannelInfo> out;
    for (auto& [id, c] : chans) {
      if (id > q.after && out.size() < q.limit) out.push_back(c.rec.info);
    }
    return store::ReadValue{out};
  }

  LoopPoster& poster_;
  std::map<std::pair<std::string, std::string>, store::WriteResult> dedupe_;
  int generated_ = 0;
};

}  // namespace chatsdk::server::testing
