// Test harness for the engine: a Wire that records what each session got, a
// LoopPoster the test pumps, a ManualClock, the in-memory FakeStore, and HS256
// token minting (OpenSSL) independent of the server's verifier.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/protocol/codec.hpp"
#include "common/util/clock.hpp"
#include "server/engine.hpp"
#include "server/log.hpp"
#include "test_engine_fake_store.hpp"

namespace chatsdk::server::testing {

class FakeWire final : public Wire {
 public:
  std::map<SessionId, std::vector<Bytes>> out;
  std::vector<std::pair<SessionId, Bytes>> log;  // every send, in order
  std::map<SessionId, std::pair<proto::CloseCode, std::string>> closed;

  bool send(SessionId s, Bytes frame) override {
    out[s].push_back(frame);
    log.emplace_back(s, std::move(frame));
    return true;
  }
  void close(SessionId s, proto::CloseCode code, std::string_view reason) override {
    closed[s] = {code, std::string(reason)};
  }
};

/// Queues posted functions for the test thread to run. Thread-safe, so the
/// real store's threads may post to it too.
class QueuePoster final : public LoopPoster {
 public:
  void post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    q_.push_back(std::move(fn));
    cv_.notify_all();
  }
  /// Runs everything queued, including what the run functions queue.
  void pump() {
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard lock(mu_);
        if (q_.empty()) return;
        fn = std::move(q_.front());
        q_.pop_front();
      }
      fn();
    }
  }
  /// Pumps until pred() holds; false after 10 s.
  bool pump_until(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      pump();
      if (pred()) return true;
      std::unique_lock lock(mu_);
      if (!cv_.wait_until(lock, deadline, [&] { return !q_.empty(); })) return pred();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
};

inline constexpr const char* kSecret = "engine-test-secret";

inline std::string b64url(std::string_view in) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char ch : in) {
    buf = (buf << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlpha[(buf >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlpha[(buf << (6 - bits)) & 0x3F]);
  return out;
}

/// An HS256 JWT with sub and exp (seconds), optionally nbf.
inline std::string mint(const std::string& sub, std::int64_t exp_s, std::int64_t nbf_s = 0,
                        const std::string& secret = kSecret) {
  std::string payload = "{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp_s);
  if (nbf_s != 0) payload += ",\"nbf\":" + std::to_string(nbf_s);
  payload += "}";
  const std::string signing = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing.data()), signing.size(), mac, &len);
  return signing + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

struct Harness {
  Config config;
  FakeWire wire;
  QueuePoster poster;
  Metrics metrics;
  ManualClock clock;
  FakeStore* store = nullptr;
  std::unique_ptr<EngineApi> engine;
  SessionId next_sid = 1;

  explicit Harness(const std::function<void(FakeStore&)>& setup = {},
                   const std::function<void(Config&)>& configure = {}) {
    log::set_level(log::Level::warn);
    config.jwt_secret = kSecret;
    if (configure) configure(config);
    auto st = std::make_unique<FakeStore>(poster);
    store = st.get();
    if (setup) setup(*st);
    auto e = make_engine(EngineDeps{config, wire, poster, metrics, clock, std::move(st)});
    REQUIRE(e.ok());
    engine = std::move(*e);
  }

  using StoreFactory =
      std::function<std::unique_ptr<store::Store>(const Config&, LoopPoster&, Metrics&)>;
  /// An engine over another store (the real SQLite one); `store` stays null.
  struct WithStore {
    explicit WithStore(StoreFactory f) : make(std::move(f)) {}
    StoreFactory make;
  };
  Harness(const WithStore& with, const std::function<void(Config&)>& configure) {
    log::set_level(log::Level::warn);
    config.jwt_secret = kSecret;
    if (configure) configure(config);
    auto e = make_engine(
        EngineDeps{config, wire, poster, metrics, clock, with.make(config, poster, metrics)});
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  /// Waits (pumping) until the session has received `n` frames.
  bool wait_frames(SessionId s, std::size_t n) {
    return poster.pump_until([&] { return wire.out[s].size() >= n; });
  }

  std::int64_t now_s() const { return clock.now_ms() / 1000; }
  std::string token(const std::string& user, std::int64_t ttl_s = 3600) {
    return mint(user, now_s() + ttl_s);
  }

  SessionId open() {
    const SessionId sid = next_sid++;
    engine->on_connect(sid, ConnectionInfo{});
    return sid;
  }
  SessionId login(const std::string& user, std::int64_t ttl_s = 3600) {
    const SessionId sid = open();
    send(sid, proto::Hello{1, token(user, ttl_s), 1, {}, {}});
    auto frames = take(sid);
    REQUIRE(frames.size() == 1);
    REQUIRE(std::holds_alternative<proto::Welcome>(frames[0]));
    return sid;
  }
  void raw(SessionId s, std::string_view message) {
    engine->on_message(s, message);
    poster.pump();
  }
  void send(SessionId s, const proto::ClientFrame& frame) { raw(s, proto::encode(frame)); }
  void disconnect(SessionId s) {
    engine->on_disconnect(s);
    poster.pump();
  }
  void advance(std::int64_t ms) {
    clock.advance(ms);
    engine->on_tick();
    poster.pump();
  }

  /// Decodes and clears what the session received.
  std::vector<proto::ServerFrame> take(SessionId s) {
    std::vector<proto::ServerFrame> frames;
    for (const auto& b : wire.out[s]) {
      auto f = proto::decode_server(*b);
      REQUIRE_MESSAGE(f.ok(), *b);
      frames.push_back(std::move(*f));
    }
    wire.out[s].clear();
    return frames;
  }
  template <class F>
  std::vector<F> take_of(SessionId s) {
    std::vector<F> out;
    for (auto& f : take(s)) {
      if (auto* p = std::get_if<F>(&f)) out.push_back(std::move(*p));
    }
    return out;
  }
  /// Clears every session's inbox (after setup).
  void clear() {
    for (auto& [s, v] : wire.out)
      v.clear();
    wire.log.clear();
  }
  bool closed_with(SessionId s, proto::CloseCode code) const {
    auto it = wire.closed.find(s);
    return it != wire.closed.end() && it->second.first == code;
  }
};

inline proto::ErrorFrame only_error(std::vector<proto::ServerFrame> frames) {
  REQUIRE(frames.size() == 1);
  auto* e = std::get_if<proto::ErrorFrame>(&frames[0]);
  REQUIRE(e != nullptr);
  return *e;
}

}  // namespace chatsdk::server::testing
