#include <charconv>

#include "client/transport/transport.hpp"

namespace chatsdk::client {

Result<WsUrl> parse_ws_url(const std::string& url) {
  WsUrl out;
  std::string_view rest(url);
  if (rest.substr(0, 6) == "wss://") {
    out.tls = true;
    rest.remove_prefix(6);
  } else if (rest.substr(0, 5) == "ws://") {
    rest.remove_prefix(5);
  } else {
    return Error{Errc::invalid_argument, "server_url must start with ws:// or wss://"};
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/ws" : std::string(rest.substr(slash));
  if (out.path == "/") out.path = "/ws";
  out.port = out.tls ? 443 : 80;
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error{Errc::invalid_argument, "bad IPv6 host"};
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':')
      return Error{Errc::invalid_argument, "bad host:port"};
    if (!authority.empty())
      authority.remove_prefix(1);
    else
      authority = {};
    if (!authority.empty()) {
      auto [p, ec] =
          std::from_chars(authority.data(), authority.data() + authority.size(), out.port);
      if (ec != std::errc() || p != authority.data() + authority.size())
        return Error{Errc::invalid_argument, "bad port"};
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || p != port.data() + port.size())
      return Error{Errc::invalid_argument, "bad port"};
  }
  if (host.empty()) return Error{Errc::invalid_argument, "server_url has no host"};
  if (out.port <= 0 || out.port > 65535) return Error{Errc::invalid_argument, "port out of range"};
  out.host = std::string(host);
  return out;
}

}  // namespace chatsdk::client
