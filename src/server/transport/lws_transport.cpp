#include "server/transport/lws_transport.hpp"

#include <libwebsockets.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/http/router.hpp"
#include "server/log.hpp"
#include "server/transport/send_queue.hpp"

namespace chatsdk::server {
namespace {

constexpr const char* kSubprotocol = "chatsdk.v1";
constexpr std::string_view kWsPath = "/ws";
/// Coalesced writes stop growing here (one frame larger than this goes alone).
constexpr std::size_t kMaxWriteBytes = 256 * 1024;
/// Small receive buffer: the dominant per-connection cost in lws. Larger
/// messages arrive in several RECEIVE callbacks and are reassembled.
constexpr std::size_t kRxBufferBytes = 512;
/// How long a closing session may take to flush its queue and close frame.
constexpr int kCloseFlushSeconds = 5;
constexpr std::uint64_t kTickMs = 100;
/// A drain that takes longer than this is abandoned (the process exits 1).
constexpr std::uint64_t kDrainDeadlineMs = 30'000;
constexpr std::string_view kBinaryRejected =
    R"({"type":"error","code":"malformed_frame","message":"binary messages are not supported; send text"})";

struct Session {
  SessionId id = 0;
  lws* wsi = nullptr;
  SendQueue queue;
  std::string rx;              // reassembly; empty (no heap) between messages
  bool rx_discarding = false;  // the current message went over the limit
  bool rx_binary = false;
  bool closing = false;
  bool close_sent = false;
  std::uint16_t close_code = 0;
  std::string close_reason;
};

struct HttpExchange {
  std::uint64_t id = 0;
  http::HttpRequest request;
  bool body_too_large = false;
  bool routed = false;
  bool have_response = false;
  bool headers_sent = false;
  http::HttpResponse response;
};

/// lws per-connection user data: which of the two this connection is.
struct ConnSlot {
  Session* session;
  HttpExchange* http;
};

std::string header(lws* wsi, lws_token_indexes token) {
  const int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return {};
  std::string out(static_cast<std::size_t>(len) + 1, '\0');
  const int n = lws_hdr_copy(wsi, out.data(), len + 1, token);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::string method_of(lws* wsi) {
  struct M {
    lws_token_indexes token;
    const char* name;
  };
  static constexpr M kMethods[] = {
      {WSI_TOKEN_GET_URI, "GET"},        {WSI_TOKEN_POST_URI, "POST"},
      {WSI_TOKEN_PUT_URI, "PUT"},        {WSI_TOKEN_DELETE_URI, "DELETE"},
      {WSI_TOKEN_PATCH_URI, "PATCH"},    {WSI_TOKEN_HEAD_URI, "HEAD"},
      {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}};
  for (const M& m : kMethods) {
    if (lws_hdr_total_length(wsi, m.token) > 0) return m.name;
  }
  return {};
}

/// lws splits the query into '&'-separated, URL-decoded fragments; rejoin them.
std::string query_of(lws* wsi) {
  std::string q;
  char buf[512];
  for (int i = 0;; ++i) {
    const int n =
        lws_hdr_copy_fragment(wsi, buf, static_cast<int>(sizeof buf), WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n <= 0) break;
    if (!q.empty()) q.push_back('&');
    q.append(buf, static_cast<std::size_t>(n));
  }
  return q;
}

bool origin_allowed(const Config& config, const std::string& origin) {
  if (origin.empty() || config.allowed_origins.empty()) return true;  // non-browser / allow all
  return std::find(config.allowed_origins.begin(), config.allowed_origins.end(), origin) !=
         config.allowed_origins.end();
}

/// The highest socket fd we accept a connection on. Headroom below
/// `ulimit -n` is kept for SQLite, logs and the loop's own fds: running out
/// inside lws makes accept() fail in a busy loop.
///
/// This is enforced in LWS_CALLBACK_FILTER_NETWORK_CONNECTION rather than
/// through lws's `fd_limit_per_thread`: any value below `ulimit -n` there
/// switches lws 4.x to a linear scan of its whole fd table on every socket
/// event (`wsi_from_fd`), which cost ~3% of the server's CPU at 2,000
/// connections and grows with the connection count.
int accept_fd_ceiling(const Config& config) {
  rlimit rl{};
  std::uint64_t limit = 65536;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = rl.rlim_cur;
  std::uint64_t ceiling = limit > 128 ? limit - 64 : 64;
  if (config.fd_limit) ceiling = std::min<std::uint64_t>(ceiling, config.fd_limit);
  return static_cast<int>(std::min<std::uint64_t>(ceiling, 1u << 30));
}

void lws_log_emit(int level, const char* line) {
  std::string_view s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  if (level & LLL_ERR) {
    log::error("lws", {{"line", s}});
  } else if (level & LLL_WARN) {
    log::warn("lws", {{"line", s}});
  } else {
    log::debug("lws", {{"line", s}});
  }
}

int noop_reload() {
  return 0;
}

/// Binds (and releases) the listen address first: lws 4.1 handles a failed
/// bind badly (a half-made context that crashes when destroyed), so the common
/// case — port in use — is caught before lws is involved.
Result<void> probe_bind(const char* host, std::uint16_t port, bool ipv6) {
  addrinfo hints{};
  hints.ai_family = ipv6 ? AF_UNSPEC : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host, service.c_str(), &hints, &res); rc != 0) {
    return Error{Errc::invalid_argument, std::string("bad listen address: ") + gai_strerror(rc)};
  }
  std::string err;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const int rc = ::bind(fd, ai->ai_addr, ai->ai_addrlen);
    const int e = errno;
    ::close(fd);
    if (rc == 0) {
      ::freeaddrinfo(res);
      return {};
    }
    err = std::strerror(e);
  }
  ::freeaddrinfo(res);
  return Error{Errc::io_error, err.empty() ? "no usable address" : err};
}

}  // namespace

