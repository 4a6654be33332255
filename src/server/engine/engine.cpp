// make_engine, lifecycle (open, drain, health) and the output helpers every
// part of the engine sends through.
#include "server/engine.hpp"

#include <algorithm>

#include "common/protocol/codec.hpp"
#include "server/engine/engine_impl.hpp"
#include "server/log.hpp"

namespace chatsdk::server {

namespace {
constexpr std::uint32_t kUnhealthyAfterFailures = 3;
}

Engine::Engine(EngineDeps deps)
    : config_(deps.config),
      wire_(deps.wire),
      metrics_(deps.metrics),
      clock_(deps.clock),
      store_(std::move(deps.store)) {
  last_flush_ms_ = clock_.steady_ms();
}

Engine::~Engine() = default;

Result<void> Engine::open() {
  if (!store_) return Error{Errc::invalid_argument, "no store"};
  if (auto r = store_->open(); !r) return r;
  auto state = store_->load();
  if (!state) return state.error();
  for (const auto& record : state->channels)
    load_channel(record);
  log::info("engine_loaded", {{"channels", channels_.size()}, {"users", users_.size()}});
  return {};
}

Result<std::unique_ptr<EngineApi>> make_engine(EngineDeps deps) {
  auto engine = std::make_unique<Engine>(std::move(deps));
  if (auto r = engine->open(); !r) return r.error();
  return std::unique_ptr<EngineApi>(std::move(engine));
}

void Engine::drain(std::function<void()> done) {
  if (draining_) {
    // A second drain just waits for the same close.
    if (store_closed_) {
      done();
    } else {
      drain_waiters_.push_back(std::move(done));
    }
    return;
  }
  drain_waiters_.push_back(std::move(done));
  draining_ = true;
  flush_receipts();
  const std::int64_t now = clock_.now_ms();
  for (auto& [id, user] : users_) {
    if (user->online()) write(store::LastSeenOp{user->id, now}, [](store::WriteResult&) {});
  }
  proto::Notice notice;
  notice.code = proto::NoticeCode::going_away;
  notice.message = "server shutting down";
  const Bytes bytes = encode(notice);
  for (auto& [id, s] : sessions_) {
    if (s.closing) continue;
    wire_.send(id, bytes);
    close_session(s, proto::CloseCode::going_away, "server shutting down");
  }
  std::weak_ptr<int> alive = alive_;
  store_closing_ = true;
  store_->close([this, alive] {
    if (alive.expired()) return;
    store_closed_ = true;
    auto waiters = std::move(drain_waiters_);
    for (auto& w : waiters)
      w();
  });
}

bool Engine::healthy() const {
  return store_failures_ < kUnhealthyAfterFailures;
}

void Engine::note_store_result(Errc code) {
  switch (code) {
    case Errc::storage_failed:
    case Errc::io_error:
    case Errc::internal:
      ++store_failures_;
      break;
    default:
      store_failures_ = 0;
      break;
  }
}

// ------------------------------------------------------------------ output

Bytes Engine::encode(const proto::ServerFrame& frame) {
  return make_bytes(proto::encode(frame));
}

void Engine::reply(SessionId session, const proto::ServerFrame& frame) {
  wire_.send(session, encode(frame));
}

void Engine::send_error(SessionId session, proto::RequestId id, Errc code, std::string_view message,
                        std::uint32_t retry_after_ms) {
  const auto n = static_cast<std::size_t>(code);
  ++metrics_.errors_by_code[n < Metrics::kMaxErrc ? n : Metrics::kMaxErrc - 1];
  proto::ErrorFrame e;
  e.id = id;
  e.code = std::string(errc_name(code));
  // Details may quote client input (e.g. an unknown type name, cut at a byte
  // limit): keep printable ASCII so the reply is always valid UTF-8.
  e.message.reserve(std::min<std::size_t>(message.size(), 256));
  for (char c : message.substr(0, 256))
    e.message += (c >= 0x20 && c < 0x7f) ? c : '?';
  e.retry_after_ms = retry_after_ms;
  reply(session, e);
}

void Engine::deliver(SessionId session, const Bytes& bytes) {
  wire_.send(session, bytes);
  ++metrics_.fanout_deliveries;
}

void Engine::fanout(Channel& ch, const Bytes& bytes, SessionId skip_session,
                    const UserEntry* skip_user) {
  for (const MemberSlot* slot : ch.online) {
    if (slot->user == skip_user) continue;
    for (SessionId sid : slot->user->sessions) {
      if (sid != skip_session) deliver(sid, bytes);
    }
  }
}

void Engine::to_user(const UserEntry& user, const Bytes& bytes, SessionId skip_session) {
  for (SessionId sid : user.sessions) {
    if (sid != skip_session) deliver(sid, bytes);
  }
}

}  // namespace chatsdk::server
