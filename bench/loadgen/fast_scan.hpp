// Fast path for the hot frame: a `message` event. Pulls seq, sender, channel
// and metadata.sent_at out of the compact JSON without building a DOM (about
// 10x cheaper than a full parse), so the generator is not the bottleneck of a
// fan-out benchmark. Anything unexpected returns false and the caller falls
// back to the full parser.
//
// Why searching for `"key":` is safe: in valid JSON an unescaped quote cannot
// occur inside a string, so `"seq":` can only match a key. The generator sets
// the only metadata key (sent_at), so nested keys cannot collide.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace chatsdk::bench {

struct MessageFields {
  bool created = false;  // change == "created"; other changes are ignored
  std::string_view channel, sender;
  std::uint64_t seq = 0;
  bool has_sent_at = false;
  double sent_at = 0;
};

namespace detail {

inline std::size_t find_key(std::string_view s, std::string_view key, std::size_t from) {
  const auto p = s.find(key, from);
  return p == std::string_view::npos ? p : p + key.size();
}

/// An id-charset string value starting at `p` (just after the opening quote).
inline bool read_plain_string(std::string_view s, std::size_t p, std::string_view& out) {
  const auto end = s.find('"', p);
  if (end == std::string_view::npos) return false;
  out = s.substr(p, end - p);
  return out.find('\\') == std::string_view::npos;
}

}  // namespace detail

/// True when `frame` is a message event that was scanned into `out`.
inline bool scan_message_event(std::string_view frame, MessageFields& out) {
  using detail::find_key;
  constexpr std::string_view kPrefix = R"({"type":"message",)";
  if (frame.substr(0, kPrefix.size()) != kPrefix) return false;
  const auto ch = find_key(frame, R"("change":")", kPrefix.size());
  if (ch == std::string_view::npos) return false;
  out.created = frame.substr(ch, 8) == R"(created")";
  if (!out.created) return true;
  const auto m = find_key(frame, R"("message":{)", kPrefix.size());
  if (m == std::string_view::npos) return false;
  const auto sq = find_key(frame, R"("seq":)", m);
  if (sq == std::string_view::npos) return false;
  const char* first = frame.data() + sq;
  const char* last = frame.data() + frame.size();
  auto r = std::from_chars(first, last, out.seq);
  if (r.ec != std::errc() || (r.ptr != last && *r.ptr != ',' && *r.ptr != '}')) return false;
  const auto sd = find_key(frame, R"("sender":")", m);
  if (sd == std::string_view::npos || !detail::read_plain_string(frame, sd, out.sender))
    return false;
  const auto cn = find_key(frame, R"("channel":")", m);
  if (cn == std::string_view::npos || !detail::read_plain_string(frame, cn, out.channel))
    return false;
  out.has_sent_at = false;
  const auto md = find_key(frame, R"("metadata":{)", m);
  if (md != std::string_view::npos) {
    const auto sa = find_key(frame, R"("sent_at":)", md);
    if (sa != std::string_view::npos) {
      auto d = std::from_chars(frame.data() + sa, last, out.sent_at);
      if (d.ec != std::errc()) return false;
      out.has_sent_at = true;
    }
  }
  return true;
}

}  // namespace chatsdk::bench
