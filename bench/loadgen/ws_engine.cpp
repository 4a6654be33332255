#include "ws_engine.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "clock.hpp"

namespace chatsdk::bench {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kReadChunk = 256 * 1024;

std::string base64(const unsigned char* p, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string accept_for(std::string_view key) {
  std::string s(key);
  s += kGuid;
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return base64(d, sizeof d);
}

bool ieq_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

}  // namespace

bool parse_ws_url(std::string_view url, Endpoint& out, std::string& error) {
  constexpr std::string_view scheme = "ws://";
  if (url.substr(0, scheme.size()) != scheme) {
    error = "only ws:// URLs are supported";
    return false;
  }
  auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const auto hostport = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const auto colon = hostport.rfind(':');
  out.host = std::string(hostport.substr(0, colon));
  if (out.host == "localhost") out.host = "127.0.0.1";
  out.port = 80;
  if (colon != std::string_view::npos) {
    const auto p = std::stoul(std::string(hostport.substr(colon + 1)));
    if (p == 0 || p > 65535) {
      error = "bad port";
      return false;
    }
    out.port = static_cast<std::uint16_t>(p);
  }
  out.addr = {};
  out.addr.sin_family = AF_INET;
  out.addr.sin_port = htons(out.port);
  if (inet_pton(AF_INET, out.host.c_str(), &out.addr.sin_addr) != 1) {
    error = "host must be an IPv4 literal";
    return false;
  }
  if ((ntohl(out.addr.sin_addr.s_addr) >> 24) != 127) {
    error = "refusing non-loopback target " + std::string(url);
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ Loop

Loop::Loop(Handler& h) : h_(h), ep_(epoll_create1(EPOLL_CLOEXEC)), rbuf_(kReadChunk + 1) {}

Loop::~Loop() {
  graveyard_.clear();
  if (ep_ >= 0) ::close(ep_);
}

std::uint32_t Loop::next_mask() {
  // xorshift32: masks only need to be unpredictable to proxies, not secure
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

std::unique_ptr<Conn> Loop::connect(const Endpoint& ep, std::uint32_t tag, in_addr_t source) {
  std::unique_ptr<Conn> c(new Conn(*this, tag));
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) {
    c->state_ = Conn::State::closed;
    c->close_code_ = 1006;
    return c;
  }
  int one = 1;
  setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source != 0) {
    setsockopt(c->fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = source;
    bind(c->fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
  }
  unsigned char raw[16];
  for (int i = 0; i < 16; i += 4) {
    const auto m = next_mask();
    std::memcpy(raw + i, &m, 4);
  }
  c->key_ = base64(raw, sizeof raw);
  const int rc = ::connect(c->fd_, reinterpret_cast<const sockaddr*>(&ep.addr), sizeof ep.addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(c->fd_);
    c->fd_ = -1;
    c->state_ = Conn::State::closed;
    c->close_code_ = 1006;
    return c;
  }
  c->out_ = "GET " + ep.path + " HTTP/1.1\r\nHost: " + ep.host + ":" + std::to_string(ep.port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c->key_ +
            "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chatsdk.v1\r\n\r\n";
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.ptr = c.get();
  c->want_out_ = true;
  epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd_, &ev);
  return c;
}

void Loop::retire(std::unique_ptr<Conn> c) {
  if (c) graveyard_.push_back(std::move(c));
}

void Loop::poll(int timeout_ms) {
  epoll_event evs[512];
  const int n = epoll_wait(ep_, evs, 512, timeout_ms);
  for (int i = 0; i < n; ++i)
    static_cast<Conn*>(evs[i].data.ptr)->on_event(evs[i].events);
  if (on_tick) on_tick();
  // flush() may append to dirty_ only through callbacks it does not make
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    Conn* c = dirty_[i];
    c->queued_ = false;
    if (c->state_ != Conn::State::closed) c->flush();
  }
  dirty_.clear();
  graveyard_.clear();
}

bool Loop::run_until(const std::function<bool()>& pred, double max_ms) {
  const double end = now_ms() + max_ms;
  for (;;) {
    if (pred()) return true;
    const double left = end - now_ms();
    if (left <= 0) return pred();
    poll(static_cast<int>(std::clamp(left, 0.0, static_cast<double>(max_wait_ms))));
  }
}

// ------------------------------------------------------------------ Conn

void Conn::on_event(std::uint32_t events) {
  if (state_ == State::closed) return;
  if (state_ == State::connecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable_connect();
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable();
  if (state_ != State::closed && (events & EPOLLOUT)) flush();
}

void Conn::on_writable_connect() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    fail(1006, "connect failed");
    return;
  }
  state_ = State::upgrading;
  flush();  // the upgrade request prepared in connect()
}

void Conn::fail(int code, const char* why) {
  if (state_ == State::closed) return;
  close_fd();
  close_code_ = code;
  loop_->h_.on_closed(*this, code, why);
}

void Conn::close_fd() {
  if (fd_ >= 0) {
    epoll_ctl(loop_->ep_, EPOLL_CTL_DEL, fd_, nullptr);
    ::close(fd_);
    fd_ = -1;
  }
  state_ = State::closed;
  out_.clear();
  out_off_ = 0;
  std::string().swap(in_);
  std::string().swap(frag_);
}

void Conn::terminate() {
  if (state_ == State::closed) return;
  close_fd();
  close_code_ = 1006;
}

void Conn::close_normal() {
  if (state_ == State::closed) return;
  if (state_ == State::open) {
    const char code[2] = {static_cast<char>(1000 >> 8), static_cast<char>(1000 & 0xff)};
    append_frame(8, std::string_view(code, 2));
    flush();
  }
  close_fd();
  close_code_ = 1000;
}

void Conn::append_frame(std::uint8_t opcode, std::string_view payload) {
  const std::size_t n = payload.size();
  char hdr[14];
  std::size_t h = 0;
  hdr[h++] = static_cast<char>(0x80 | opcode);
  if (n < 126) {
    hdr[h++] = static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    hdr[h++] = static_cast<char>(0x80 | 126);
    hdr[h++] = static_cast<char>((n >> 8) & 0xff);
    hdr[h++] = static_cast<char>(n & 0xff);
  } else {
    hdr[h++] = static_cast<char>(0x80 | 127);
    for (int s = 56; s >= 0; s -= 8)
      hdr[h++] = static_cast<char>((n >> s) & 0xff);
  }
  const std::uint32_t mask = loop_->next_mask();
  std::memcpy(hdr + h, &mask, 4);
  h += 4;
  if (out_off_ > 0 && out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  const std::size_t start = out_.size();
  out_.append(hdr, h);
  out_.append(payload);
  // mask 8 bytes at a time; the 4-byte key repeats, so a doubled key works
  unsigned char* p = reinterpret_cast<unsigned char*>(out_.data()) + start + h;
  std::uint64_t m8 = (static_cast<std::uint64_t>(mask) << 32) | mask;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= m8;
    std::memcpy(p + i, &w, 8);
  }
  const auto* mk = reinterpret_cast<const unsigned char*>(&mask);
  for (; i < n; ++i)
    p[i] ^= mk[i & 3];
}

void Conn::send_text(std::string_view payload) {
  if (state_ != State::open) return;
  append_frame(1, payload);
  ++loop_->frames_out_;
  last_tx_ = now_ms();
  if (!queued_) {
    queued_ = true;
    loop_->dirty_.push_back(this);
  }
}

void Conn::send_control(std::uint8_t opcode, std::string_view payload) {
  append_frame(opcode, payload);
  if (!queued_) {
    queued_ = true;
    loop_->dirty_.push_back(this);
  }
}

void Conn::flush() {
  while (out_off_ < out_.size()) {
    const ssize_t w = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
    if (w > 0) {
      ++loop_->writes_;
      out_off_ += static_cast<std::size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!want_out_) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = this;
        epoll_ctl(loop_->ep_, EPOLL_CTL_MOD, fd_, &ev);
        want_out_ = true;
      }
      return;
    }
    fail(1006, "write failed");
    return;
  }
  out_.clear();
  out_off_ = 0;
  if (want_out_ && fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = this;
    epoll_ctl(loop_->ep_, EPOLL_CTL_MOD, fd_, &ev);
    want_out_ = false;
  }
}

