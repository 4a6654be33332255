#include "ws_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

namespace chatsdk::test {
namespace {

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::optional<std::string> header_value(std::string_view head, std::string_view name) {
  const std::string lhead = lower(std::string(head));
  const std::string key = "\r\n" + lower(std::string(name)) + ":";
  const auto at = lhead.find(key);
  if (at == std::string::npos) return std::nullopt;
  const auto start = at + key.size();
  const auto end = head.find("\r\n", start);
  std::string_view v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ')
    v.remove_suffix(1);
  return std::string(v);
}

int connect_tcp(const std::string& host, std::uint16_t port, int rcvbuf, int timeout_ms,
                std::string& err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    err = std::string("getaddrinfo: ") + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    const int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0))
        rc = -1;
      if (rc != 0) errno = soerr ? soerr : ETIMEDOUT;
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, flags);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      break;
    }
    err = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

Result<WsClient> WsClient::connect(const std::string& host, std::uint16_t port, std::string path,
                                   std::string origin) {
  Options o;
  o.path = std::move(path);
  o.origin = std::move(origin);
  return connect(host, port, o);
}

Result<WsClient> WsClient::connect(const std::string& host, std::uint16_t port,
                                   const Options& options) {
  std::string err;
  const int fd = connect_tcp(host, port, options.receive_buffer_bytes, options.timeout_ms, err);
  if (fd < 0) return Error{Errc::io_error, err};
  WsClient c(fd);

  unsigned char key_raw[16];
  std::random_device rd;
  for (auto& b : key_raw)
    b = static_cast<unsigned char>(rd());
  const std::string key = base64(key_raw, sizeof key_raw);
  std::string req = "GET " + options.path + " HTTP/1.1\r\nHost: " + host + ":" +
                    std::to_string(port) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                    "\r\nSec-WebSocket-Version: 13\r\n";
  if (!options.subprotocol.empty())
    req += "Sec-WebSocket-Protocol: " + options.subprotocol + "\r\n";
  if (!options.origin.empty()) req += "Origin: " + options.origin + "\r\n";
  req += "\r\n";
  if (!c.write_all(req)) return Error{Errc::io_error, "handshake write failed"};

  const long long deadline = now_ms() + options.timeout_ms;
  std::size_t end = std::string::npos;
  while ((end = c.rbuf_.find("\r\n\r\n")) == std::string::npos) {
    if (!c.fill(c.rbuf_.size() + 1, deadline)) {
      if (!c.rbuf_.empty() && c.rbuf_.rfind("HTTP/1.1 ", 0) == 0) break;
      return Error{Errc::io_error, "handshake: no response"};
    }
  }
  const std::string head = c.rbuf_.substr(0, end == std::string::npos ? c.rbuf_.size() : end + 2);
  c.rbuf_.erase(0, end == std::string::npos ? c.rbuf_.size() : end + 4);
  int status = 0;
  if (head.size() > 12) status = std::atoi(head.c_str() + 9);
  if (status != 101)
    return Error{Errc::io_error, "HTTP " + std::to_string(status) + " (upgrade refused)"};

  unsigned char sha[SHA_DIGEST_LENGTH];
  const std::string accept_src = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  SHA1(reinterpret_cast<const unsigned char*>(accept_src.data()), accept_src.size(), sha);
  if (header_value(head, "Sec-WebSocket-Accept") != base64(sha, sizeof sha)) {
    return Error{Errc::io_error, "handshake: bad Sec-WebSocket-Accept"};
  }
  c.accepted_protocol_ = header_value(head, "Sec-WebSocket-Protocol").value_or("");
  return c;
}

WsClient::WsClient(WsClient&& o) noexcept
    : fd_(o.fd_),
      rbuf_(std::move(o.rbuf_)),
      close_code_(o.close_code_),
      close_reason_(std::move(o.close_reason_)),
      eof_(o.eof_),
      sent_close_(o.sent_close_),
      accepted_protocol_(std::move(o.accepted_protocol_)) {
  o.fd_ = -1;
}

WsClient& WsClient::operator=(WsClient&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
    rbuf_ = std::move(o.rbuf_);
    close_code_ = o.close_code_;
    close_reason_ = std::move(o.close_reason_);
    eof_ = o.eof_;
    sent_close_ = o.sent_close_;
    accepted_protocol_ = std::move(o.accepted_protocol_);
  }
  return *this;
}

WsClient::~WsClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool WsClient::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool WsClient::fill(std::size_t n, long long deadline_ms) {
  char buf[65536];
  while (rbuf_.size() < n) {
    if (fd_ < 0 || eof_) return false;
    const long long left = deadline_ms - now_ms();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(left));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return false;
    const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      eof_ = true;
      return false;
    }
    rbuf_.append(buf, static_cast<std::size_t>(r));
  }
  return true;
}

