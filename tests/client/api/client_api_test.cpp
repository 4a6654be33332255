// The public API over a real WebSocket (libwebsockets on loopback) against a
// minimal protocol server, linking the shared library as an app would.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "chatsdk/chatsdk.hpp"
#include "fake_server.hpp"

using namespace chatsdk;
using namespace std::chrono;

namespace {

std::string temp_db(const char* name) {
  auto p = (std::filesystem::temp_directory_path() /
            (std::string("chatsdk_api_") + name + "_" + std::to_string(::getpid()) + ".db"))
               .string();
  for (const char* s : {"", "-wal", "-shm"})
    std::filesystem::remove(p + s);
  return p;
}

ClientOptions options_for(const test::FakeServer& server, const std::string& db,
                          std::shared_ptr<std::atomic<int>> token_no = nullptr) {
  ClientOptions o;
  o.server_url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws";
  if (!token_no) token_no = std::make_shared<std::atomic<int>>(1);
  o.token_provider = [token_no] { return "tok.en." + std::to_string(token_no->load()); };
  o.database_path = db;
  o.backoff = BackoffOptions{50, 200, 2.0};
  o.random_seed = 7;
  return o;
}

// Polls until `pred` holds or 5 s pass.
template <class P>
bool poll_until(Client& c, P pred, std::vector<Event>* sink = nullptr) {
  auto end = steady_clock::now() + seconds(5);
  while (steady_clock::now() < end) {
    REQUIRE(c.poll(20).ok());
    while (auto e = c.next_event())
      if (sink != nullptr) sink->push_back(std::move(*e));
    if (pred()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("api: create validates options") {
  ClientOptions o;
  o.server_url = "http://example.com";
  o.token_provider = [] { return std::string("t"); };
  o.database_path = ":memory:";
  CHECK(Client::create(o).code() == Errc::invalid_argument);
  o.server_url = "ws://127.0.0.1:1/ws";
  o.token_provider = nullptr;
  CHECK(Client::create(o).code() == Errc::invalid_argument);
  o.token_provider = [] { return std::string("t"); };
  o.database_path = "";
  CHECK(Client::create(o).code() == Errc::invalid_argument);
  CHECK(version_number() == CHATSDK_VERSION_NUMBER);
}

TEST_CASE("api: poll(0) never blocks - connected or not") {
  ClientOptions o;
  o.server_url = "ws://127.0.0.1:9/ws";  // discard port: refused
  o.token_provider = [] { return std::string("t"); };
  o.database_path = ":memory:";
  auto c = Client::create(o);
  REQUIRE(c.ok());
  auto t0 = steady_clock::now();
  for (int i = 0; i < 100; ++i)
    REQUIRE((*c)->poll(0).ok());
  (*c)->connect();
  for (int i = 0; i < 100; ++i)
    REQUIRE((*c)->poll(0).ok());
  CHECK(steady_clock::now() - t0 < milliseconds(500));
  // the refused connection is reported and retried with backoff
  std::vector<Event> events;
  CHECK(poll_until(
      **c,
      [&] {
        for (auto& e : events)
          if (auto* cc = std::get_if<ConnectionChanged>(&e);
              cc && cc->state == ConnectionState::disconnected && cc->retry_in_ms >= 0)
            return true;
        return false;
      },
      &events));
}

TEST_CASE("api: connect - sync - send over a real WebSocket - the echo is confirmed in place") {
  test::FakeServer server;
  REQUIRE(server.port() > 0);
  std::string db = temp_db("send");
  auto c = Client::create(options_for(server, db));
  REQUIRE(c.ok());
  Client& client = **c;
  client.connect();
  std::vector<Event> events;
  REQUIRE(poll_until(
      client, [&] { return client.state() == ConnectionState::live; }, &events));
  CHECK(client.user_id() == "alice");
  REQUIRE(client.channel("lobby").has_value());
  REQUIRE(client.open_timeline("lobby").ok());
  auto op = client.send_text("lobby", "hello over the wire");
  REQUIRE(op.ok());
  REQUIRE(poll_until(
      client, [&] { return client.op(*op)->state == OpState::sent; }, &events));
  CHECK(server.sent_bodies() == std::vector<std::string>{"hello over the wire"});
  auto tl = client.timeline("lobby");
  REQUIRE(tl.size() == 1);
  CHECK(tl[0].message.seq == 1);
  CHECK(tl[0].key == client.op(*op)->client_id);
  std::size_t removes = 0;
  for (auto& e : events)
    if (auto* d = std::get_if<TimelineDiff>(&e))
      for (auto& o : d->ops)
        removes += o.kind == DiffKind::remove ? 1 : 0;
  CHECK(removes == 0);
}

TEST_CASE("api: server closes with token_expired -> fresh token - reconnect - live again") {
  test::FakeServer server;
  auto token_no = std::make_shared<std::atomic<int>>(1);
  auto c = Client::create(options_for(server, ":memory:", token_no));
  REQUIRE(c.ok());
  Client& client = **c;
  client.connect();
  REQUIRE(poll_until(client, [&] { return client.state() == ConnectionState::live; }));
  *token_no = 2;
  server.kick_all(4003);
  REQUIRE(poll_until(client, [&] { return server.hellos() == 2; }));
  REQUIRE(poll_until(client, [&] { return client.state() == ConnectionState::live; }));
  auto tokens = server.tokens();
  REQUIRE(tokens.size() == 2);
  CHECK(tokens[0] == "tok.en.1");
  CHECK(tokens[1] == "tok.en.2");
}

TEST_CASE("api: an offline send survives an app restart and goes out on connect") {
  test::FakeServer server;
  std::string db = temp_db("restart");
  {
    auto c = Client::create(options_for(server, db));
    REQUIRE(c.ok());
    // never connected: the op lives only in SQLite
    REQUIRE((*c)->send_text("lobby", "written offline").ok());
    CHECK((*c)->pending_ops().size() == 1);
  }
  auto c = Client::create(options_for(server, db));
  REQUIRE(c.ok());
  REQUIRE((*c)->pending_ops().size() == 1);
  (*c)->connect();
  REQUIRE(poll_until(**c, [&] { return (*c)->pending_ops().empty(); }));
  CHECK(server.sent_bodies() == std::vector<std::string>{"written offline"});
}

TEST_CASE("api: run() on an SDK thread delivers events to the listener in order") {
  test::FakeServer server;
  auto c = Client::create(options_for(server, ":memory:"));
  REQUIRE(c.ok());
  Client& client = **c;
  std::mutex mu;
  std::vector<Event> got;
  std::thread::id loop_thread;
  client.set_listener([&](const Event& e) {
    std::lock_guard<std::mutex> g(mu);
    loop_thread = std::this_thread::get_id();
    got.push_back(e);
  });
  REQUIRE(client.run().ok());
  CHECK(client.run().code() == Errc::invalid_state);
  CHECK(client.poll(0).code() == Errc::invalid_state);
  client.connect();
  auto wait = [&](auto pred) {
    auto end = steady_clock::now() + seconds(5);
    while (steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  };
  REQUIRE(wait([&] { return client.state() == ConnectionState::live; }));
  auto op = client.send_text("lobby", "from another thread");
  REQUIRE(op.ok());
  REQUIRE(wait([&] { return client.op(*op)->state == OpState::sent; }));
  client.stop();
  std::lock_guard<std::mutex> g(mu);
  CHECK(loop_thread != std::this_thread::get_id());
  std::vector<OpState> states;
  for (auto& e : got)
    if (auto* oc = std::get_if<OpChanged>(&e); oc && oc->op.id == *op)
      states.push_back(oc->op.state);
  CHECK(states == std::vector<OpState>{OpState::queued, OpState::sending, OpState::sent});
}

TEST_CASE("api: prepare_suspend stops reconnects - resume reconnects once") {
  test::FakeServer server;
  auto c = Client::create(options_for(server, temp_db("suspend")));
  REQUIRE(c.ok());
  Client& client = **c;
  client.connect();
  REQUIRE(poll_until(client, [&] { return client.state() == ConnectionState::live; }));
  client.prepare_suspend();
  auto end = steady_clock::now() + milliseconds(600);
  while (steady_clock::now() < end)
    REQUIRE(client.poll(20).ok());
  CHECK(server.hellos() == 1);
  CHECK(client.state() == ConnectionState::disconnected);
  client.resume();
  REQUIRE(poll_until(client, [&] { return client.state() == ConnectionState::live; }));
  CHECK(server.hellos() == 2);
}

TEST_CASE("api: wss:// with a private CA - connect and send over TLS") {
  auto dir = std::filesystem::temp_directory_path() / ("chatsdk_tls_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout " +
      key + " -out " + cert +
      " -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    MESSAGE("openssl CLI unavailable: TLS test skipped");
    return;
  }
  test::FakeServer server(cert, key);
  REQUIRE(server.port() > 0);
  ClientOptions o = options_for(server, ":memory:");
  o.server_url = "wss://localhost:" + std::to_string(server.port()) + "/ws";
  o.tls_ca_file = cert;  // the self-signed certificate is its own CA
  auto c = Client::create(o);
  REQUIRE(c.ok());
  (*c)->connect();
  REQUIRE(poll_until(**c, [&] { return (*c)->state() == ConnectionState::live; }));
  auto op = (*c)->send_text("lobby", "over tls");
  REQUIRE(op.ok());
  REQUIRE(poll_until(**c, [&] { return (*c)->op(*op)->state == OpState::sent; }));
  CHECK(server.sent_bodies() == std::vector<std::string>{"over tls"});
  // an untrusted server is refused: the system store does not know this CA
  ClientOptions bad = o;
  bad.tls_ca_file.clear();
  auto c2 = Client::create(bad);
  REQUIRE(c2.ok());
  (*c2)->connect();
  std::vector<Event> events;
  CHECK(poll_until(
      **c2,
      [&] {
        for (auto& e : events)
          if (auto* cc = std::get_if<ConnectionChanged>(&e); cc && cc->retry_in_ms >= 0)
            return true;
        return false;
      },
      &events));
  CHECK(server.hellos() == 1);
  std::filesystem::remove_all(dir);
}
