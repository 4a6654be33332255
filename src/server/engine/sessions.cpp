// Connection lifecycle: handshake, auth, timers (handshake, idle, token
// expiry), frame intake with per-connection rate limits and the bad-frame
// counter, and the per-frame dispatch.
#include <algorithm>
#include <string>

#include "common/auth/jwt.hpp"
#include "common/protocol/codec.hpp"
#include "common/protocol/limits.hpp"
#include "common/util/ids.hpp"
#include "server/engine/engine_impl.hpp"
#include "server/log.hpp"

namespace chatsdk::server {

namespace {

constexpr std::uint16_t kMaxBadFrames = 50;
constexpr std::uint32_t kMaxRejects = 200;
constexpr std::int64_t kRejectWindowMs = 10'000;
constexpr std::int64_t kExpiryNoticeMs = 60'000;

proto::CloseCode close_code_for(Errc code) {
  switch (code) {
    case Errc::token_expired:
    case Errc::token_not_yet_valid:
      return proto::CloseCode::token_expired;
    case Errc::unsupported_protocol:
      return proto::CloseCode::unsupported_protocol;
    default:
      return proto::CloseCode::auth_failed;
  }
}

struct Verified {
  std::string sub;
  std::int64_t exp_s = 0;
};

/// Verifies a hello/auth_refresh token; every failure is auth_failed except
/// the two time-window errors.
Result<Verified> verify_token(const std::string& token, const Config& config, const Clock& clock) {
  auth::VerifyOptions opts{};
  opts.now_s = static_cast<decltype(opts.now_s)>(clock.now_ms() / 1000);
  opts.leeway_s = static_cast<decltype(opts.leeway_s)>(config.token_leeway_s);
  auto claims = auth::verify_hs256(token, config.jwt_secret, opts);
  if (!claims) {
    Errc code = claims.error().code;
    if (code != Errc::token_expired && code != Errc::token_not_yet_valid) code = Errc::auth_failed;
    return Error{code, "token rejected"};
  }
  if (!is_valid_id(claims->sub)) return Error{Errc::auth_failed, "bad sub"};
  return Verified{claims->sub, static_cast<std::int64_t>(claims->exp)};
}

/// When a session's token stops being good enough: the moment hello would
/// refuse it (exp plus the leeway the verifier grants), so an accepted token
/// never closes its session at once.
std::int64_t session_deadline_ms(std::int64_t exp_s, const Config& config) {
  return (exp_s + std::int64_t{config.token_leeway_s}) * 1000;
}

}  // namespace

void Engine::on_connect(SessionId session, const ConnectionInfo& /*info*/) {
  const std::int64_t now = clock_.steady_ms();
  Session& s = sessions_[session];
  s.id = session;
  s.last_frame_ms = now;
  s.frames.reset(config_.frame_burst, now);
  s.typing.reset(config_.typing_per_second, now);
  s.reject_window_ms = now;
  if (draining_) {
    close_session(s, proto::CloseCode::going_away, "shutting down");
    return;
  }
  timers_.push(Timer{now + config_.handshake_timeout_ms, session, TimerKind::handshake});
  const std::int64_t idle = std::int64_t{config_.heartbeat_ms} * 5 / 2;
  timers_.push(Timer{now + idle, session, TimerKind::idle});
}

void Engine::on_message(SessionId session, std::string_view message) {
  auto it = sessions_.find(session);
  if (it == sessions_.end() || it->second.closing) return;
  Session& s = it->second;
  s.last_frame_ms = clock_.steady_ms();
  for (std::string_view line : proto::split_batch(message)) {
    if (s.closing) break;
    handle_frame(s, line);
  }
}

void Engine::on_frame_too_large(SessionId session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end() || it->second.closing) return;
  Session& s = it->second;
  s.last_frame_ms = clock_.steady_ms();
  send_error(s.id, 0, Errc::frame_too_large, "message over max_frame_bytes discarded");
  if (++s.bad_frames >= kMaxBadFrames)
    close_session(s, proto::CloseCode::protocol_error, "too many bad frames");
}

void Engine::on_disconnect(SessionId session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  UserEntry* user = it->second.user;
  sessions_.erase(it);
  if (user == nullptr) return;
  if (metrics_.sessions_authenticated > 0) --metrics_.sessions_authenticated;
  auto& list = user->sessions;
  list.erase(std::remove(list.begin(), list.end(), session), list.end());
  if (list.empty()) {
    user->last_seen = clock_.now_ms();
    set_online(*user, false);
    presence_changed(*user);
    if (!draining_) {  // drain writes last_seen for everyone itself
      write(store::LastSeenOp{user->id, user->last_seen}, [](store::WriteResult&) {});
    }
  }
}

void Engine::on_tick() {
  const std::int64_t now = clock_.steady_ms();
  run_timers(now);
  if (now - last_flush_ms_ >= std::int64_t{config_.receipt_flush_ms}) {
    last_flush_ms_ = now;
    flush_receipts();
  }
}

// ------------------------------------------------------------------ frames

