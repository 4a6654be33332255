// libwebsockets client transport (ws:// and wss://, subprotocol chatsdk.v1).
//
// lws facts this relies on (lws 4.1, see notes/deps-evaluation.md §1):
//  - lws_service()'s timeout is not a wait bound; a bounded wait is made by
//    scheduling a sul timer that fires at the deadline, and a non-blocking
//    service is lws_service(ctx, -1).
//  - lws_cancel_service() is the only thread-safe call: wake() uses it.
//  - a connect fails either synchronously (NULL from lws_client_connect_via_info)
//    or later (CLIENT_CONNECTION_ERROR); both become a `failed` event, once.
//  - writes only from CLIENT_WRITEABLE, one lws_write per callback, LWS_PRE headroom.
//  - the sul timer is cancelled before the context and the object go away.
#pragma once

#include <map>
#include <memory>

#include "client/transport/transport.hpp"

struct lws;
struct lws_context;

namespace chatsdk::client {

class LwsTransport final : public Transport {
 public:
  struct Conn;

  /// `ca_file`: PEM CAs to trust for wss:// instead of the system store ("" = system).
  static Result<std::unique_ptr<LwsTransport>> create(WsUrl url, std::string ca_file);
  ~LwsTransport() override;

  void open(std::uint64_t conn) override;
  void send(std::uint64_t conn, std::string text) override;
  void close(std::uint64_t conn, std::uint16_t code) override;
  void service(int timeout_ms) override;
  void wake() noexcept override;

  // called from the lws protocol callback
  int on_callback(lws* wsi, int reason, void* in, std::size_t len);

 private:
  LwsTransport(WsUrl url, std::string ca_file);
  void report_end(Conn& c, TransportEvent::Kind kind, std::uint16_t code, std::string reason);

  WsUrl url_;
  std::string ca_file_;  // must outlive the context
  lws_context* ctx_ = nullptr;
  std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  struct Timer;
  std::unique_ptr<Timer> timer_;
};

}  // namespace chatsdk::client
