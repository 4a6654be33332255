#include "client/transport/lws_transport.hpp"

#include <libwebsockets.h>

#include <cstring>
#include <deque>
#include <vector>

#include "common/protocol/limits.hpp"

namespace chatsdk::client {

struct LwsTransport::Conn {
  std::uint64_t id = 0;
  LwsTransport* owner = nullptr;
  lws* wsi = nullptr;
  std::deque<std::string> out;
  std::string rx;
  bool rx_overflow = false;
  std::uint16_t close_code = 0;  // we asked to close with this code
  std::uint16_t peer_code = 1006;
  std::string peer_reason;
  bool ended = false;  // closed/failed already reported
};

struct LwsTransport::Timer {
  lws_sorted_usec_list_t sul{};
  bool armed = false;
};

namespace {

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  (void)user;
  lws_context* ctx = lws_get_context(wsi);
  auto* self = ctx != nullptr ? static_cast<LwsTransport*>(lws_context_user(ctx)) : nullptr;
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  int r = self->on_callback(wsi, static_cast<int>(reason), in, len);
  if (r == 1) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return r;
}

const lws_protocols kProtocols[] = {
    {proto::kSubprotocol, callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

void timer_fired(lws_sorted_usec_list_t*) {}  // only wakes the poll wait

}  // namespace

LwsTransport::LwsTransport(WsUrl url, std::string ca_file)
    : url_(std::move(url)), ca_file_(std::move(ca_file)), timer_(std::make_unique<Timer>()) {}

Result<std::unique_ptr<LwsTransport>> LwsTransport::create(WsUrl url, std::string ca_file) {
  lws_set_log_level(LLL_ERR, nullptr);
  auto t = std::unique_ptr<LwsTransport>(new LwsTransport(std::move(url), std::move(ca_file)));
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.gid = -1;
  info.uid = -1;
  info.user = t.get();
  info.options = t->url_.tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
  info.fd_limit_per_thread = 16;  // a client needs a handful of fds, not ulimit -n
  if (t->url_.tls && !t->ca_file_.empty()) info.client_ssl_ca_filepath = t->ca_file_.c_str();
  t->ctx_ = lws_create_context(&info);
  if (t->ctx_ == nullptr) return Error{Errc::internal, "lws_create_context failed"};
  return t;
}

LwsTransport::~LwsTransport() {
  if (ctx_ != nullptr) {
    if (timer_->armed) lws_sul_cancel(&timer_->sul);
    timer_->armed = false;
    lws_context_destroy(ctx_);  // closes live connections (callbacks see ended conns)
    ctx_ = nullptr;
  }
}

void LwsTransport::report_end(Conn& c, TransportEvent::Kind kind, std::uint16_t code,
                              std::string reason) {
  if (c.ended) return;
  c.ended = true;
  c.wsi = nullptr;
  events_.push_back(TransportEvent{kind, c.id, std::move(reason), code});
}

void LwsTransport::open(std::uint64_t conn) {
  auto c = std::make_unique<Conn>();
  c->id = conn;
  c->owner = this;
  Conn* raw = c.get();
  conns_[conn] = std::move(c);

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = ctx_;
  ci.address = url_.host.c_str();
  ci.port = url_.port;
  ci.path = url_.path.c_str();
  ci.host = url_.host.c_str();
  ci.origin = url_.host.c_str();
  ci.protocol = proto::kSubprotocol;
  ci.ssl_connection = url_.tls ? LCCSCF_USE_SSL : 0;
  ci.opaque_user_data = raw;
  ci.pwsi = &raw->wsi;
  if (lws_client_connect_via_info(&ci) == nullptr)
    report_end(*raw, TransportEvent::Kind::failed, 0, "connect failed: " + url_.host);
}

void LwsTransport::send(std::uint64_t conn, std::string text) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second->ended || it->second->wsi == nullptr) return;
  it->second->out.push_back(std::move(text));
  lws_callback_on_writable(it->second->wsi);
}

