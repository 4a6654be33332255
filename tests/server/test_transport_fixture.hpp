// The real LwsTransport on a thread of the test process, driven by a small
// scripted engine (the real engine is tested elsewhere). The test thread talks
// to it over loopback sockets and reads its state through on_loop().
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/engine.hpp"
#include "server/transport/lws_transport.hpp"
#include "support/server_process.hpp"

namespace chatsdk::server::testing {

/// Messages it understands (anything else is echoed back):
///   burst:N       N frames "f0".."f{N-1}" queued at once (one coalesced write)
///   flood         from now on, 128 x 4 KiB frames per tick until send() fails
///   close:CODE    queue "bye" then Wire::close(CODE)
class ScriptEngine final : public EngineApi {
 public:
  ScriptEngine(Wire& wire, LoopPoster& poster) : wire_(wire), poster_(poster) {}

  void on_connect(SessionId s, const ConnectionInfo& info) override {
    open.insert(s);
    origins[s] = info.origin;
  }
  void on_message(SessionId s, std::string_view m) override {
    messages.emplace_back(m);
    if (m.rfind("burst:", 0) == 0) {
      const int n = std::stoi(std::string(m.substr(6)));
      for (int i = 0; i < n; ++i)
        wire_.send(s, make_bytes("f" + std::to_string(i)));
    } else if (m == "flood") {
      flooding.insert(s);
    } else if (m.rfind("close:", 0) == 0) {
      wire_.send(s, make_bytes("bye"));
      wire_.close(s, static_cast<proto::CloseCode>(std::stoi(std::string(m.substr(6)))),
                  "scripted");
    } else {
      wire_.send(s, make_bytes(std::string(m)));
    }
  }
  void on_frame_too_large(SessionId s) override {
    ++too_large;
    wire_.send(s, make_bytes("too_large"));
  }
  void on_disconnect(SessionId s) override {
    open.erase(s);
    flooding.erase(s);
    disconnected.push_back(s);
  }
  void on_tick() override {
    ++ticks;
    const auto chunk = make_bytes(std::string(4096, 'x'));
    for (auto it = flooding.begin(); it != flooding.end();) {
      bool ok = true;
      for (int i = 0; i < 128 && ok; ++i)
        ok = wire_.send(*it, chunk);
      if (!ok) {
        send_failures.push_back(*it);
        it = flooding.erase(it);
      } else {
        ++it;
      }
    }
  }
  void admin(AdminRequest r, std::function<void(AdminResponse)> done) override {
    // Answer later, from a posted task, like an engine waiting on the store.
    std::thread([this, r = std::move(r), done = std::move(done)]() mutable {
      poster_.post([r = std::move(r), done = std::move(done)] {
        done(AdminResponse{200, R"({"method":")" + r.method + R"(","path":")" + r.path +
                                    R"(","query":")" + r.query + R"(","body_bytes":)" +
                                    std::to_string(r.body.size()) + "}"});
      });
    }).detach();
  }
  void drain(std::function<void()> done) override {
    drained = true;
    for (SessionId s : std::set<SessionId>(open))
      wire_.close(s, proto::CloseCode::going_away, "shutting down");
    poster_.post(std::move(done));
  }
  bool healthy() const override { return is_healthy.load(); }

  // Loop-thread state, read by tests through Fixture::on_loop.
  std::set<SessionId> open;
  std::map<SessionId, std::string> origins;
  std::vector<std::string> messages;
  std::vector<SessionId> disconnected;
  std::vector<SessionId> send_failures;
  std::set<SessionId> flooding;
  int too_large = 0;
  int ticks = 0;
  bool drained = false;
  std::atomic<bool> is_healthy{true};

 private:
  Wire& wire_;
  LoopPoster& poster_;
};

class Fixture {
 public:
  explicit Fixture(Config c = {}) : config(std::move(c)) {
    config.listen_host = "127.0.0.1";
    if (config.listen_port == 8080) config.listen_port = 0;  // the kernel picks a free port
    transport = std::make_unique<LwsTransport>(config, metrics);
    engine = std::make_unique<ScriptEngine>(*transport, *transport);
    std::promise<Result<void>> listening;
    auto ready = listening.get_future();
    thread = std::thread([this, &listening] {
      auto r = transport->listen();
      const bool ok = r.ok();
      listening.set_value(std::move(r));
      if (ok) run_result = transport->run(*engine).ok();
    });
    listen_result = ready.get();
  }
  ~Fixture() { stop(); }

  void stop() {
    if (!thread.joinable()) return;
    transport->request_drain();
    thread.join();
  }

  /// Runs `fn` on the loop thread and returns its result.
  template <class F>
  auto on_loop(F fn) -> decltype(fn()) {
    std::promise<decltype(fn())> p;
    auto f = p.get_future();
    transport->post([&] {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        p.set_value();
      } else {
        p.set_value(fn());
      }
    });
    return f.get();
  }

  /// Polls `pred` on the loop thread until true or `timeout_ms`.
  bool wait_for(std::function<bool()> pred, int timeout_ms = 5000) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
      if (on_loop([&] { return pred(); })) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::uint16_t port() const { return transport->port(); }

  Config config;
  Metrics metrics;
  std::unique_ptr<LwsTransport> transport;
  std::unique_ptr<ScriptEngine> engine;
  Result<void> listen_result;
  bool run_result = false;
  std::thread thread;
};

}  // namespace chatsdk::server::testing