bool WsClient::send_raw_frame(std::uint8_t opcode, std::string_view payload, bool fin) {
  if (fd_ < 0) return false;
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0x00) | (opcode & 0x0f)));
  const std::size_t len = payload.size();
  if (len < 126) {
    f.push_back(static_cast<char>(0x80 | len));
  } else if (len <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>((len >> 8) & 0xff));
    f.push_back(static_cast<char>(len & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
      f.push_back(static_cast<char>((static_cast<std::uint64_t>(len) >> (8 * i)) & 0xff));
  }
  static thread_local std::mt19937 rng{std::random_device{}()};
  unsigned char mask[4];
  for (auto& m : mask)
    m = static_cast<unsigned char>(rng());
  f.append(reinterpret_cast<const char*>(mask), 4);
  const std::size_t at = f.size();
  f.append(payload);
  for (std::size_t i = 0; i < len; ++i)
    f[at + i] = static_cast<char>(f[at + i] ^ static_cast<char>(mask[i % 4]));
  return write_all(f);
}

bool WsClient::send_text(std::string_view text) {
  return send_raw_frame(0x1, text, true);
}

std::optional<std::string> WsClient::recv_text(int timeout_ms) {
  const long long deadline = now_ms() + timeout_ms;
  std::string message;
  bool in_message = false;
  for (;;) {
    if (close_code_) return std::nullopt;
    if (!fill(2, deadline)) return std::nullopt;
    const auto b0 = static_cast<unsigned char>(rbuf_[0]);
    const auto b1 = static_cast<unsigned char>(rbuf_[1]);
    const bool fin = (b0 & 0x80) != 0;
    const unsigned opcode = b0 & 0x0f;
    std::size_t header = 2;
    std::uint64_t len = b1 & 0x7f;
    if (len == 126) {
      if (!fill(4, deadline)) return std::nullopt;
      len = (static_cast<std::uint64_t>(static_cast<unsigned char>(rbuf_[2])) << 8) |
            static_cast<unsigned char>(rbuf_[3]);
      header = 4;
    } else if (len == 127) {
      if (!fill(10, deadline)) return std::nullopt;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | static_cast<unsigned char>(rbuf_[2 + static_cast<std::size_t>(i)]);
      header = 10;
    }
    const bool masked = (b1 & 0x80) != 0;  // servers must not mask; tolerate it anyway
    const std::size_t mask_at = header;
    if (masked) header += 4;
    if (!fill(header + len, deadline)) return std::nullopt;
    std::string payload = rbuf_.substr(header, static_cast<std::size_t>(len));
    if (masked) {
      for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<char>(payload[i] ^ rbuf_[mask_at + i % 4]);
    }
    rbuf_.erase(0, header + static_cast<std::size_t>(len));

    switch (opcode) {
      case 0x9:  // ping
        send_raw_frame(0xA, payload, true);
        continue;
      case 0xA:  // pong
        continue;
      case 0x8: {  // close
        close_code_ = payload.size() >= 2 ? ((static_cast<unsigned char>(payload[0]) << 8) |
                                             static_cast<unsigned char>(payload[1]))
                                          : 1005;
        if (payload.size() > 2) close_reason_ = payload.substr(2);
        if (!sent_close_) {
          sent_close_ = true;
          send_raw_frame(0x8, payload.substr(0, 2), true);
        }
        return std::nullopt;
      }
      case 0x1:
      case 0x2:
        message = std::move(payload);
        in_message = true;
        break;
      case 0x0:
        if (!in_message) return std::nullopt;  // protocol violation by the server
        message += payload;
        break;
      default:
        return std::nullopt;
    }
    if (fin) return message;
  }
}

std::optional<int> WsClient::wait_closed(int timeout_ms) {
  const long long deadline = now_ms() + timeout_ms;
  while (!close_code_ && !eof_ && fd_ >= 0) {
    const long long left = deadline - now_ms();
    if (left <= 0) break;
    (void)recv_text(static_cast<int>(left));
  }
  return close_code_;
}

void WsClient::close(std::uint16_t code) {
  if (fd_ < 0) return;
  if (!sent_close_) {
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xff));
    send_raw_frame(0x8, p, true);
    sent_close_ = true;
  }
  ::close(fd_);
  fd_ = -1;
}

std::vector<std::string> split_frames(std::string_view message) {
  std::vector<std::string> out;
  while (!message.empty()) {
    const auto nl = message.find('\n');
    std::string_view line = message.substr(0, nl);
    if (!line.empty()) out.emplace_back(line);
    if (nl == std::string_view::npos) break;
    message.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace chatsdk::test