void LwsTransport::close(std::uint64_t conn, std::uint16_t code) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.ended || c.wsi == nullptr) {
    conns_.erase(it);
    return;
  }
  c.close_code = code == 0 ? 1000 : code;
  c.ended = true;  // the app asked: no event for this connection any more
  lws_callback_on_writable(c.wsi);
}

void LwsTransport::service(int timeout_ms) {
  if (ctx_ == nullptr) return;
  if (timeout_ms <= 0) {
    lws_service(ctx_, -1);  // never blocks
  } else {
    lws_sul_schedule(ctx_, 0, &timer_->sul, timer_fired,
                     static_cast<lws_usec_t>(timeout_ms) * LWS_US_PER_MS);
    timer_->armed = true;
    lws_service(ctx_, 0);  // returns on I/O, the timer, or wake()
    lws_sul_cancel(&timer_->sul);
    timer_->armed = false;
  }
  // forget finished connections whose wsi is gone
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->ended && it->second->wsi == nullptr)
      it = conns_.erase(it);
    else
      ++it;
  }
}

void LwsTransport::wake() noexcept {
  if (ctx_ != nullptr) lws_cancel_service(ctx_);
}

int LwsTransport::on_callback(lws* wsi, int reason_int, void* in, std::size_t len) {
  auto reason = static_cast<lws_callback_reasons>(reason_int);
  auto* c = static_cast<Conn*>(lws_get_opaque_user_data(wsi));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (c == nullptr || c->ended) return -1;
      c->wsi = wsi;
      events_.push_back(TransportEvent{TransportEvent::Kind::opened, c->id, {}, 0});
      if (!c->out.empty()) lws_callback_on_writable(wsi);
      return 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (c != nullptr) {
        std::string why = in != nullptr ? std::string(static_cast<const char*>(in), len) : "";
        if (why.empty() && in != nullptr) why = static_cast<const char*>(in);
        report_end(*c, TransportEvent::Kind::failed, 0,
                   "connection error" + (why.empty() ? std::string() : ": " + why));
        c->wsi = nullptr;
      }
      return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (c == nullptr || c->ended) return 0;
      if (!c->rx_overflow) {
        if (c->rx.size() + len > proto::kMaxServerMessageBytes) {
          c->rx_overflow = true;  // a broken server: drop this message
          c->rx.clear();
        } else {
          c->rx.append(static_cast<const char*>(in), len);
        }
      }
      if (lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0) {
        if (!c->rx_overflow)
          events_.push_back(
              TransportEvent{TransportEvent::Kind::message, c->id, std::move(c->rx), 0});
        c->rx.clear();
        c->rx_overflow = false;
      }
      return 0;

    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      if (c == nullptr) return -1;
      if (c->close_code != 0) {
        lws_close_reason(wsi, static_cast<lws_close_status>(c->close_code), nullptr, 0);
        return -1;
      }
      if (c->out.empty()) return 0;
      std::string& msg = c->out.front();
      std::vector<unsigned char> buf(LWS_PRE + msg.size());
      std::memcpy(buf.data() + LWS_PRE, msg.data(), msg.size());
      int n = lws_write(wsi, buf.data() + LWS_PRE, msg.size(), LWS_WRITE_TEXT);
      if (n < static_cast<int>(msg.size())) {
        report_end(*c, TransportEvent::Kind::closed, 1006, "write failed");
        return -1;
      }
      c->out.pop_front();
      if (!c->out.empty()) lws_callback_on_writable(wsi);
      return 0;
    }

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (c != nullptr && len >= 2) {
        const auto* p = static_cast<const unsigned char*>(in);
        c->peer_code = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
        c->peer_reason.assign(reinterpret_cast<const char*>(p + 2), len - 2);
      }
      return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:
      if (c != nullptr) {
        report_end(*c, TransportEvent::Kind::closed, c->peer_code, c->peer_reason);
        c->wsi = nullptr;
      }
      return 0;

    case LWS_CALLBACK_WSI_DESTROY:
      if (c != nullptr) {
        if (!c->ended) report_end(*c, TransportEvent::Kind::closed, 1006, "connection lost");
        c->wsi = nullptr;
      }
      return 0;

    default:
      return 1;  // let the dummy handler do the default
  }
}

}  // namespace chatsdk::client