void Conn::on_readable() {
  for (;;) {
    std::vector<char>& buf = loop_->rbuf_;
    const ssize_t r = ::recv(fd_, buf.data(), kReadChunk, 0);
    if (r == 0) {
      fail(1006, "connection closed by server");
      return;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(1006, "read failed");
      return;
    }
    const auto n = static_cast<std::size_t>(r);
    // Parse straight from the shared buffer unless a partial frame is pending.
    char* data;
    std::size_t len;
    if (in_.empty()) {
      data = buf.data();
      len = n;
    } else {
      in_.append(buf.data(), n);
      data = in_.data();
      len = in_.size();
    }
    std::size_t consumed = 0;
    if (state_ == State::upgrading) {
      if (in_.empty()) in_.assign(data, len);
      if (!parse_handshake()) return;  // need more, or failed
      if (state_ != State::open) return;
      data = in_.data();
      len = in_.size();
      if (len == 0) {
        if (static_cast<std::size_t>(r) < kReadChunk) return;
        continue;
      }
    }
    parse_frames(data, len, consumed);
    if (state_ == State::closed) return;
    if (consumed < len) {
      if (data == in_.data()) {
        in_.erase(0, consumed);
      } else {
        in_.assign(data + consumed, len - consumed);
      }
    } else {
      in_.clear();
    }
    if (n < kReadChunk) return;
  }
}

