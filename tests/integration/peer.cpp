#include "peer.hpp"

#include <doctest/doctest.h>

namespace chatsdk::test {

proto::RequestId reply_id(const proto::ServerFrame& frame) {
  return std::visit(
      [](const auto& f) -> proto::RequestId {
        if constexpr (requires { f.id; }) {
          return f.id;
        } else {
          return 0;
        }
      },
      frame);
}

Errc error_code(const std::optional<proto::ServerFrame>& frame) {
  if (!frame || !std::holds_alternative<proto::ErrorFrame>(*frame)) return Errc::ok;
  return errc_from_name(std::get<proto::ErrorFrame>(*frame).code).value_or(Errc::internal);
}

std::string hello_json(const std::string& token) {
  proto::Hello hello;
  hello.id = 1;
  hello.token = token;
  hello.protocol = 1;
  return proto::encode(proto::ClientFrame{hello});
}

std::unique_ptr<Peer> Peer::connect(const ServerProcess& server) {
  auto ws = WsClient::connect("127.0.0.1", server.port());
  REQUIRE_MESSAGE(ws.ok(), (ws.ok() ? "" : ws.error().message));
  return std::unique_ptr<Peer>(new Peer(std::move(*ws)));
}

std::unique_ptr<Peer> Peer::login(const ServerProcess& server, const std::string& user) {
  auto peer = connect(server);
  peer->user_ = user;
  proto::Hello hello;
  hello.token = mint_token(server.secret(), user, 3600);
  hello.protocol = 1;
  auto welcome = peer->request(hello);
  REQUIRE_MESSAGE(welcome.has_value(), "no reply to hello");
  REQUIRE_MESSAGE(std::holds_alternative<proto::Welcome>(*welcome),
                  "hello answered with " << proto::encode(*welcome));
  return peer;
}

proto::RequestId Peer::send(proto::ClientFrame frame) {
  proto::RequestId id = 0;
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.id; }) {
          if (f.id == 0) f.id = next_id_++;
          id = f.id;
        }
      },
      frame);
  ws_.send_text(proto::encode(frame));
  return id;
}

std::optional<proto::ServerFrame> Peer::reply(proto::RequestId id, int timeout_ms) {
  return next_matching([id](const proto::ServerFrame& f) { return reply_id(f) == id; }, timeout_ms);
}

std::optional<proto::ServerFrame> Peer::request(proto::ClientFrame frame, int timeout_ms) {
  return reply(send(std::move(frame)), timeout_ms);
}

bool Peer::receive(int timeout_ms) {
  auto message = ws_.recv_text(timeout_ms);
  if (!message) return false;
  for (auto line : proto::split_batch(*message)) {
    auto frame = proto::decode_server(line);
    REQUIRE_MESSAGE(frame.ok(), "server sent an undecodable frame: " << line);
    pending_.push_back(std::move(*frame));
  }
  return true;
}

}  // namespace chatsdk::test