void Engine::handle_frame(Session& s, std::string_view bytes) {
  const std::int64_t now = clock_.steady_ms();
  if (std::uint32_t wait = s.frames.take(config_.frames_per_second, config_.frame_burst, now)) {
    ++metrics_.rate_limited;
    send_error(s.id, proto::peek_request_id(bytes), Errc::rate_limited, "too many frames", wait);
    count_rejection(s);
    return;
  }
  auto frame = proto::decode_client(bytes, config_.max_frame_bytes);
  if (!frame) {
    send_error(s.id, proto::peek_request_id(bytes), frame.error().code, frame.error().message);
    if (++s.bad_frames >= kMaxBadFrames) {
      close_session(s, proto::CloseCode::protocol_error, "too many bad frames");
    }
    return;
  }
  s.bad_frames = 0;
  if (s.user == nullptr) {
    if (auto* hello = std::get_if<proto::Hello>(&*frame)) {
      on_hello(s, *hello);
    } else {
      std::visit(
          [&](auto& f) {
            proto::RequestId id = 0;
            if constexpr (requires { f.id; }) id = f.id;
            send_error(s.id, id, Errc::unauthenticated, "send hello first");
          },
          *frame);
    }
    return;
  }
  dispatch(s, *frame);
}

/// Counts a rate-limit rejection; closes a connection that keeps flooding.
bool Engine::count_rejection(Session& s) {
  const std::int64_t now = clock_.steady_ms();
  if (now - s.reject_window_ms > kRejectWindowMs) {
    s.reject_window_ms = now;
    s.rejects = 0;
  }
  if (++s.rejects >= kMaxRejects) {
    close_session(s, proto::CloseCode::rate_limited, "rate limit exceeded repeatedly");
    return true;
  }
  return false;
}

/// Shared gate for every mutation: nothing new is accepted while draining;
/// `send` also spends the per-user budget shared by the user's sessions.
bool Engine::admit_mutation(Session& s, proto::RequestId id, bool is_send) {
  if (draining_) {
    send_error(s.id, id, Errc::unavailable, "server shutting down");
    return false;
  }
  if (!is_send) return true;
  if (std::uint32_t wait =
          s.user->sends.take(config_.sends_per_second, config_.send_burst, clock_.steady_ms())) {
    ++metrics_.rate_limited;
    send_error(s.id, id, Errc::rate_limited, "too many sends", wait);
    count_rejection(s);
    return false;
  }
  return true;
}

void Engine::dispatch(Session& s, proto::ClientFrame& frame) {
  std::visit(
      [&](auto& f) {
        using F = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<F, proto::Hello>) {
          send_error(s.id, f.id, Errc::invalid_state, "already authenticated");
        } else if constexpr (std::is_same_v<F, proto::AuthRefresh>) {
          on_auth_refresh(s, f);
        } else if constexpr (std::is_same_v<F, proto::Ping>) {
          reply(s.id, proto::Pong{f.id, clock_.now_ms()});
        } else if constexpr (std::is_same_v<F, proto::Sync>) {
          on_sync(s, f);
        } else if constexpr (std::is_same_v<F, proto::Send>) {
          on_send(s, f);
        } else if constexpr (std::is_same_v<F, proto::Edit>) {
          on_edit(s, f);
        } else if constexpr (std::is_same_v<F, proto::Delete>) {
          on_delete(s, f);
        } else if constexpr (std::is_same_v<F, proto::React>) {
          on_react(s, f);
        } else if constexpr (std::is_same_v<F, proto::MarkRead>) {
          on_mark_read(s, f);
        } else if constexpr (std::is_same_v<F, proto::MarkDelivered>) {
          on_mark_delivered(s, f);
        } else if constexpr (std::is_same_v<F, proto::Typing>) {
          on_typing(s, f);
        } else if constexpr (std::is_same_v<F, proto::History>) {
          on_history(s, f);
        } else if constexpr (std::is_same_v<F, proto::ChannelCreate>) {
          on_channel_create(s, f);
        } else if constexpr (std::is_same_v<F, proto::ChannelUpdate>) {
          on_channel_update(s, f);
        } else if constexpr (std::is_same_v<F, proto::MembersAdd>) {
          on_members_add(s, f);
        } else if constexpr (std::is_same_v<F, proto::MembersRemove>) {
          on_members_remove(s, f);
        } else if constexpr (std::is_same_v<F, proto::MemberRole>) {
          on_member_role(s, f);
        } else if constexpr (std::is_same_v<F, proto::Join>) {
          on_join(s, f);
        } else if constexpr (std::is_same_v<F, proto::MembersList>) {
          on_members_list(s, f);
        } else if constexpr (std::is_same_v<F, proto::ProfileSet>) {
          on_profile_set(s, f);
        } else if constexpr (std::is_same_v<F, proto::ProfilesGet>) {
          on_profiles_get(s, f);
        } else if constexpr (std::is_same_v<F, proto::PresenceQuery>) {
          on_presence_query(s, f);
        } else {
          static_assert(sizeof(F) == 0, "unhandled client frame");
        }
      },
      frame);
}

