#include "client/sim/model_server.hpp"

#include <algorithm>

namespace chatsdk::client::sim {

namespace {
constexpr std::uint32_t kPage = 50;  // joined / too_far_behind page
constexpr proto::Version kTooFarBehind = 1000;
constexpr std::uint32_t kHistoryMax = 500;

std::string reactor_key(proto::Seq seq, const std::string& emoji) {
  return std::to_string(seq) + "/" + emoji;
}
}  // namespace

void ModelServer::add_channel(const std::string& id, const std::vector<std::string>& members) {
  ChannelState c;
  c.info.channel = id;
  c.info.kind = proto::ChannelKind::group;
  c.info.name = id;
  c.info.created_by = members.empty() ? std::string() : members.front();
  c.info.created_at = now_;
  c.info.member_count = static_cast<std::uint32_t>(members.size());
  c.info.version = 1;  // the creation is the channel's first change
  for (const auto& m : members) {
    c.members.insert(m);
    c.read_seq[m] = 0;
    c.delivered_seq[m] = 0;
  }
  channels_[id] = std::move(c);
}

void ModelServer::preload(const std::string& channel, const std::string& sender, int n) {
  ChannelState& c = channels_.at(channel);
  for (int i = 0; i < n; ++i) {
    proto::Message m;
    m.channel = channel;
    m.seq = ++c.info.last_seq;
    m.version = ++c.info.version;
    m.sender = sender;
    m.client_id = "pre." + channel + "." + std::to_string(m.seq);
    m.body = "old " + std::to_string(m.seq);
    m.created_at = now_ - 1'000'000 + static_cast<std::int64_t>(m.seq);
    c.messages.push_back(std::move(m));
  }
}

void ModelServer::open_session(SessionId s) {
  sessions_[s] = Session{};
}
void ModelServer::close_session(SessionId s) {
  sessions_.erase(s);
}

proto::ServerFrame ModelServer::error(proto::RequestId id, const char* code) const {
  proto::ErrorFrame e;
  e.id = id;
  e.code = code;
  e.message = code;
  return e;
}

std::vector<Outgoing> ModelServer::handle(SessionId s, const proto::ClientFrame& frame) {
  std::vector<Outgoing> out;
  auto it = sessions_.find(s);
  if (it == sessions_.end()) return out;  // the connection is gone
  if (auto* h = std::get_if<proto::Hello>(&frame)) {
    if (h->token.rfind("t.", 0) != 0) {
      out.push_back({s, error(h->id, "auth_failed")});
      return out;
    }
    it->second.user = h->token.substr(2);
    proto::Welcome w;
    w.id = h->id;
    w.user = it->second.user;
    w.session = "s" + std::to_string(s);
    w.protocol = 1;
    w.server_time = now_;
    w.heartbeat_ms = 10'000;
    w.limits.max_frame_bytes = 65536;
    w.limits.max_body_bytes = 16384;
    w.limits.history_max = kHistoryMax;
    w.limits.sync_channel_max = sync_limit_;
    out.push_back({s, w});
    return out;
  }
  const std::string user = it->second.user;
  if (user.empty()) {
    out.push_back({s, error(0, "unauthenticated")});
    return out;
  }
  return std::visit(
      [&](const auto& f) -> std::vector<Outgoing> {
        using F = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<F, proto::Ping>) {
          return {{s, proto::Pong{f.id, now_}}};
        } else if constexpr (std::is_same_v<F, proto::Send>) {
          return on_send(s, user, f);
        } else if constexpr (std::is_same_v<F, proto::Edit>) {
          return on_change(s, user, "edit", f.channel, f.seq, f.client_id, f.id, frame);
        } else if constexpr (std::is_same_v<F, proto::Delete>) {
          return on_change(s, user, "delete", f.channel, f.seq, f.client_id, f.id, frame);
        } else if constexpr (std::is_same_v<F, proto::React>) {
          return on_change(s, user, "react", f.channel, f.seq, f.client_id, f.id, frame);
        } else if constexpr (std::is_same_v<F, proto::Sync>) {
          return on_sync(s, user, f);
        } else if constexpr (std::is_same_v<F, proto::History>) {
          return on_history(s, user, f);
        } else if constexpr (std::is_same_v<F, proto::MarkRead>) {
          return on_mark_read(s, user, f);
        } else if constexpr (std::is_same_v<F, proto::MarkDelivered>) {
          return on_delivered(s, user, f);
        } else if constexpr (std::is_same_v<F, proto::Typing>) {
          return {};  // typing is not modelled: never stored, never checked
        } else if constexpr (std::is_same_v<F, proto::AuthRefresh>) {
          return {{s, proto::Ok{f.id, {}, 0}}};
        } else {
          return {{s, error(f.id, "unknown_type")}};
        }
      },
      frame);
}