bool Conn::parse_handshake() {
  const auto end = in_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (in_.size() > 16384) fail(1006, "oversized handshake response");
    return false;
  }
  const std::string_view head(in_.data(), end);
  if (head.substr(0, 12) != "HTTP/1.1 101") {
    fail(1006, "handshake refused (HTTP status not 101)");
    return false;
  }
  const std::string want = accept_for(key_);
  bool ok = false;
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    auto line = head.substr(pos, eol - pos);
    if (ieq_prefix(line, "sec-websocket-accept:")) {
      auto v = line.substr(21);
      while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
      while (!v.empty() && v.back() == ' ')
        v.remove_suffix(1);
      ok = v == want;
    }
    pos = eol + 2;
  }
  if (!ok) {
    fail(1006, "bad Sec-WebSocket-Accept");
    return false;
  }
  in_.erase(0, end + 4);
  state_ = State::open;
  loop_->h_.on_open(*this);
  return state_ == State::open;
}

void Conn::parse_frames(char* data, std::size_t len, std::size_t& consumed) {
  std::size_t pos = 0;
  while (state_ == State::open) {
    if (len - pos < 2) break;
    const auto b0 = static_cast<unsigned char>(data[pos]);
    const auto b1 = static_cast<unsigned char>(data[pos + 1]);
    const bool fin = (b0 & 0x80) != 0;
    const std::uint8_t opcode = b0 & 0x0f;
    const bool masked = (b1 & 0x80) != 0;
    std::uint64_t plen = b1 & 0x7f;
    std::size_t h = 2;
    if (plen == 126) {
      if (len - pos < 4) break;
      plen = (static_cast<std::uint64_t>(static_cast<unsigned char>(data[pos + 2])) << 8) |
             static_cast<unsigned char>(data[pos + 3]);
      h = 4;
    } else if (plen == 127) {
      if (len - pos < 10) break;
      plen = 0;
      for (int i = 0; i < 8; ++i)
        plen =
            (plen << 8) | static_cast<unsigned char>(data[pos + 2 + static_cast<std::size_t>(i)]);
      h = 10;
    }
    if (plen > (64u << 20)) {
      fail(1009, "message too big");
      return;
    }
    const std::size_t mlen = masked ? 4 : 0;
    if (len - pos < h + mlen + plen) break;
    char* payload = data + pos + h + mlen;
    const auto n = static_cast<std::size_t>(plen);
    if (masked) {
      const char* mk = data + pos + h;
      for (std::size_t i = 0; i < n; ++i)
        payload[i] = static_cast<char>(payload[i] ^ mk[i & 3]);
    }
    pos += h + mlen + n;
    if (opcode == 8) {  // close: answer, then report
      int code = 1005;
      if (n >= 2)
        code =
            (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
      if (n >= 2) send_control(8, std::string_view(payload, 2));
      flush();
      consumed = pos;
      fail(code, "closed by server");
      return;
    }
    if (opcode == 9) {
      send_control(10, std::string_view(payload, n));
      continue;
    }
    if (opcode == 10) continue;
    if (opcode == 1 || opcode == 2) {
      if (fin) {
        // deliver in place: NUL-terminate temporarily for in-situ JSON parsing
        const char saved = payload[n];
        payload[n] = '\0';
        loop_->h_.on_message(*this, payload, n);
        if (state_ == State::closed) return;
        payload[n] = saved;
      } else {
        frag_.assign(payload, n);
        in_frag_ = true;
      }
      continue;
    }
    if (opcode == 0 && in_frag_) {
      frag_.append(payload, n);
      if (fin) {
        in_frag_ = false;
        std::string msg;
        msg.swap(frag_);
        loop_->h_.on_message(*this, msg.data(), msg.size());
        if (state_ == State::closed) return;
      }
      continue;
    }
    fail(1002, "protocol error");
    return;
  }
  consumed = pos;
}

}  // namespace chatsdk::bench