// ------------------------------------------------------------------ auth

void Engine::on_hello(Session& s, proto::Hello& f) {
  if (f.protocol != static_cast<std::uint32_t>(proto::kProtocolVersion)) {
    send_error(s.id, f.id, Errc::unsupported_protocol, "protocol must be 1");
    close_session(s, proto::CloseCode::unsupported_protocol, "unsupported protocol");
    return;
  }
  auto verified = verify_token(f.token, config_, clock_);
  if (!verified) {
    const Errc code = verified.error().code;
    send_error(s.id, f.id, code);
    close_session(s, close_code_for(code), errc_name(code));
    return;
  }
  UserEntry& user = user_entry(verified->sub);
  s.user = &user;
  s.token_exp_ms = session_deadline_ms(verified->exp_s, config_);
  s.expiry_noticed = false;
  ++metrics_.sessions_authenticated;
  const bool first = user.sessions.empty();
  user.sessions.push_back(s.id);
  arm_token_timer(s);

  proto::Welcome w;
  w.id = f.id;
  w.user = user.id;
  w.session = std::to_string(s.id);
  w.protocol = static_cast<std::uint32_t>(proto::kProtocolVersion);
  w.server_time = clock_.now_ms();
  w.heartbeat_ms = config_.heartbeat_ms;
  w.limits.max_frame_bytes = config_.max_frame_bytes;
  w.limits.max_body_bytes = config_.max_body_bytes;
  w.limits.max_metadata_bytes = config_.max_metadata_bytes;
  w.limits.history_max = config_.history_max;
  w.limits.sync_channel_max = config_.sync_channel_max;
  w.limits.sends_per_second = config_.sends_per_second;
  w.limits.typing_threshold = config_.small_channel_threshold;
  w.limits.receipts_threshold = config_.small_channel_threshold;
  reply(s.id, w);

  if (first) {
    set_online(user, true);
    presence_changed(user);
  }
}

void Engine::on_auth_refresh(Session& s, proto::AuthRefresh& f) {
  auto verified = verify_token(f.token, config_, clock_);
  if (!verified) {
    send_error(s.id, f.id, verified.error().code, "token rejected");
    return;
  }
  if (verified->sub != s.user->id) {
    send_error(s.id, f.id, Errc::auth_failed, "token is for another user");
    return;
  }
  s.token_exp_ms = session_deadline_ms(verified->exp_s, config_);
  s.expiry_noticed = false;
  arm_token_timer(s);
  reply(s.id, proto::Ok{f.id, {}, 0});
}

void Engine::close_session(Session& s, proto::CloseCode code, std::string_view reason) {
  if (s.closing) return;
  s.closing = true;
  wire_.close(s.id, code, reason);
}

// ------------------------------------------------------------------ timers

void Engine::arm_token_timer(Session& s) {
  const std::int64_t due_wall =
      s.expiry_noticed ? s.token_exp_ms : s.token_exp_ms - kExpiryNoticeMs;
  const std::int64_t now_steady = clock_.steady_ms();
  s.token_due_ms = now_steady + std::max<std::int64_t>(0, due_wall - clock_.now_ms());
  timers_.push(Timer{s.token_due_ms, s.id, TimerKind::token});
}

void Engine::run_timers(std::int64_t now) {
  while (!timers_.empty() && timers_.top().due_ms <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    on_timer(t, now);
  }
}

void Engine::on_timer(const Timer& t, std::int64_t now) {
  auto it = sessions_.find(t.session);
  if (it == sessions_.end() || it->second.closing) return;
  Session& s = it->second;
  switch (t.kind) {
    case TimerKind::handshake:
      if (s.user == nullptr) close_session(s, proto::CloseCode::auth_timeout, "no hello in time");
      break;
    case TimerKind::idle: {
      const std::int64_t idle = std::int64_t{config_.heartbeat_ms} * 5 / 2;
      if (now - s.last_frame_ms >= idle) {
        close_session(s, proto::CloseCode::idle_timeout, "no frame within 2.5 heartbeats");
      } else {
        timers_.push(Timer{s.last_frame_ms + idle, s.id, TimerKind::idle});
      }
      break;
    }
    case TimerKind::token: {
      if (s.user == nullptr || t.due_ms != s.token_due_ms) break;  // superseded by a refresh
      const std::int64_t wall = clock_.now_ms();
      if (wall >= s.token_exp_ms) {
        send_error(s.id, 0, Errc::token_expired, "token expired");
        close_session(s, proto::CloseCode::token_expired, "token expired");
        break;
      }
      if (!s.expiry_noticed && wall >= s.token_exp_ms - kExpiryNoticeMs) {
        s.expiry_noticed = true;
        proto::Notice n;
        n.code = proto::NoticeCode::token_expiring;
        n.message = "token expires soon: send auth_refresh";
        reply(s.id, n);
      }
      arm_token_timer(s);
      break;
    }
  }
}

}  // namespace chatsdk::server
