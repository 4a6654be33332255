// Core: construction, connection lifecycle, timers, frame dispatch.
#include "client/core/core.hpp"

#include <algorithm>
#include <charconv>

#include "chatsdk/version.hpp"
#include "client/core/convert.hpp"
#include "common/protocol/limits.hpp"
#include "common/util/ids.hpp"

namespace chatsdk::client {

namespace {
constexpr std::uint32_t kDefaultHeartbeatMs = 25'000;
}

Core::Core(CoreOptions options, Store& store, const Clock& clock, TokenProvider tokens)
    : opt_(std::move(options)),
      store_(store),
      clock_(clock),
      tokens_(std::move(tokens)),
      rng_(opt_.seed),
      backoff_(BackoffPolicy{opt_.backoff.initial_ms, opt_.backoff.max_ms, opt_.backoff.factor},
               opt_.seed ^ 0x9e3779b97f4a7c15ULL) {
  me_ = store_.meta("user");
  if (std::string b = store_.meta("max_body_bytes"); !b.empty())
    std::from_chars(b.data(), b.data() + b.size(), max_body_bytes_);  // stays 0 if unreadable
  if (std::string b = store_.meta("max_metadata_bytes"); !b.empty())
    std::from_chars(b.data(), b.data() + b.size(), max_metadata_bytes_);
  (void)store_.prune_finished_ops(1000);
  load_outbox();
  channel_list_ = build_channel_list();
  DiffOp<ChannelItem> reset;
  reset.kind = DiffKind::reset;
  reset.items = channel_list_;
  emit(ChannelListDiff{{std::move(reset)}});
}

// The open ops as the cache holds them. Ops that were in flight (the process
// died, or a batch that moved them rolled back) go back to queued: they are
// resent with the same client_id and the server dedupes them.
void Core::load_outbox() {
  ops_.clear();
  not_before_.clear();
  for (OpRow& row : store_.open_ops()) {
    if (row.op.state == OpState::sending) {
      row.op.state = OpState::queued;
      (void)store_.update_op(row);
    }
    ops_.emplace(row.op.id, std::move(row));
  }
}

// ---- lifecycle -------------------------------------------------------------------

void Core::connect() {
  want_connected_ = true;
  if (suspended_ || conn_ != 0 || reconnect_at_ >= 0) return;
  start_attempt();
}

void Core::disconnect() {
  want_connected_ = false;
  reconnect_at_ = -1;
  if (conn_ != 0) {
    drop(Errc::ok, "disconnect requested", 1000);
  } else {
    set_state(ConnectionState::disconnected);
  }
  flush_views();
}

void Core::prepare_suspend() {
  suspended_ = true;
  reconnect_at_ = -1;
  if (conn_ != 0) drop(Errc::ok, "suspended", 1000);
  flush_views();
  store_.quiesce();
}

void Core::resume() {
  if (!suspended_) return;
  suspended_ = false;
  backoff_.reset();
  if (want_connected_ && conn_ == 0) start_attempt();
}

void Core::start_attempt() {
  reconnect_at_ = -1;
  conn_ = ++conn_seq_;
  connect_deadline_ = now() + opt_.connect_timeout_ms;
  actions_.push_back(OpenAction{conn_});
  set_state(ConnectionState::connecting);
}

void Core::set_state(ConnectionState s, Errc reason, const std::string& detail,
                     std::int64_t retry_in) {
  if (s == state_ && s != ConnectionState::disconnected) return;
  state_ = s;
  emit(ConnectionChanged{s, reason, detail, retry_in});
}

void Core::send(proto::ClientFrame f) {
  if (conn_ == 0) return;
  actions_.push_back(SendAction{conn_, std::move(f)});
}

void Core::drop(Errc reason, const std::string& detail, std::uint16_t close_code) {
  if (conn_ != 0) actions_.push_back(CloseAction{conn_, close_code});
  bool immediate = false;
  schedule_reconnect(reason, detail, immediate);
}

// Called whenever the current connection is gone (closed by us, by the peer,
// or never opened). Everything tied to the connection is reset here.
void Core::schedule_reconnect(Errc reason, const std::string& detail, bool immediate) {
  conn_ = 0;
  connect_deadline_ = -1;
  ping_at_ = -1;
  sync_req_ = 0;
  resync_wanted_ = false;
  delivered_flush_at_ = -1;
  for (auto& [rid, p] : pending_) {
    if (p.kind == Pending::Kind::op) {
      if (OpRow* row = find_op(p.op); row && row->op.state == OpState::sending)
        set_op_state(*row, OpState::queued);
    }
  }
  pending_.clear();
  clear_typing_out();
  for (auto it = typing_in_.begin(); it != typing_in_.end();) {
    std::string ch = it->first;
    it = typing_in_.erase(it);
    emit(TypingChanged{ch, {}});
  }
  if (!want_connected_ || suspended_) {
    reconnect_at_ = -1;
    set_state(ConnectionState::disconnected, reason, detail, -1);
    return;
  }
  std::int64_t delay = immediate ? 0 : static_cast<std::int64_t>(backoff_.next_delay_ms());
  delay = std::max<std::int64_t>(delay, min_retry_delay_);  // the server asked us to wait
  min_retry_delay_ = 0;
  reconnect_at_ = now() + delay;
  set_state(ConnectionState::disconnected, reason, detail, delay);
}

void Core::track(proto::RequestId id, Pending p) {
  p.sent_at = now();
  pending_[id] = std::move(p);
}

std::int64_t Core::oldest_request() const {
  std::int64_t oldest = -1;
  for (const auto& [id, p] : pending_)
    if (oldest < 0 || p.sent_at < oldest) oldest = p.sent_at;
  return oldest;
}

void Core::refresh_token_now() {
  if (!tokens_) return;
  std::string t = tokens_();
  if (t.empty() || t == token_) return;
  token_ = std::move(t);
  if (conn_ != 0 && state_ >= ConnectionState::syncing) {
    auto id = next_id();
    track(id, Pending{Pending::Kind::auth_refresh, 0, {}, false});
    send(proto::AuthRefresh{id, token_});
  }
}

// ---- transport inputs -----------------------------------------------------------

void Core::on_open(ConnId conn) {
  if (conn != conn_ || conn_ == 0) return;
  last_rx_ = now();
  // Ask the provider on every attempt: it knows best whether its cached token
  // is still good (and after token_expired it must hand out a new one).
  token_ = tokens_ ? tokens_() : std::string();
  if (token_.empty() || token_ == rejected_token_) {
    // Retrying with no token or a token the server rejected cannot succeed.
    want_connected_ = false;
    drop(Errc::auth_failed,
         token_.empty() ? "token provider returned no token" : "token was rejected", 1000);
    flush_views();
    return;
  }
  proto::Hello h;
  h.id = next_id();
  h.token = token_;
  h.protocol = static_cast<std::uint32_t>(proto::kProtocolVersion);
  h.device_id = opt_.device_id;
  h.client = std::string("chatsdk-cpp/") + CHATSDK_VERSION_STRING;
  send(std::move(h));
  set_state(ConnectionState::authenticating);
  flush_views();
}

void Core::on_closed(ConnId conn, std::uint16_t code, const std::string& reason) {
  if (conn != conn_ || conn_ == 0) return;
  Errc why = Errc::unavailable;
  bool immediate = false;
  switch (code) {
    case static_cast<std::uint16_t>(proto::CloseCode::auth_failed):
      // The protocol says: stop and report. connect() again once the token
      // provider has a different token (the same one would be refused again).
      why = Errc::auth_failed;
      rejected_token_ = token_;
      want_connected_ = false;
      break;
    case static_cast<std::uint16_t>(proto::CloseCode::token_expired):
      why = Errc::token_expired;
      immediate = true;
      break;
    case static_cast<std::uint16_t>(proto::CloseCode::unsupported_protocol):
      why = Errc::unsupported_protocol;
      want_connected_ = false;
      break;
    case static_cast<std::uint16_t>(proto::CloseCode::kicked):
      why = Errc::permission_denied;
      want_connected_ = false;
      break;
    case static_cast<std::uint16_t>(proto::CloseCode::slow_consumer):
      why = Errc::slow_consumer;
      break;
    case static_cast<std::uint16_t>(proto::CloseCode::rate_limited):
      why = Errc::rate_limited;
      break;
    case static_cast<std::uint16_t>(proto::CloseCode::idle_timeout):
      why = Errc::timeout;
      break;
    default:
      break;
  }
  schedule_reconnect(why, "closed " + std::to_string(code) + (reason.empty() ? "" : ": " + reason),
                     immediate);
  flush_views();
}

void Core::on_failed(ConnId conn, const std::string& reason) {
  if (conn != conn_ || conn_ == 0) return;
  schedule_reconnect(Errc::unavailable, reason, false);
  flush_views();
}

void Core::on_decode_error(ConnId conn, const Error& error) {
  if (conn != conn_ || conn_ == 0) return;
  last_rx_ = now();
  emit(ErrorEvent{error.code, "undecodable server frame: " + error.message});
}

void Core::on_frame(ConnId conn, const proto::ServerFrame& frame) {
  if (conn != conn_ || conn_ == 0) return;
  last_rx_ = now();
  std::visit([this](const auto& f) { handle(f); }, frame);
  flush_views();
}

// ---- timers ------------------------------------------------------------------------

void Core::tick() {
  const std::int64_t t = now();
  if (reconnect_at_ >= 0 && t >= reconnect_at_) start_attempt();
  if (conn_ != 0) {
    if (connect_deadline_ >= 0 && t >= connect_deadline_) {
      drop(Errc::timeout, "connect/handshake timed out", 1000);
    } else if (state_ >= ConnectionState::syncing &&
               t - last_rx_ >= 2 * static_cast<std::int64_t>(heartbeat_ms_)) {
      drop(Errc::timeout, "no frame for two heartbeat intervals", 1000);
    } else if (std::int64_t oldest = oldest_request();
               oldest >= 0 && t - oldest >= static_cast<std::int64_t>(opt_.request_timeout_ms)) {
      // The link carries pongs but a request went unanswered: start over
      // (in-flight ops are resent with their client ids after the reconnect).
      drop(Errc::timeout, "request unanswered", 1000);
    } else if (ping_at_ >= 0 && t >= ping_at_) {
      send(proto::Ping{});
      ping_at_ = t + heartbeat_ms_;
    }
  }
  if (outbox_retry_at_ >= 0 && t >= outbox_retry_at_) pump_outbox();
  if (delivered_flush_at_ >= 0 && t >= delivered_flush_at_) flush_delivered();
  for (auto& [ch, to] : typing_out_) {
    if (to.active && t >= to.stop_at) send_typing(ch, proto::TypingState::stop);
  }
  for (auto& [ch, users] : typing_in_) {
    bool changed = false;
    for (auto it = users.begin(); it != users.end();) {
      if (t >= it->second) {
        it = users.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    if (changed) emit_typing(ch);
  }
  flush_views();
}

std::optional<std::int64_t> Core::next_deadline() const {
  std::optional<std::int64_t> best;
  auto consider = [&](std::int64_t at) {
    if (at >= 0 && (!best || at < *best)) best = at;
  };
  consider(reconnect_at_);
  if (conn_ != 0) {
    consider(connect_deadline_);
    consider(ping_at_);
    if (state_ >= ConnectionState::syncing)
      consider(last_rx_ + 2 * static_cast<std::int64_t>(heartbeat_ms_));
    if (std::int64_t oldest = oldest_request(); oldest >= 0)
      consider(oldest + static_cast<std::int64_t>(opt_.request_timeout_ms));
  }
  consider(outbox_retry_at_);
  consider(delivered_flush_at_);
  for (const auto& [ch, to] : typing_out_)
    if (to.active) consider(to.stop_at);
  for (const auto& [ch, users] : typing_in_)
    for (const auto& [u, at] : users)
      consider(at);
  return best;
}

std::vector<Action> Core::take_actions() {
  return std::exchange(actions_, {});
}

std::optional<Event> Core::next_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

// ---- connection-level frames -----------------------------------------------------------

void Core::handle(const proto::Welcome& f) {
  if (state_ != ConnectionState::authenticating) return;
  if (f.user != me_) {
    me_ = f.user;
    store_.set_meta("user", me_);
  }
  rejected_token_.clear();
  connect_deadline_ = -1;
  if (f.limits.max_body_bytes != 0 && f.limits.max_body_bytes != max_body_bytes_) {
    max_body_bytes_ = f.limits.max_body_bytes;
    store_.set_meta("max_body_bytes", std::to_string(max_body_bytes_));
  }
  if (f.limits.max_metadata_bytes != 0 && f.limits.max_metadata_bytes != max_metadata_bytes_) {
    max_metadata_bytes_ = f.limits.max_metadata_bytes;
    store_.set_meta("max_metadata_bytes", std::to_string(max_metadata_bytes_));
  }
  heartbeat_ms_ = opt_.heartbeat_ms != 0 ? opt_.heartbeat_ms
                  : f.heartbeat_ms != 0  ? f.heartbeat_ms
                                         : kDefaultHeartbeatMs;
  ping_at_ = now() + heartbeat_ms_;
  set_state(ConnectionState::syncing);
  request_sync();
}

void Core::handle(const proto::Notice& f) {
  if (f.code == proto::NoticeCode::token_expiring) refresh_token_now();
  if (f.retry_after_ms != 0) min_retry_delay_ = f.retry_after_ms;
  // going_away / slow_consumer: the close that follows drives the reconnect.
}

void Core::handle(const proto::ErrorFrame& f) {
  Errc code = errc_from_name(f.code).value_or(Errc::internal);
  auto it = pending_.find(f.id);
  if (f.id == 0 || it == pending_.end()) {
    // Auth errors are followed by a close (4001/4003) that drives the reconnect.
    emit(ErrorEvent{code, f.code + (f.message.empty() ? "" : ": " + f.message)});
    return;
  }
  Pending p = it->second;
  pending_.erase(it);
  switch (p.kind) {
    case Pending::Kind::op:
      if (OpRow* row = find_op(p.op))
        op_failed(*row, code, f.message.empty() ? f.code : f.message, f.retry_after_ms);
      break;
    case Pending::Kind::sync:
      // Without a completed sync the client cannot go live; start over.
      sync_req_ = 0;
      min_retry_delay_ = f.retry_after_ms;
      drop(code, "sync failed: " + f.code, 1000);
      break;
    case Pending::Kind::auth_refresh:
      emit(ErrorEvent{code, "auth_refresh failed: " + f.code});
      break;
    case Pending::Kind::members: {  // one MembersPage per request, refused ones too
      MembersPage ev;
      ev.channel = p.channel;
      ev.error = code;
      emit(std::move(ev));
      break;
    }
    default:
      emit(ErrorEvent{code, f.code + (f.message.empty() ? "" : ": " + f.message)});
      break;
  }
}

void Core::handle(const proto::PresenceList& f) {
  pending_.erase(f.id);
  for (const auto& p : f.users)
    emit(PresenceChanged{Presence{p.user, p.online, p.last_seen}});
}

void Core::handle(const proto::PresenceEvent& f) {
  emit(PresenceChanged{Presence{f.user, f.online, f.last_seen}});
}

void Core::handle(const proto::Profiles& f) {
  pending_.erase(f.id);
  ProfilesReceived ev;
  for (const auto& p : f.users) {
    User u{p.user, p.display_name, p.avatar_url, p.metadata.json};
    store_.upsert_profile(u);
    ev.users.push_back(std::move(u));
  }
  emit(std::move(ev));
}

Result<void> Core::query_presence(const std::vector<std::string>& users) {
  if (!live()) return Error{Errc::not_connected, "presence needs a live connection"};
  auto id = next_id();
  track(id, Pending{Pending::Kind::presence, 0, {}, false});
  send(proto::PresenceQuery{id, users});
  return {};
}

Result<void> Core::fetch_profiles(const std::vector<std::string>& users) {
  if (!live()) return Error{Errc::not_connected, "profiles need a live connection"};
  auto id = next_id();
  track(id, Pending{Pending::Kind::profiles, 0, {}, false});
  send(proto::ProfilesGet{id, users});
  return {};
}

Result<void> Core::list_members(const std::string& channel, const std::string& after,
                                std::uint32_t limit) {
  if (channel.empty()) return Error{Errc::invalid_argument, "channel is empty"};
  if (!live()) return Error{Errc::not_connected, "members_list needs a live connection"};
  auto id = next_id();
  track(id, Pending{Pending::Kind::members, 0, channel, false});
  send(proto::MembersList{id, channel, after, limit});
  return {};
}

// Delivered as an event only: for large channels the server's list is the
// truth and the cached members() stays what the change stream made it.
void Core::handle(const proto::MembersPage& f) {
  pending_.erase(f.id);
  MembersPage ev;
  ev.channel = f.channel;
  ev.more = f.more;
  ev.members.reserve(f.members.size());
  for (const auto& m : f.members)
    ev.members.push_back(to_public(m));
  if (!ev.members.empty()) ev.next_after = ev.members.back().user;
  emit(std::move(ev));
}

std::string Core::new_client_id() {
  return chatsdk::new_client_id(rng_, wall());
}

}  // namespace chatsdk::client
