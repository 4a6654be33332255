#include "terminal.hpp"

#include <sys/ioctl.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

namespace chatsdk::tui {

namespace {
termios g_saved{};

std::size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // stray continuation byte: consume it alone
}
}  // namespace

Terminal::Terminal() {
  if (isatty(STDIN_FILENO) != 0 && tcgetattr(STDIN_FILENO, &g_saved) == 0) {
    termios t = g_saved;
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C still quits
    t.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    raw_ = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  // Alternate screen, cleared; the cursor is placed by each redraw.
  write_all("\x1b[?1049h\x1b[2J");
}

Terminal::~Terminal() {
  write_all("\x1b[?25h\x1b[?1049l");
  if (raw_) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
}

void Terminal::write_all(const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

void Terminal::size(int& cols, int& rows) const {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    cols = ws.ws_col;
    rows = ws.ws_row;
  } else {
    cols = 80;
    rows = 24;
  }
}

std::vector<Key> Terminal::read_keys(int timeout_ms) {
  if (eof_) return {};
  fd_set fds;
  FD_ZERO(&fds);
  FD_SET(STDIN_FILENO, &fds);
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  if (select(STDIN_FILENO + 1, &fds, nullptr, nullptr, &tv) <= 0) return {};
  char buf[512];
  ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
  if (n == 0) {
    eof_ = true;
    return {};
  }
  if (n < 0) return {};
  pending_.append(buf, static_cast<std::size_t>(n));
  return decode();
}

std::vector<Key> Terminal::decode() {
  std::vector<Key> keys;
  std::size_t i = 0;
  while (i < pending_.size()) {
    auto c = static_cast<unsigned char>(pending_[i]);
    Key k;
    if (c == 0x1b) {
      // CSI sequences we know: arrows and PageUp/PageDown. A lone ESC or an
      // unknown sequence is dropped.
      if (i + 1 >= pending_.size()) break;  // wait for the rest
      if (pending_[i + 1] != '[') {
        i += 1;
        continue;
      }
      std::size_t j = i + 2;
      while (j < pending_.size() && (pending_[j] < 0x40 || pending_[j] > 0x7e))
        ++j;
      if (j >= pending_.size()) break;
      std::string seq = pending_.substr(i + 2, j - i - 1);
      if (seq == "5~")
        k.kind = Key::Kind::page_up;
      else if (seq == "6~")
        k.kind = Key::Kind::page_down;
      else if (seq == "A")
        k.kind = Key::Kind::up;
      else if (seq == "B")
        k.kind = Key::Kind::down;
      i = j + 1;
    } else if (c == '\r' || c == '\n') {
      k.kind = Key::Kind::enter;
      // "\r\n" is one Enter.
      if (c == '\r' && i + 1 < pending_.size() && pending_[i + 1] == '\n') ++i;
      ++i;
    } else if (c == 0x7f || c == 0x08) {
      k.kind = Key::Kind::backspace;
      ++i;
    } else if (c == 0x15) {  // Ctrl-U
      k.kind = Key::Kind::clear_line;
      ++i;
    } else if (c == 0x04) {  // Ctrl-D
      k.kind = Key::Kind::quit;
      ++i;
    } else if (c < 0x20) {
      ++i;
    } else {
      std::size_t len = utf8_len(c);
      if (i + len > pending_.size()) break;  // wait for the rest of the character
      k.kind = Key::Kind::text;
      k.text = pending_.substr(i, len);
      i += len;
    }
    if (k.kind != Key::Kind::other) keys.push_back(std::move(k));
  }
  pending_.erase(0, i);
  return keys;
}

}  // namespace chatsdk::tui
