// Every class of bad input over a real WebSocket against the real server:
// each gets a clear error or close code, and neither the connection (where the
// spec says it survives), the store nor other users are affected.
#include <doctest/doctest.h>

#include "peer.hpp"

using namespace chatsdk;
using namespace chatsdk::proto;
using namespace chatsdk::test;

namespace {

std::unique_ptr<ServerProcess> start_server(std::vector<std::string> args = {}) {
  auto server = ServerProcess::start(CHATSDK_SERVER_BINARY, std::move(args));
  REQUIRE_MESSAGE(server.ok(), (server.ok() ? "" : server.error().message));
  return std::move(*server);
}

std::string create_group(Peer& owner, const std::string& channel,
                         std::vector<std::string> members) {
  ChannelCreate create;
  create.client_id = "create-" + channel;
  create.kind = ChannelKind::group;
  create.channel = channel;
  create.members = std::move(members);
  auto reply = owner.request(create);
  REQUIRE(reply.has_value());
  REQUIRE_MESSAGE(std::holds_alternative<ChannelReply>(*reply), encode(*reply));
  return std::get<ChannelReply>(*reply).info.channel;
}

Seq send_text(Peer& peer, const std::string& channel, const std::string& client_id,
              const std::string& body) {
  Send send;
  send.channel = channel;
  send.client_id = client_id;
  send.body = body;
  auto reply = peer.request(send);
  REQUIRE(reply.has_value());
  REQUIRE_MESSAGE(std::holds_alternative<Sent>(*reply), encode(*reply));
  return std::get<Sent>(*reply).seq;
}

// The connection still works: a ping gets its pong.
void require_alive(Peer& peer) {
  auto pong = peer.request(Ping{});
  REQUIRE(pong.has_value());
  CHECK(std::holds_alternative<Pong>(*pong));
}

Errc raw_error(Peer& peer, std::string_view raw) {
  peer.send_raw(raw);
  auto e = peer.event<ErrorFrame>(3000);
  REQUIRE_MESSAGE(e.has_value(), "no error frame for: " << raw.substr(0, 80));
  return errc_from_name(e->code).value_or(Errc::internal);
}

}  // namespace

TEST_CASE("malformed, unknown, incomplete and mistyped frames get typed errors") {
  auto server = start_server();
  auto alice = Peer::login(*server, "alice");

  CHECK(raw_error(*alice, "{not json") == Errc::malformed_frame);
  CHECK(raw_error(*alice, R"({"type":"teleport","id":5})") == Errc::unknown_type);
  CHECK(raw_error(*alice, R"({"type":"send","id":6,"channel":"c"})") == Errc::missing_field);
  CHECK(raw_error(*alice, R"({"type":"mark_read","id":7,"channel":"c","seq":"x"})") ==
        Errc::wrong_type);
  std::string deep = R"({"type":"ping","x":)" + std::string(200, '[');
  CHECK(raw_error(*alice, deep) == Errc::too_deep);
  // The error carries the request id when it can be read.
  alice->send_raw(R"({"type":"send","id":77,"channel":"c"})");
  auto e = alice->reply(77);
  REQUIRE(e.has_value());
  CHECK(error_code(e) == Errc::missing_field);
  require_alive(*alice);
}

TEST_CASE("oversize frames and bodies are refused, the connection survives") {
  auto server = start_server();
  auto alice = Peer::login(*server, "alice");
  const auto channel = create_group(*alice, "big", {});

  std::string huge = R"({"type":"ping","pad":")" + std::string(70 * 1024, 'x') + R"("})";
  CHECK(raw_error(*alice, huge) == Errc::frame_too_large);
  require_alive(*alice);

  Send send;
  send.channel = channel;
  send.client_id = "too-big";
  send.body = std::string(kMaxBodyBytes, 'b');  // within the codec's limit...
  auto ok = alice->request(send);
  REQUIRE(ok.has_value());
  CHECK(std::holds_alternative<Sent>(*ok));  // ...and the server's default limit
  std::string over = R"({"type":"send","id":90,"channel":"big","client_id":"x2","body":")" +
                     std::string(kMaxBodyBytes + 1, 'b') + R"("})";
  alice->send_raw(over);
  CHECK(error_code(alice->reply(90)) == Errc::body_too_large);
  require_alive(*alice);
}