std::vector<Outgoing> ModelServer::on_send(SessionId s, const std::string& user,
                                           const proto::Send& f) {
  std::vector<Outgoing> out;
  auto d = dedupe_.find({user, f.client_id});
  if (d != dedupe_.end()) {
    ++replays_;
    out.push_back({s, proto::AlreadyApplied{f.id, d->second.channel, f.client_id, d->second.seq,
                                            d->second.version}});
    return out;
  }
  auto ch = channels_.find(f.channel);
  if (ch == channels_.end()) return {{s, error(f.id, "not_found")}};
  ChannelState& c = ch->second;
  if (c.members.count(user) == 0) return {{s, error(f.id, "not_member")}};
  proto::Message m;
  m.channel = f.channel;
  m.seq = ++c.info.last_seq;
  m.version = ++c.info.version;
  m.sender = user;
  m.client_id = f.client_id;
  m.body = f.body;
  m.created_at = now_;
  m.mentions = f.mentions;
  m.metadata = f.metadata;
  c.messages.push_back(m);
  c.read_seq[user] = std::max(c.read_seq[user], m.seq);
  c.delivered_seq[user] = std::max(c.delivered_seq[user], m.seq);
  dedupe_[{user, f.client_id}] = Result{f.channel, m.seq, m.version};
  applied_.push_back({user, f.client_id, f.channel, "send", m.seq});
  out.push_back({s, proto::Sent{f.id, f.channel, f.client_id, m.seq, m.version, m.created_at}});
  proto::MessageEvent e;
  e.change = proto::MessageChange::created;
  e.actor = user;
  e.message = m;
  fan_out(c, s, e, out);
  return out;
}

std::vector<Outgoing> ModelServer::on_change(SessionId s, const std::string& user,
                                             const std::string& kind, const std::string& channel,
                                             proto::Seq seq, const std::string& client_id,
                                             proto::RequestId id, const proto::ClientFrame& frame) {
  std::vector<Outgoing> out;
  auto d = dedupe_.find({user, client_id});
  if (d != dedupe_.end()) {
    ++replays_;
    out.push_back({s, proto::AlreadyApplied{id, d->second.channel, client_id, d->second.seq,
                                            d->second.version}});
    return out;
  }
  auto ch = channels_.find(channel);
  if (ch == channels_.end()) return {{s, error(id, "not_found")}};
  ChannelState& c = ch->second;
  if (c.members.count(user) == 0) return {{s, error(id, "not_member")}};
  if (seq == 0 || seq > c.info.last_seq) return {{s, error(id, "not_found")}};
  proto::Message& m = c.messages[seq - 1];
  proto::MessageEvent e;
  e.actor = user;
  bool changed = true;
  if (kind == "edit") {
    if (m.sender != user) return {{s, error(id, "permission_denied")}};
    if (m.deleted) return {{s, error(id, "message_deleted")}};
    const auto& f = std::get<proto::Edit>(frame);
    m.body = f.body;
    m.metadata = f.metadata;
    m.edited_at = now_;
    e.change = proto::MessageChange::edited;
  } else if (kind == "delete") {
    if (m.sender != user) return {{s, error(id, "permission_denied")}};
    changed = !m.deleted;
    m.deleted = true;
    m.body.clear();
    m.metadata = {};
    m.reactions.clear();
    for (auto it = c.reactors.begin(); it != c.reactors.end();)
      it = it->first.rfind(std::to_string(seq) + "/", 0) == 0 ? c.reactors.erase(it) : ++it;
    e.change = proto::MessageChange::deleted;
  } else {
    if (m.deleted) return {{s, error(id, "message_deleted")}};
    const auto& f = std::get<proto::React>(frame);
    auto& who = c.reactors[reactor_key(seq, f.emoji)];
    bool add = f.action == proto::ReactAction::add;
    changed = add ? who.insert(user).second : who.erase(user) > 0;
    auto r = std::find_if(m.reactions.begin(), m.reactions.end(),
                          [&](const proto::Reaction& x) { return x.emoji == f.emoji; });
    if (changed && add) {
      if (r == m.reactions.end()) {
        m.reactions.push_back({f.emoji, 0, false});
        std::sort(m.reactions.begin(), m.reactions.end(),
                  [](const auto& a, const auto& b) { return a.emoji < b.emoji; });
        r = std::find_if(m.reactions.begin(), m.reactions.end(),
                         [&](const proto::Reaction& x) { return x.emoji == f.emoji; });
      }
      ++r->count;
    } else if (changed) {
      if (--r->count == 0) m.reactions.erase(r);
    }
    e.change = proto::MessageChange::reaction;
    e.emoji = f.emoji;
    e.action = f.action;
  }
  proto::Version v = 0;
  if (changed) {
    v = ++c.info.version;
    m.version = v;
  }
  dedupe_[{user, client_id}] = Result{channel, seq, v};
  applied_.push_back({user, client_id, channel, kind, seq});
  out.push_back({s, proto::Ok{id, channel, v}});
  if (changed) {
    e.message = m;
    fan_out(c, s, e, out);
  }
  return out;
}