struct LwsTransport::Impl {
  Impl(LwsTransport& self_, const Config& c, Metrics& m) : self(self_), config(c), metrics(m) {}

  LwsTransport& self;
  const Config& config;
  Metrics& metrics;
  EngineApi* engine = nullptr;
  std::unique_ptr<http::Router> router;

  uv_loop_t loop{};
  bool loop_inited = false;
  uv_async_t wake{};
  uv_timer_t tick{};
  // Runs once per loop turn, after I/O callbacks: writes what this turn queued.
  uv_check_t flush_check{};
  // Active only while `dirty` is non-empty, so that frames queued from a timer
  // callback (before the poll phase) do not wait for the next I/O wakeup.
  uv_idle_t flush_soon{};
  std::vector<SessionId> dirty;  // sessions whose queue went non-empty this turn
  uv_signal_t sigterm{};
  uv_signal_t sigint{};
  bool handles_inited = false;
  lws_context* ctx = nullptr;
  lws_vhost* vhost = nullptr;
  lws_protocols protocols[2]{};
  std::uint16_t bound_port = 0;
  int fd_ceiling = 0;  // accepted sockets with a higher fd are closed at once

  // Posted work (any thread -> loop thread).
  std::mutex post_mu;
  std::vector<std::function<void()>> posted;
  bool accepting_posts = false;
  bool stopped = false;

  std::unordered_map<SessionId, Session*> sessions;
  std::unordered_map<std::uint64_t, lws*> http_exchanges;
  SessionId next_session = 1;
  std::uint64_t next_http = 1;
  std::string write_buf;  // reused for every coalesced write (lws copies what it cannot send)

  bool draining = false;
  bool drained = false;
  bool stopping = false;
  std::uint64_t drained_at_ms = 0;
  std::uint64_t drain_started_ms = 0;
  bool forced = false;  // stopped without a complete drain
  std::atomic<bool> drain_requested{false};

  // ------------------------------------------------------------------ setup