TEST_CASE("invalid UTF-8 is an error, not a crash") {
  auto server = start_server();
  auto alice = Peer::login(*server, "alice");
  std::string bad = R"({"type":"ping","id":3,"x":")";
  bad += "\xC3\x28\xFF";
  bad += R"("})";
  alice->ws().send_raw_frame(0x1, bad);
  // Either the typed error (connection kept) or a WebSocket-level 1007 close.
  auto e = alice->event<ErrorFrame>(3000);
  if (e.has_value()) {
    CHECK(errc_from_name(e->code) == Errc::invalid_utf8);
    require_alive(*alice);
  } else {
    CHECK(alice->wait_closed(2000) == 1007);
  }
  auto other = Peer::login(*server, "bob");
  require_alive(*other);
}

TEST_CASE("frames before hello are refused until authenticated") {
  auto server = start_server();
  auto peer = Peer::connect(*server);
  CHECK(error_code(peer->request(Ping{})) == Errc::unauthenticated);
  Sync sync;
  CHECK(error_code(peer->request(sync)) == Errc::unauthenticated);
  Hello hello;
  hello.token = mint_token(server->secret(), "carol", 600);
  hello.protocol = 1;
  auto welcome = peer->request(hello);
  REQUIRE(welcome.has_value());
  CHECK(std::holds_alternative<Welcome>(*welcome));
  require_alive(*peer);
}

TEST_CASE("bad, expired, forged and alg-swapped tokens are refused with close codes") {
  auto server = start_server();
  struct Case {
    std::string token;
    Errc code;
    int close;
  };
  const std::string good = mint_token(server->secret(), "dave", 600);
  const std::string header_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";  // {"alg":"none","typ":"JWT"}
  const std::string payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  const std::vector<Case> cases{
      {"garbage", Errc::auth_failed, 4001},
      {good.substr(0, good.size() - 3), Errc::auth_failed, 4001},  // truncated signature
      {mint_token("some-other-secret", "dave", 600), Errc::auth_failed, 4001},  // forged
      {header_none + "." + payload + ".", Errc::auth_failed, 4001},
      {mint_token(server->secret(), "dave", -3600), Errc::token_expired, 4003},
  };
  for (const auto& c : cases) {
    INFO("token: " << c.token);
    auto peer = Peer::connect(*server);
    Hello hello;
    hello.token = c.token;
    hello.protocol = 1;
    auto reply = peer->request(hello);
    CHECK(error_code(reply) == c.code);
    CHECK(peer->wait_closed(3000) == c.close);
  }
  // The server is unaffected.
  auto dave = Peer::login(*server, "dave");
  require_alive(*dave);
}

TEST_CASE("non-members cannot send, read, react, type or list members") {
  auto server = start_server();
  auto alice = Peer::login(*server, "alice");
  auto mallory = Peer::login(*server, "mallory");
  const auto channel = create_group(*alice, "private", {"bob"});
  const Seq seq = send_text(*alice, channel, "m1", "secret plans");

  Send send;
  send.channel = channel;
  send.client_id = "intrude";
  send.body = "hi";
  CHECK(error_code(mallory->request(send)) == Errc::not_member);
  History history;
  history.channel = channel;
  CHECK(error_code(mallory->request(history)) == Errc::not_member);
  React react;
  react.channel = channel;
  react.seq = seq;
  react.client_id = "r1";
  react.emoji = "x";
  CHECK(error_code(mallory->request(react)) == Errc::not_member);
  MembersList list;
  list.channel = channel;
  CHECK(error_code(mallory->request(list)) == Errc::not_member);
  Typing typing;
  typing.channel = channel;
  mallory->send(typing);
  auto e = mallory->event<ErrorFrame>(2000);
  REQUIRE(e.has_value());
  CHECK(errc_from_name(e->code) == Errc::not_member);
  // Nothing leaked into the channel.
  History own;
  own.channel = channel;
  auto page = alice->request(own);
  REQUIRE(page.has_value());
  REQUIRE(std::holds_alternative<HistoryPage>(*page));
  CHECK(std::get<HistoryPage>(*page).messages.size() == 1);
}

TEST_CASE("editing or deleting someone else's message is denied") {
  auto server = start_server();
  auto alice = Peer::login(*server, "alice");
  auto bob = Peer::login(*server, "bob");
  const auto channel = create_group(*alice, "team", {"bob"});
  const Seq seq = send_text(*alice, channel, "a1", "original");

  Edit edit;
  edit.channel = channel;
  edit.seq = seq;
  edit.client_id = "b-edit";
  edit.body = "vandalised";
  CHECK(error_code(bob->request(edit)) == Errc::permission_denied);
  Delete del;
  del.channel = channel;
  del.seq = seq;
  del.client_id = "b-del";
  CHECK(error_code(bob->request(del)) == Errc::permission_denied);
  History history;
  history.channel = channel;
  auto page = alice->request(history);
  REQUIRE(page.has_value());
  REQUIRE(std::holds_alternative<HistoryPage>(*page));
  const auto& messages = std::get<HistoryPage>(*page).messages;
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].body == "original");
  CHECK_FALSE(messages[0].deleted);
}

