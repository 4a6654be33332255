#include "server_process.hpp"

#include "common/auth/jwt.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace chatsdk::test {
namespace {

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string random_hex(std::size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned>(rd()) & 0xffu;
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0xf]);
  }
  return s;
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::string mint_token(const std::string& secret, const std::string& user, long long ttl_s) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auth::Claims claims;
  claims.sub = user;
  claims.iat = ttl_s < 0 ? now + ttl_s - 60 : now;  // an expired token was issued before it expired
  claims.exp = now + ttl_s;
  return auth::sign_hs256(claims, secret);
}

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body,
                        const std::map<std::string, std::string>& headers) {
  HttpResult result;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return result;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  std::string_view rest = req;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  std::string resp;
  char buf[16384];
  const long long deadline = now_ms() + 10000;
  std::size_t content_length = std::string::npos;
  std::size_t head_end = std::string::npos;
  for (;;) {
    if (head_end != std::string::npos && content_length != std::string::npos &&
        resp.size() >= head_end + 4 + content_length) {
      break;
    }
    const long long left = deadline - now_ms();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
    if (head_end == std::string::npos && (head_end = resp.find("\r\n\r\n")) != std::string::npos) {
      std::istringstream hs(resp.substr(0, head_end));
      std::string line;
      std::getline(hs, line);
      if (line.size() > 12) result.status = std::atoi(line.c_str() + 9);
      while (std::getline(hs, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string k = line.substr(0, colon);
        for (char& c : k)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ')
          v.erase(0, 1);
        result.headers[k] = v;
      }
      if (auto it = result.headers.find("content-length"); it != result.headers.end()) {
        content_length = std::strtoull(it->second.c_str(), nullptr, 10);
      }
    }
  }
  ::close(fd);
  if (head_end != std::string::npos) {
    result.body = resp.substr(head_end + 4);
    if (content_length != std::string::npos && result.body.size() > content_length)
      result.body.resize(content_length);
  }
  return result;
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::start(const std::string& binary,
                                                            std::vector<std::string> extra_args) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->binary_ = binary;
  p->extra_args_ = std::move(extra_args);
  p->secret_ = random_hex(32);
  p->admin_token_ = random_hex(24);
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec) / ("chatsdk-test-" + random_hex(8));
  std::filesystem::create_directories(base, ec);
  if (ec) return Error{Errc::io_error, "cannot create temp dir: " + ec.message()};
  p->data_dir_ = base.string();
  for (int attempt = 0; attempt < 3; ++attempt) {
    p->port_ = free_port();
    auto r = p->spawn_and_wait();
    if (r) return p;
    if (attempt == 2) return r.error();
  }
  return Error{Errc::internal, "unreachable"};
}

Result<void> ServerProcess::spawn_and_wait() {
  std::vector<std::string> args = {binary_,  "--listen",      "127.0.0.1:" + std::to_string(port_),
                                   "--data", data_dir_,       "--secret",
                                   secret_,  "--admin-token", admin_token_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  const std::string log = log_path();
  const pid_t pid = ::fork();
  if (pid < 0) return Error{Errc::io_error, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    // Never outlive the test process (a crashed test must not leave servers behind).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  pid_ = pid;
  const long long deadline = now_ms() + 10000;
  while (now_ms() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Error{Errc::io_error, "server exited during startup; log:\n" + log_text()};
    }
    if (http_request(port_, "GET", "/healthz").status == 200) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
  return Error{Errc::timeout, "server did not answer /healthz within 10 s; log:\n" + log_text()};
}

std::string ServerProcess::log_text() const {
  std::ifstream f(log_path());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int ServerProcess::wait_exit(int timeout_ms) {
  const long long deadline = now_ms() + timeout_ms;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0) {
      pid_ = -1;
      return -1;
    }
    if (now_ms() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int ServerProcess::terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit(timeout_ms);
}

void ServerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Result<void> ServerProcess::restart() {
  if (pid_ > 0) return Error{Errc::invalid_state, "server still running"};
  return spawn_and_wait();
}

ServerProcess::~ServerProcess() {
  kill9();
  std::error_code ec;
  if (!data_dir_.empty() && std::getenv("CHATSDK_KEEP_TEST_DATA") == nullptr) {
    std::filesystem::remove_all(data_dir_, ec);
  }
}

}  // namespace chatsdk::test
