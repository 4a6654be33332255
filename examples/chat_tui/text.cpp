#include "text.hpp"

#include <clocale>
#include <cstring>
#include <ctime>
#include <cwchar>

namespace chatsdk::tui {

namespace {
// Decodes one character at s[i]; returns its byte length (1 for invalid bytes)
// and its width in columns.
std::size_t next_char(const std::string& s, std::size_t i, int& width) {
  std::mbstate_t st{};
  wchar_t wc = 0;
  std::size_t n = std::mbrtowc(&wc, s.data() + i, s.size() - i, &st);
  if (n == 0 || n == static_cast<std::size_t>(-1) || n == static_cast<std::size_t>(-2)) {
    width = 1;
    return 1;
  }
  int w = ::wcwidth(wc);
  width = w < 0 ? 0 : w;
  return n;
}
}  // namespace

void init_text_locale() {
  const char* loc = std::setlocale(LC_CTYPE, "");
  if (loc == nullptr ||
      (std::strstr(loc, "UTF-8") == nullptr && std::strstr(loc, "utf8") == nullptr))
    std::setlocale(LC_CTYPE, "C.UTF-8");
}

int display_width(const std::string& s) {
  int total = 0;
  for (std::size_t i = 0; i < s.size();) {
    int w = 0;
    i += next_char(s, i, w);
    total += w;
  }
  return total;
}

std::string fit(const std::string& s, int cols) {
  std::string out;
  int used = 0;
  for (std::size_t i = 0; i < s.size();) {
    int w = 0;
    std::size_t n = next_char(s, i, w);
    if (used + w > cols) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 || n > 1)
      out.append(s, i, n);  // never emit control bytes
    else
      out.push_back(' ');
    used += (c >= 0x20 || n > 1) ? w : 1;
    i += n;
  }
  if (used < cols) out.append(static_cast<std::size_t>(cols - used), ' ');
  return out;
}

std::vector<std::string> wrap(const std::string& s, int cols) {
  std::vector<std::string> lines;
  if (cols < 1) cols = 1;
  std::string line;
  int used = 0;
  std::size_t last_space = std::string::npos;  // byte offset in `line`
  int width_at_space = 0;
  for (std::size_t i = 0; i < s.size();) {
    int w = 0;
    std::size_t n = next_char(s, i, w);
    std::string ch = s.substr(i, n);
    i += n;
    if (ch == "\n") {
      lines.push_back(line);
      line.clear();
      used = 0;
      last_space = std::string::npos;
      continue;
    }
    if (used + w > cols && !line.empty()) {
      if (last_space != std::string::npos && last_space > 0) {
        std::string rest = line.substr(last_space + 1);
        lines.push_back(line.substr(0, last_space));
        line = rest;
        used -= width_at_space + 1;
      } else {
        lines.push_back(line);
        line.clear();
        used = 0;
      }
      last_space = std::string::npos;
    }
    if (ch == " ") {
      last_space = line.size();
      width_at_space = used;
    }
    line += ch;
    used += w;
  }
  lines.push_back(line);
  return lines;
}

void pop_utf8(std::string& s) {
  while (!s.empty()) {
    auto c = static_cast<unsigned char>(s.back());
    s.pop_back();
    if ((c & 0xC0) != 0x80) break;
  }
}

std::string ago(std::int64_t then_ms, std::int64_t now_ms) {
  std::int64_t s = (now_ms - then_ms) / 1000;
  if (s < 0) s = 0;
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 3600) return std::to_string(s / 60) + "m ago";
  if (s < 86400) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

std::string clock_hm(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[8];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

std::int64_t wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace chatsdk::tui