TEST_CASE("flooding is rate limited, then closed, other users are unaffected") {
  auto server = start_server({"--frames-per-second", "20", "--frame-burst", "20"});
  auto flood = Peer::login(*server, "flood");
  auto calm = Peer::login(*server, "calm");
  std::string batch;
  for (int i = 0; i < 60; ++i) batch += R"({"type":"ping"})" "\n";
  flood->send_raw(batch);
  auto e = flood->event<ErrorFrame>(3000);
  REQUIRE(e.has_value());
  CHECK(errc_from_name(e->code) == Errc::rate_limited);
  CHECK(e->retry_after_ms > 0);
  // Keep flooding well past the close threshold.
  for (int i = 0; i < 10; ++i) flood->send_raw(batch);
  CHECK(flood->wait_closed(5000) == 4008);
  require_alive(*calm);
}

TEST_CASE("a consumer that stops reading is disconnected with 4009, others keep going") {
  // Send limits lifted so Alice can push ~2 MB quickly; the queue bound is small.
  auto server = start_server({"--send-queue-max-bytes", "65536", "--sends-per-second", "1000000",
                              "--send-burst", "1000000", "--frames-per-second", "1000000",
                              "--frame-burst", "1000000"});
  auto alice = Peer::login(*server, "alice");
  auto bob = Peer::login(*server, "bob");
  WsClient::Options opts;
  opts.receive_buffer_bytes = 4096;
  auto slow_ws = WsClient::connect("127.0.0.1", server->port(), opts);
  REQUIRE(slow_ws.ok());
  slow_ws->send_text(hello_json(mint_token(server->secret(), "slow", 600)));
  REQUIRE(slow_ws->recv_text(3000).has_value());  // welcome
  const auto channel = create_group(*alice, "firehose", {"bob", "slow"});

  // Alice sends ~2 MB into the channel; the slow client never reads.
  std::string body(8000, 'z');
  int sent = 0;
  for (int i = 0; i < 250; ++i) {
    Send send;
    send.channel = channel;
    send.client_id = "fh" + std::to_string(i);
    send.body = body;
    alice->send(send);
    ++sent;
  }
  // Bob reads everything.
  int received = 0;
  while (received < sent) {
    auto m = bob->event<MessageEvent>(5000);
    if (!m) break;
    ++received;
  }
  CHECK(received == sent);
  CHECK(slow_ws->wait_closed(10000) == 4009);
  auto metrics = http_request(server->port(), "GET", "/metrics");
  CHECK(metrics.body.find("slow_consumer") != std::string::npos);
  require_alive(*alice);
}

TEST_CASE("a full disk fails the commit cleanly: error to the sender, nothing half-written") {
  // A storage quota just above the empty database size makes SQLite report a full disk.
  auto server = start_server({"--max-db-bytes", "204800"});
  auto alice = Peer::login(*server, "alice");
  auto bob = Peer::login(*server, "bob");
  const auto channel = create_group(*alice, "disk", {"bob"});
  std::string body(4000, 'd');
  Seq last_ok = 0;
  int failures = 0;
  for (int i = 0; i < 200 && failures == 0; ++i) {
    Send send;
    send.channel = channel;
    send.client_id = "d" + std::to_string(i);
    send.body = body;
    auto reply = alice->request(send);
    REQUIRE(reply.has_value());
    if (std::holds_alternative<Sent>(*reply)) {
      last_ok = std::get<Sent>(*reply).seq;
    } else {
      CHECK(error_code(reply) == Errc::storage_failed);
      ++failures;
    }
  }
  REQUIRE(failures == 1);
  CHECK(last_ok > 0);
  // The server keeps serving reads and other users; the failed send left no trace.
  History history;
  history.channel = channel;
  history.after = 0;
  history.limit = 500;
  auto page = bob->request(history);
  REQUIRE(page.has_value());
  REQUIRE(std::holds_alternative<HistoryPage>(*page));
  const auto& messages = std::get<HistoryPage>(*page).messages;
  REQUIRE(!messages.empty());
  CHECK(messages.back().seq == last_ok);
  CHECK(messages.size() == last_ok);
  require_alive(*bob);
  auto health = http_request(server->port(), "GET", "/healthz");
  CHECK(health.status != 0);
}