proto::Message ModelServer::for_user(const ChannelState& c, const proto::Message& m,
                                     const std::string& user) const {
  proto::Message r = m;
  for (auto& x : r.reactions) {
    auto it = c.reactors.find(reactor_key(m.seq, x.emoji));
    x.mine = it != c.reactors.end() && it->second.count(user) > 0;
  }
  return r;
}

void ModelServer::counters(const ChannelState& c, const std::string& user,
                           proto::ChannelSync& cs) const {
  cs.last_seq = c.info.last_seq;
  cs.read_seq = c.read_seq.at(user);
  cs.delivered_seq = c.delivered_seq.at(user);
  cs.unread = static_cast<std::uint32_t>(cs.last_seq - cs.read_seq);
  cs.mentions = 0;  // the workload mentions nobody
}

proto::ChannelSync ModelServer::snapshot(const ChannelState& c, const std::string& user,
                                         proto::SyncStatus status) const {
  proto::ChannelSync cs;
  cs.channel = c.info.channel;
  cs.status = status;
  cs.info = c.info;
  std::size_t from = c.messages.size() > kPage ? c.messages.size() - kPage : 0;
  for (std::size_t i = from; i < c.messages.size(); ++i)
    cs.messages.push_back(for_user(c, c.messages[i], user));
  for (const auto& u : c.members) {
    proto::Member m;
    m.user = u;
    m.role = u == c.info.created_by ? proto::Role::owner : proto::Role::member;
    m.version = 1;
    m.read_seq = c.read_seq.at(u);
    cs.members.push_back(m);
  }
  cs.version = c.info.version;
  cs.head_version = c.info.version;
  counters(c, user, cs);
  return cs;
}

std::vector<Outgoing> ModelServer::on_sync(SessionId s, const std::string& user,
                                           const proto::Sync& f) {
  proto::SyncResult r;
  r.id = f.id;
  std::uint32_t limit = f.limit == 0 ? sync_limit_ : f.limit;
  std::map<std::string, proto::Version> cursors;
  for (const auto& c : f.channels)
    cursors[c.channel] = c.version;
  for (const auto& [id, c] : channels_) {
    if (c.members.count(user) == 0) continue;
    auto cur = cursors.find(id);
    if (cur == cursors.end()) {
      r.channels.push_back(snapshot(c, user, proto::SyncStatus::joined));
      continue;
    }
    proto::Version from = cur->second;
    if (from < c.info.version && c.info.version - from > kTooFarBehind) {
      r.channels.push_back(snapshot(c, user, proto::SyncStatus::too_far_behind));
      continue;
    }
    proto::ChannelSync cs;
    cs.channel = id;
    cs.status = proto::SyncStatus::delta;
    std::vector<const proto::Message*> changed;
    for (const auto& m : c.messages)
      if (m.version > from) changed.push_back(&m);
    std::sort(changed.begin(), changed.end(),
              [](const auto* a, const auto* b) { return a->version < b->version; });
    cs.version = std::max(from, c.info.version);
    if (changed.size() > limit) {
      changed.resize(limit);
      cs.version = changed.back()->version;  // everything up to it is covered
      r.more = true;
    }
    for (const auto* m : changed)
      cs.messages.push_back(for_user(c, *m, user));
    cs.head_version = c.info.version;
    counters(c, user, cs);
    r.channels.push_back(std::move(cs));
  }
  for (const auto& [id, v] : cursors) {
    auto c = channels_.find(id);
    if (c != channels_.end() && c->second.members.count(user) != 0) continue;
    proto::ChannelSync cs;
    cs.channel = id;
    cs.status = proto::SyncStatus::removed;
    cs.version = v;
    r.channels.push_back(std::move(cs));
  }
  return {{s, std::move(r)}};
}

