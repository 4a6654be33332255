#include "fake_server.hpp"

#include <libwebsockets.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "common/protocol/codec.hpp"

namespace chatsdk::test {

struct Session {
  std::deque<std::string> out;
  std::uint16_t close_code = 0;
};

struct FakeServer::State {
  lws_context* ctx = nullptr;
  std::string cert, key;
  int port = 0;
  std::thread thread;
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  int hellos = 0;
  std::vector<std::string> tokens;
  std::vector<std::string> types;
  std::vector<std::string> bodies;
  std::uint16_t kick_code = 0;
  std::map<lws*, Session> sessions;
  proto::Seq seq = 0;
  proto::Version version = 1;

  void reply(lws* wsi, const proto::ServerFrame& f) {
    sessions[wsi].out.push_back(proto::encode(f));
    lws_callback_on_writable(wsi);
  }

  void on_frame(lws* wsi, const proto::ClientFrame& f) {
    std::lock_guard<std::mutex> g(mu);
    types.emplace_back(proto::type_name(f));
    if (auto* h = std::get_if<proto::Hello>(&f)) {
      ++hellos;
      tokens.push_back(h->token);
      proto::Welcome w;
      w.id = h->id;
      w.user = "alice";
      w.session = "s" + std::to_string(hellos);
      w.protocol = 1;
      w.server_time = 1;
      w.heartbeat_ms = 25'000;
      w.limits.max_frame_bytes = 65536;
      w.limits.max_body_bytes = 16384;
      reply(wsi, w);
      reply(wsi, proto::Pong{0, 1});  // a second frame in the same message
    } else if (auto* s = std::get_if<proto::Sync>(&f)) {
      proto::SyncResult r;
      r.id = s->id;
      proto::ChannelSync cs;
      cs.channel = "lobby";
      bool listed = !s->channels.empty();
      cs.status = listed ? proto::SyncStatus::delta : proto::SyncStatus::joined;
      proto::ChannelInfo info;
      info.channel = "lobby";
      info.kind = proto::ChannelKind::group;
      info.name = "Lobby";
      info.member_count = 2;
      info.last_seq = seq;
      info.version = version;
      if (!listed) cs.info = info;
      cs.version = version;
      cs.head_version = version;
      cs.last_seq = seq;
      cs.read_seq = seq;
      r.channels.push_back(cs);
      reply(wsi, r);
    } else if (auto* m = std::get_if<proto::Send>(&f)) {
      bodies.push_back(m->body);
      ++seq;
      ++version;
      reply(wsi, proto::Sent{m->id, m->channel, m->client_id, seq, version, 1'700'000'000'000});
    } else if (auto* p = std::get_if<proto::Ping>(&f)) {
      reply(wsi, proto::Pong{p->id, 1});
    } else if (auto* mr = std::get_if<proto::MarkRead>(&f)) {
      reply(wsi, proto::Ok{mr->id, mr->channel, 0});
    }
  }
};

namespace {

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  lws_context* ctx = lws_get_context(wsi);
  auto* st = static_cast<FakeServer::State*>(lws_context_user(ctx));
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
      std::lock_guard<std::mutex> g(st->mu);
      st->sessions[wsi];
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      std::string msg(static_cast<const char*>(in), len);
      for (auto line : proto::split_batch(msg)) {
        auto f = proto::decode_client(line);
        if (f) st->on_frame(wsi, *f);
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      std::lock_guard<std::mutex> g(st->mu);
      Session& s = st->sessions[wsi];
      if (s.close_code != 0) {
        lws_close_reason(wsi, static_cast<lws_close_status>(s.close_code), nullptr, 0);
        return -1;
      }
      if (s.out.empty()) return 0;
      // Like the real server: everything queued leaves in one message,
      // frames separated by '\n' (the client must split the batch).
      std::string m;
      for (auto& f : s.out) {
        if (!m.empty()) m += '\n';
        m += f;
      }
      s.out.clear();
      std::vector<unsigned char> buf(LWS_PRE + m.size());
      std::memcpy(buf.data() + LWS_PRE, m.data(), m.size());
      lws_write(wsi, buf.data() + LWS_PRE, m.size(), LWS_WRITE_TEXT);
      return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      std::lock_guard<std::mutex> g(st->mu);
      if (st->kick_code != 0) {
        for (auto& [w, s] : st->sessions) {
          s.close_code = st->kick_code;
          lws_callback_on_writable(w);
        }
        st->kick_code = 0;
      }
      return 0;
    }
    case LWS_CALLBACK_CLOSED: {
      std::lock_guard<std::mutex> g(st->mu);
      st->sessions.erase(wsi);
      return 0;
    }
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

const lws_protocols kProtocols[] = {
    {"chatsdk.v1", callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

FakeServer::FakeServer(std::string cert_file, std::string key_file)
    : s_(std::make_unique<State>()) {
  s_->cert = std::move(cert_file);
  s_->key = std::move(key_file);
  lws_set_log_level(LLL_ERR, nullptr);
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = 0;  // any free port
  info.iface = "127.0.0.1";
  info.protocols = kProtocols;
  info.gid = -1;
  info.uid = -1;
  info.user = s_.get();
  info.fd_limit_per_thread = 64;
  if (!s_->cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = s_->cert.c_str();
    info.ssl_private_key_filepath = s_->key.c_str();
  }
  s_->ctx = lws_create_context(&info);
  if (s_->ctx == nullptr) return;
  lws_vhost* vh = lws_get_vhost_by_name(s_->ctx, "default");
  s_->port = vh != nullptr ? lws_get_vhost_listen_port(vh) : 0;
  s_->thread = std::thread([st = s_.get()] {
    while (!st->stop.load())
      lws_service(st->ctx, 0);
  });
}

FakeServer::~FakeServer() {
  if (s_->ctx == nullptr) return;
  s_->stop = true;
  lws_cancel_service(s_->ctx);
  s_->thread.join();
  lws_context_destroy(s_->ctx);
}

int FakeServer::port() const {
  return s_->port;
}

void FakeServer::kick_all(std::uint16_t code) {
  {
    std::lock_guard<std::mutex> g(s_->mu);
    s_->kick_code = code;
  }
  lws_cancel_service(s_->ctx);
}

int FakeServer::hellos() const {
  std::lock_guard<std::mutex> g(s_->mu);
  return s_->hellos;
}
std::vector<std::string> FakeServer::tokens() const {
  std::lock_guard<std::mutex> g(s_->mu);
  return s_->tokens;
}
std::vector<std::string> FakeServer::frame_types() const {
  std::lock_guard<std::mutex> g(s_->mu);
  return s_->types;
}
std::vector<std::string> FakeServer::sent_bodies() const {
  std::lock_guard<std::mutex> g(s_->mu);
  return s_->bodies;
}

}  // namespace chatsdk::test

// LeakSanitizer: libwebsockets 4.1.6 + OpenSSL 3 leave the X509 store of a TLS
// client context unreachable after lws_context_destroy (only indirect leaks,
// every one allocated inside libcrypto, none from chatsdk code). Suppressed for
// this test executable only; see the client report.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libcrypto.so\n";
}