  Result<void> listen() {
    if (uv_loop_init(&loop) != 0) return Error{Errc::internal, "uv_loop_init failed"};
    loop_inited = true;

    int log_mask = LLL_ERR | LLL_WARN;
    if (log::enabled(log::Level::debug)) log_mask |= LLL_NOTICE;
    lws_set_log_level(log_mask, lws_log_emit);

    protocols[0].name = kSubprotocol;
    protocols[0].callback = &Impl::callback;
    protocols[0].per_session_data_size = sizeof(ConnSlot);
    protocols[0].rx_buffer_size = kRxBufferBytes;
    protocols[0].user = this;
    // Let one coalesced write go to send() whole; lws buffers any remainder.
    protocols[0].tx_packet_size = kMaxWriteBytes + LWS_PRE + 16;

    void* foreign_loops[1] = {&loop};
    lws_context_creation_info info{};
    info.port = config.listen_port;
    std::string iface = config.listen_host;
    if (iface == "localhost") iface = "127.0.0.1";
    const bool any = iface.empty() || iface == "0.0.0.0" || iface == "*";
    info.iface = any ? nullptr : iface.c_str();
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_SKIP_SERVER_CANONICAL_NAME;
    if (iface.find(':') == std::string::npos) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    // Our own loop: lws installs no signal handlers on a foreign loop, so
    // SIGTERM/SIGINT are ours (a graceful drain), not lws's abrupt stop.
    info.foreign_loops = foreign_loops;
    // No fd_limit_per_thread: see accept_fd_ceiling().
    fd_ceiling = accept_fd_ceiling(config);
    info.pt_serv_buf_size = 4096;
    // No lws idle/validity timer per connection: the engine's heartbeat and
    // idle close (4010) cover it. lws keeps its timers in one sorted list,
    // so each new connection's 300 s validity timer walked past every live
    // connection's: connect CPU grew with the connection count (measured
    // 73% of the loop thread in lws_dll2_add_sorted during a 19k ramp).
    static constexpr lws_retry_bo_t kNoIdlePolicy{};
    info.retry_and_idle_policy = &kNoIdlePolicy;
    info.server_string = "chatsdk";
    info.user = this;
    const bool tls = !config.tls_cert.empty() && !config.tls_key.empty();
    if (tls) {
      info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
      info.ssl_cert_filepath = config.tls_cert.c_str();
      info.ssl_private_key_filepath = config.tls_key.c_str();
    }
    info.vhost_name = "chatsdk";

    if (info.port != 0) {
      if (auto r = probe_bind(info.iface, config.listen_port,
                              !(info.options & LWS_SERVER_OPTION_DISABLE_IPV6));
          !r) {
        return Error{r.error().code, "cannot listen on " + config.listen_host + ":" +
                                         std::to_string(config.listen_port) + ": " +
                                         r.error().message};
      }
    }
    const std::size_t handles_before = count_active_handles();
    ctx = lws_create_context(&info);
    if (!ctx) {
      // lws 4.1 leaves close callbacks of its half-made handles on our loop
      // that touch freed memory: never run this loop again (it is leaked;
      // the process is about to exit anyway).
      loop_inited = false;
      return Error{Errc::io_error,
                   "cannot listen on " + config.listen_host + ":" +
                       std::to_string(config.listen_port) +
                       " (port in use, bad address, TLS files, or the libwebsockets "
                       "libuv plugin libwebsockets-evlib-uv is not installed)"};
    }
    // With the poll() backend lws would put nothing on our loop: make sure it
    // really runs on libuv (the poll backend costs O(connections) per event).
    if (count_active_handles() <= handles_before) {
      return Error{
          Errc::internal,
          "libwebsockets is not using the libuv event loop (is libwebsockets-evlib-uv installed?)"};
    }
    vhost = lws_get_vhost_by_name(ctx, "chatsdk");
    const int p = vhost ? lws_get_vhost_listen_port(vhost) : -1;
    if (p <= 0) {
      // lws 4.1 creates the context even when bind() failed, and destroying
      // that context crashes in its libuv close path: leave both alone (the
      // process exits after a failed listen).
      ctx = nullptr;
      loop_inited = false;
      return Error{Errc::io_error, "cannot listen on " + config.listen_host + ":" +
                                       std::to_string(config.listen_port) +
                                       " (address in use or not available)"};
    }
    bound_port = static_cast<std::uint16_t>(p);

    uv_async_init(&loop, &wake, &Impl::on_wake);
    wake.data = this;
    uv_timer_init(&loop, &tick);
    tick.data = this;
    uv_check_init(&loop, &flush_check);
    flush_check.data = this;
    uv_check_start(&flush_check, &Impl::on_flush_check);
    uv_idle_init(&loop, &flush_soon);
    flush_soon.data = this;
    uv_signal_init(&loop, &sigterm);
    sigterm.data = this;
    uv_signal_init(&loop, &sigint);
    sigint.data = this;
    handles_inited = true;
    {
      std::lock_guard lock(post_mu);
      accepting_posts = true;
    }
    log::info("listening", {{"host", config.listen_host},
                            {"port", bound_port},
                            {"tls", tls},
                            {"event_loop", "libuv"},
                            {"fd_limit", fd_ceiling}});
    return {};
  }