std::vector<Outgoing> ModelServer::on_history(SessionId s, const std::string& user,
                                              const proto::History& f) {
  auto ch = channels_.find(f.channel);
  if (ch == channels_.end()) return {{s, error(f.id, "not_found")}};
  const ChannelState& c = ch->second;
  if (c.members.count(user) == 0) return {{s, error(f.id, "not_member")}};
  std::uint32_t limit = f.limit == 0 ? kPage : std::min(f.limit, kHistoryMax);
  proto::Seq last = c.info.last_seq;
  proto::Seq lo = 1;
  proto::Seq hi = last;  // inclusive range [lo, hi]
  if (f.before) {
    hi = std::min(last, *f.before == 0 ? 0 : *f.before - 1);
    lo = hi > limit ? hi - limit + 1 : 1;
  } else if (f.after) {
    lo = *f.after + 1;
    hi = std::min(last, *f.after + limit);
  } else {
    lo = last > limit ? last - limit + 1 : 1;
  }
  proto::HistoryPage p;
  p.id = f.id;
  p.channel = f.channel;
  for (proto::Seq q = lo; q <= hi && q >= 1; ++q)
    p.messages.push_back(for_user(c, c.messages[q - 1], user));
  p.more_before = !p.messages.empty() ? p.messages.front().seq > 1 : (lo > 1 && hi >= 1);
  p.more_after = !p.messages.empty() ? p.messages.back().seq < last : hi < last && lo <= last;
  return {{s, std::move(p)}};
}

void ModelServer::fan_receipt(const ChannelState& c, SessionId skip, const std::string& user,
                              std::vector<Outgoing>& out) const {
  proto::Receipt r{c.info.channel, user, c.read_seq.at(user), c.delivered_seq.at(user)};
  fan_out(c, skip, r, out);  // the user's other sessions and, in a small channel, everyone
}

std::vector<Outgoing> ModelServer::on_mark_read(SessionId s, const std::string& user,
                                                const proto::MarkRead& f) {
  auto ch = channels_.find(f.channel);
  if (ch == channels_.end()) return {{s, error(f.id, "not_found")}};
  ChannelState& c = ch->second;
  if (c.members.count(user) == 0) return {{s, error(f.id, "not_member")}};
  std::vector<Outgoing> out;
  proto::Seq to = std::min(f.seq, c.info.last_seq);
  bool moved = false;
  if (to > c.read_seq[user]) {
    c.read_seq[user] = to;
    moved = true;
  }
  out.push_back({s, proto::Ok{f.id, f.channel, 0}});
  if (moved) fan_receipt(c, s, user, out);
  return out;
}

std::vector<Outgoing> ModelServer::on_delivered(SessionId s, const std::string& user,
                                                const proto::MarkDelivered& f) {
  for (const auto& cur : f.cursors) {
    auto ch = channels_.find(cur.channel);
    if (ch == channels_.end()) return {{s, error(f.id, "not_found")}};
    if (ch->second.members.count(user) == 0) return {{s, error(f.id, "not_member")}};
  }
  std::vector<Outgoing> out;
  for (const auto& cur : f.cursors) {
    ChannelState& c = channels_[cur.channel];
    proto::Seq to = std::min(cur.seq, c.info.last_seq);
    if (to > c.delivered_seq[user]) {
      c.delivered_seq[user] = to;
      fan_receipt(c, s, user, out);
    }
  }
  if (f.id != 0) out.push_back({s, proto::Ok{f.id, {}, 0}});
  return out;
}

void ModelServer::fan_out(const ChannelState& c, SessionId skip, const proto::ServerFrame& f,
                          std::vector<Outgoing>& out) const {
  for (const auto& [id, sess] : sessions_)
    if (id != skip && !sess.user.empty() && c.members.count(sess.user) != 0) out.push_back({id, f});
}

}  // namespace chatsdk::client::sim