  std::size_t count_active_handles() {
    std::size_t n = 0;
    uv_walk(
        &loop,
        [](uv_handle_t* h, void* arg) {
          if (uv_is_active(h)) ++*static_cast<std::size_t*>(arg);
        },
        &n);
    return n;
  }

  Result<void> run(EngineApi& e) {
    if (!ctx) return Error{Errc::invalid_state, "listen() first"};
    engine = &e;
    router = std::make_unique<http::Router>(config, e, metrics);
    uv_timer_start(&tick, &Impl::on_tick, kTickMs, kTickMs);
    uv_signal_start(&sigterm, &Impl::on_signal, SIGTERM);
    uv_signal_start(&sigint, &Impl::on_signal, SIGINT);
    uv_async_send(&wake);  // runs anything posted before the loop started (and a pending drain)

    uv_run(&loop, UV_RUN_DEFAULT);
    shutdown();
    if (forced) return Error{Errc::timeout, "stopped before the drain completed"};
    return {};
  }

  void shutdown() {
    {
      std::lock_guard lock(post_mu);
      accepting_posts = false;
      stopped = true;
      posted.clear();
    }
    lws_context* dying = ctx;
    ctx = nullptr;
    if (dying) {
      // Closes every remaining connection, then lws releases its libuv
      // handles while the loop runs below.
      lws_context_destroy(dying);
    }
    if (handles_inited) {
      uv_timer_stop(&tick);
      uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
      uv_check_stop(&flush_check);
      uv_close(reinterpret_cast<uv_handle_t*>(&flush_check), nullptr);
      uv_idle_stop(&flush_soon);
      uv_close(reinterpret_cast<uv_handle_t*>(&flush_soon), nullptr);
      uv_signal_stop(&sigterm);
      uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
      uv_signal_stop(&sigint);
      uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
      handles_inited = false;
    }
    if (loop_inited) {
      uv_run(&loop, UV_RUN_DEFAULT);
      // On a foreign loop lws 4.1 frees the context only on a second destroy,
      // once its handles have closed.
      if (dying) lws_context_destroy(dying);
      uv_run(&loop, UV_RUN_DEFAULT);
      uv_loop_close(&loop);
      loop_inited = false;
    }
    engine = nullptr;
  }

  // ------------------------------------------------------------------ loop plumbing

  void post(std::function<void()> fn) {
    std::lock_guard lock(post_mu);
    if (stopped) return;  // nobody would ever run it
    posted.push_back(std::move(fn));
    if (accepting_posts) uv_async_send(&wake);
  }

  void run_posted() {
    // Wakeups coalesce: drain everything queued, batch by batch.
    for (;;) {
      std::vector<std::function<void()>> batch;
      {
        std::lock_guard lock(post_mu);
        batch.swap(posted);
      }
      if (batch.empty()) return;
      for (auto& fn : batch)
        fn();
    }
  }

  static void on_wake(uv_async_t* h) {
    auto* self = static_cast<Impl*>(h->data);
    if (self->drain_requested.load() && !self->draining) self->begin_drain("requested");
    self->run_posted();
  }

  // Everything queued during one loop turn leaves in one write per session,
  // written straight into sockets that can take it: no writable-interest
  // round trip through epoll per delivery (two epoll_ctl calls and a wakeup
  // each). Only a socket that is full waits for LWS_CALLBACK_SERVER_WRITEABLE.
  static void on_flush_check(uv_check_t* h) {
    auto* self = static_cast<Impl*>(h->data);
    if (self->dirty.empty()) return;
    uv_idle_stop(&self->flush_soon);
    std::vector<SessionId> ids;
    ids.swap(self->dirty);
    for (SessionId id : ids) {
      auto it = self->sessions.find(id);
      if (it == self->sessions.end()) continue;
      Session& s = *it->second;
      if (s.closing) continue;  // the close path has its own writable request
      // One coalesced write unless lws still holds part of an earlier one (it
      // then finishes that first, on WRITEABLE). A full socket makes lws keep
      // the rest of this write and ask for WRITEABLE itself, so no poll() per
      // session is needed here to ask whether the socket is writable.
      if (!lws_partial_buffered(s.wsi) && !self->write_once(s)) continue;
      if (!s.queue.empty() || lws_partial_buffered(s.wsi)) lws_callback_on_writable(s.wsi);
    }
  }

  static void on_tick(uv_timer_t* t) {
    auto* self = static_cast<Impl*>(t->data);
    if (self->drained) {
      self->maybe_stop();
      return;
    }
    if (self->engine) self->engine->on_tick();
    if (self->draining && !self->stopping &&
        uv_now(&self->loop) - self->drain_started_ms > kDrainDeadlineMs) {
      self->force_stop("the engine did not finish draining in time");
    }
  }

  static void on_signal(uv_signal_t* s, int signum) {
    auto* self = static_cast<Impl*>(s->data);
    if (self->draining && !self->stopping) {
      // A second signal: the operator does not want to wait any longer.
      self->force_stop("second signal during drain");
      return;
    }
    self->begin_drain(signum == SIGTERM ? "SIGTERM" : "SIGINT");
  }

  void force_stop(std::string_view why) {
    log::warn("drain_aborted", {{"reason", why}, {"sessions", sessions.size()}});
    forced = true;
    stopping = true;
    uv_stop(&loop);
  }

  void begin_drain(std::string_view why) {
    if (draining) return;
    draining = true;
    drain_started_ms = uv_now(&loop);
    log::info("drain_start", {{"reason", why}, {"sessions", sessions.size()}});
    if (router) router->set_draining();
    // Closes the listen socket; existing connections keep being served.
    if (ctx) lws_context_deprecate(ctx, &noop_reload);
    engine->drain([this] {
      drained = true;
      drained_at_ms = uv_now(&loop);
      log::info("drain_done", {{"sessions", sessions.size()}});
      maybe_stop();
    });
  }

  /// After the engine drained, the loop runs on until the sessions it closed
  /// have flushed their close frames (bounded), then stops.
  void maybe_stop() {
    if (!drained || stopping) return;
    const bool flushed = sessions.empty();
    const bool timed_out = uv_now(&loop) - drained_at_ms > (kCloseFlushSeconds + 1) * 1000ULL;
    if (!flushed && !timed_out) return;
    stopping = true;
    if (timed_out && !flushed) log::warn("drain_close_timeout", {{"sessions", sessions.size()}});
    uv_stop(&loop);
  }

  // ------------------------------------------------------------------ Wire

  bool send(SessionId id, Bytes frame) {
    auto it = sessions.find(id);
    if (it == sessions.end()) return false;
    Session& s = *it->second;
    if (s.closing) return false;
    const bool was_empty = s.queue.empty();
    if (!s.queue.push(frame, config.send_queue_max_bytes)) {
      // A burst fanned out within one loop turn can fill the queue of a
      // client that keeps up. Only a socket that cannot take more makes a
      // slow consumer: flush into it now while it can, then retry.
      flush_now(s);
      if (s.queue.push(std::move(frame), config.send_queue_max_bytes)) {
        lws_callback_on_writable(s.wsi);
        return true;
      }
      s.queue.clear();
      ++metrics.slow_consumer_disconnects;
      log::info("slow_consumer", {{"session", id}, {"max_bytes", config.send_queue_max_bytes}});
      start_close(s, proto::CloseCode::slow_consumer, "slow consumer");
      return false;
    }
    if (was_empty) {  // written at the end of this loop turn
      if (dirty.empty()) uv_idle_start(&flush_soon, [](uv_idle_t*) {});
      dirty.push_back(id);
    }
    return true;
  }

  void close(SessionId id, proto::CloseCode code, std::string_view reason) {
    auto it = sessions.find(id);
    if (it == sessions.end()) return;
    if (it->second->closing) return;
    start_close(*it->second, code, reason);
  }

  void start_close(Session& s, proto::CloseCode code, std::string_view reason) {
    s.closing = true;
    s.close_code = static_cast<std::uint16_t>(code);
    // A close frame's payload is at most 125 bytes, 2 of them the code.
    s.close_reason.assign(reason.substr(0, 123));
    // The flush is bounded: a peer that never reads is cut off.
    lws_set_timeout(s.wsi, PENDING_TIMEOUT_USER_OK, kCloseFlushSeconds);
    lws_callback_on_writable(s.wsi);
  }

  // ------------------------------------------------------------------ callbacks

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                      std::size_t len) {
    if (!wsi) return 0;
    const lws_protocols* proto = lws_get_protocol(wsi);
    auto* self = proto ? static_cast<Impl*>(proto->user) : nullptr;
    if (!self) return lws_callback_http_dummy(wsi, reason, user, in, len);
    auto* slot = static_cast<ConnSlot*>(user);
    switch (reason) {
      case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return self->filter_accept(static_cast<int>(reinterpret_cast<std::intptr_t>(in)));
      case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return self->confirm_upgrade(wsi);
      case LWS_CALLBACK_ESTABLISHED:
        return self->on_established(wsi, slot);
      case LWS_CALLBACK_RECEIVE:
        return slot && slot->session ? self->on_receive(*slot->session, in, len) : -1;
      case LWS_CALLBACK_SERVER_WRITEABLE:
        return slot && slot->session ? self->on_writeable(*slot->session) : 0;
      case LWS_CALLBACK_TIMER:
        // Only armed by send_close_frame(): now close politely.
        return slot && slot->session && slot->session->close_sent ? -1 : 0;
      case LWS_CALLBACK_CLOSED:
        if (slot && slot->session) self->on_closed(slot);
        return 0;
      case LWS_CALLBACK_HTTP:
        return self->on_http(wsi, slot, static_cast<const char*>(in));
      case LWS_CALLBACK_HTTP_BODY:
        if (slot && slot->http) self->on_http_body(*slot->http, in, len);
        return 0;
      case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (slot && slot->http) self->dispatch_http(wsi, *slot->http);
        return 0;
      case LWS_CALLBACK_HTTP_WRITEABLE:
        return slot && slot->http ? self->on_http_writeable(wsi, *slot->http) : 0;
      case LWS_CALLBACK_CLOSED_HTTP:
        if (slot && slot->http) self->drop_http(slot);
        return 0;
      case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        // Keep-alive connection moving to the next transaction (or upgrading).
        if (slot && slot->http) self->drop_http(slot);
        return 0;
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  }

  /// Nonzero makes lws close the just-accepted socket.
  int filter_accept(int fd) {
    if (fd <= fd_ceiling) return 0;
    ++metrics.refused_fd_limit;
    return 1;
  }

  int refuse(lws* wsi, unsigned status, const char* why) {
    log::info("upgrade_refused", {{"status", status}, {"reason", why}});
    if (lws_return_http_status(wsi, status, why)) return -1;
    return 1;  // we answered; lws completes the transaction
  }

  int confirm_upgrade(lws* wsi) {
    std::string path = header(wsi, WSI_TOKEN_GET_URI);
    if (path != kWsPath)
      return refuse(wsi, HTTP_STATUS_NOT_FOUND, "no WebSocket endpoint here; use /ws");
    if (draining) return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "server is shutting down");
    const std::string origin = header(wsi, WSI_TOKEN_ORIGIN);
    if (!origin_allowed(config, origin))
      return refuse(wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
    return 0;
  }

  int on_established(lws* wsi, ConnSlot* slot) {
    if (!slot || !engine) return -1;
    auto* s = new Session();
    s->id = next_session++;
    s->wsi = wsi;
    slot->session = s;
    slot->http = nullptr;
    sessions.emplace(s->id, s);
    ++metrics.connections_open;
    ++metrics.connections_total;

    ConnectionInfo info;
    char addr[64] = {0};
    if (lws_get_peer_simple(wsi, addr, sizeof addr)) info.remote_addr = addr;
    info.origin = header(wsi, WSI_TOKEN_ORIGIN);
    log::debug("ws_open", {{"session", s->id}, {"remote", info.remote_addr}});
    engine->on_connect(s->id, info);
    return 0;
  }

  int on_receive(Session& s, void* in, std::size_t len) {
    lws* wsi = s.wsi;
    const bool first = lws_is_first_fragment(wsi) != 0;
    const bool last = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (first && s.rx.empty() && !s.rx_discarding) s.rx_binary = lws_frame_is_binary(wsi) != 0;
    metrics.bytes_in += len;

    const char* data = static_cast<const char*>(in);
    if (!s.rx_discarding) {
      if (s.rx.size() + len > config.max_frame_bytes) {
        s.rx_discarding = true;
        std::string().swap(s.rx);
      } else if (!(last && s.rx.empty())) {
        s.rx.append(data, len);
      }
    }
    if (!last) return 0;

    ++metrics.frames_in;
    const bool too_large = s.rx_discarding;
    const bool binary = s.rx_binary;
    std::string message;
    std::string_view view(data, len);  // whole message in one piece: no copy
    if (!s.rx.empty()) {
      message.swap(s.rx);  // leaves s.rx without heap memory
      view = message;
    }
    s.rx_discarding = false;
    s.rx_binary = false;
    if (s.closing) return 0;  // nothing more is processed from a closing session
    if (too_large) {
      log::debug("frame_too_large", {{"session", s.id}});
      engine->on_frame_too_large(s.id);
    } else if (binary) {
      send(s.id, make_bytes(std::string(kBinaryRejected)));
    } else {
      engine->on_message(s.id, view);
    }
    return 0;
  }

  int on_writeable(Session& s) {
    if (s.queue.empty()) {
      if (s.closing && !s.close_sent) return send_close_frame(s);
      return 0;
    }
    if (!write_once(s)) return -1;
    if (!s.queue.empty() || s.closing) lws_callback_on_writable(s.wsi);
    return 0;
  }

  /// One coalesced WebSocket message from the head of the queue.
  bool write_once(Session& s) {
    write_buf.assign(LWS_PRE, '\0');
    const std::size_t frames = s.queue.coalesce_into(write_buf, kMaxWriteBytes);
    const std::size_t payload = write_buf.size() - LWS_PRE;
    const int n = lws_write(s.wsi, reinterpret_cast<unsigned char*>(write_buf.data()) + LWS_PRE,
                            payload, LWS_WRITE_TEXT);
    metrics.frames_out += frames;
    metrics.bytes_out += payload;
    ++metrics.ws_writes;
    if (write_buf.capacity() > 2 * kMaxWriteBytes) {
      std::string().swap(write_buf);  // after a huge frame
    }
    return n >= 0;
  }

  /// Writes queued frames right away while the socket accepts them without
  /// blocking. lws_send_pipe_choked() also reports lws's own pending partial
  /// write, so frame order and lws's one-write-at-a-time rule hold.
  void flush_now(Session& s) {
    while (!s.queue.empty() && !lws_send_pipe_choked(s.wsi)) {
      if (!write_once(s)) return;
    }
  }

  /// Starts the close handshake with our code. Not by returning -1 from
  /// WRITEABLE: lws 4.1 then treats the socket as dead and skips the close
  /// frame (timeouts do too). A close requested from LWS_CALLBACK_TIMER takes
  /// the polite path: close frame with lws_close_reason()'s code, then the
  /// peer's ack (bounded by lws's own 5 s close timeouts).
  int send_close_frame(Session& s) {
    s.close_sent = true;
    if (s.close_code == 1000 || s.close_code == 1001) {
      log::debug("ws_close", {{"session", s.id}, {"code", s.close_code}});
    } else {
      log::info("ws_close",
                {{"session", s.id}, {"code", s.close_code}, {"reason", s.close_reason}});
    }
    lws_close_reason(s.wsi, static_cast<lws_close_status>(s.close_code),
                     reinterpret_cast<unsigned char*>(s.close_reason.data()),
                     s.close_reason.size());
    lws_set_timer_usecs(s.wsi, 1);
    return 0;
  }

  void on_closed(ConnSlot* slot) {
    Session* s = slot->session;
    slot->session = nullptr;
    sessions.erase(s->id);
    --metrics.connections_open;
    log::debug("ws_closed", {{"session", s->id}});
    const SessionId id = s->id;
    delete s;
    if (engine && !stopping) engine->on_disconnect(id);
    if (drained) maybe_stop();
  }

  // ------------------------------------------------------------------ HTTP

  int on_http(lws* wsi, ConnSlot* slot, const char* uri) {
    if (!slot) return -1;
    if (slot->http) drop_http(slot);
    auto* x = new HttpExchange();
    x->id = next_http++;
    slot->http = x;
    slot->session = nullptr;
    http_exchanges.emplace(x->id, wsi);
    x->request.method = method_of(wsi);
    x->request.path = uri ? uri : "";
    x->request.query = query_of(wsi);
    x->request.authorization = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    const std::string content_length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    const bool has_body = (x->request.method == "POST" || x->request.method == "PUT" ||
                           x->request.method == "PATCH") &&
                          !content_length.empty() && content_length != "0";
    if (has_body) {
      if (std::strtoull(content_length.c_str(), nullptr, 10) > http::kMaxRequestBody)
        x->body_too_large = true;
      return 0;  // wait for HTTP_BODY ... HTTP_BODY_COMPLETION
    }
    dispatch_http(wsi, *x);
    return 0;
  }

  void on_http_body(HttpExchange& x, void* in, std::size_t len) {
    if (x.body_too_large) return;
    if (x.request.body.size() + len > http::kMaxRequestBody) {
      x.body_too_large = true;
      std::string().swap(x.request.body);
      return;
    }
    x.request.body.append(static_cast<const char*>(in), len);
  }

  void dispatch_http(lws* wsi, HttpExchange& x) {
    if (x.routed) return;
    x.routed = true;
    const std::uint64_t id = x.id;
    auto respond = [this, id](http::HttpResponse r) {
      // The connection may be gone by the time an async admin reply arrives.
      auto it = http_exchanges.find(id);
      if (it == http_exchanges.end()) return;
      auto* slot = static_cast<ConnSlot*>(lws_wsi_user(it->second));
      if (!slot || !slot->http || slot->http->id != id) return;
      slot->http->response = std::move(r);
      slot->http->have_response = true;
      lws_callback_on_writable(it->second);
    };
    if (x.body_too_large) {
      respond(http::json_error(413, "body_too_large", "request body over 1 MiB"));
      return;
    }
    (void)wsi;
    router->route(std::move(x.request), std::move(respond));
  }

  int on_http_writeable(lws* wsi, HttpExchange& x) {
    if (!x.have_response) return 0;
    if (!x.headers_sent) {
      unsigned char buf[LWS_PRE + 512];
      unsigned char* start = buf + LWS_PRE;
      unsigned char* p = start;
      unsigned char* end = buf + sizeof buf - 1;
      if (lws_add_http_common_headers(wsi, static_cast<unsigned>(x.response.status),
                                      x.response.content_type.c_str(), x.response.body.size(), &p,
                                      end)) {
        return 1;
      }
      if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                       reinterpret_cast<const unsigned char*>("no-store"), 8, &p,
                                       end)) {
        return 1;
      }
      if (lws_finalize_write_http_header(wsi, start, &p, end)) return 1;
      x.headers_sent = true;
      lws_callback_on_writable(wsi);
      return 0;
    }
    std::string out(LWS_PRE, '\0');
    out += x.response.body;
    const int n = lws_write(wsi, reinterpret_cast<unsigned char*>(out.data()) + LWS_PRE,
                            x.response.body.size(), LWS_WRITE_HTTP_FINAL);
    if (n < 0) return -1;
    x.have_response = false;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }

  void drop_http(ConnSlot* slot) {
    HttpExchange* x = slot->http;
    slot->http = nullptr;
    http_exchanges.erase(x->id);
    delete x;
  }
};

LwsTransport::LwsTransport(const Config& config, Metrics& metrics)
    : impl_(std::make_unique<Impl>(*this, config, metrics)) {}

LwsTransport::~LwsTransport() {
  if (impl_->ctx || impl_->loop_inited) impl_->shutdown();
}

Result<void> LwsTransport::listen() {
  return impl_->listen();
}
std::uint16_t LwsTransport::port() const {
  return impl_->bound_port;
}
Result<void> LwsTransport::run(EngineApi& engine) {
  return impl_->run(engine);
}

void LwsTransport::request_drain() {
  impl_->drain_requested.store(true);
  std::lock_guard lock(impl_->post_mu);
  if (impl_->accepting_posts) uv_async_send(&impl_->wake);
}

bool LwsTransport::send(SessionId session, Bytes frame) {
  return impl_->send(session, std::move(frame));
}
void LwsTransport::close(SessionId session, proto::CloseCode code, std::string_view reason) {
  impl_->close(session, code, reason);
}
void LwsTransport::post(std::function<void()> fn) {
  impl_->post(std::move(fn));
}

}  // namespace chatsdk::server
