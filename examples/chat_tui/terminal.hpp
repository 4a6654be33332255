// Raw terminal I/O for chatsdk-chat: no curses, only termios and ANSI codes.
//
// Terminal puts stdin in non-canonical no-echo mode and the screen on the
// alternate buffer; the destructor restores both, so an early return or a
// signal-driven exit leaves the user's shell usable.
#pragma once

#include <string>
#include <vector>

namespace chatsdk::tui {

/// One decoded keystroke.
struct Key {
  enum class Kind { text, enter, backspace, page_up, page_down, up, down, clear_line, quit, other };
  Kind kind = Kind::other;
  std::string text;  ///< UTF-8 for Kind::text
};

class Terminal {
 public:
  Terminal();
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  /// Waits up to timeout_ms for input and returns the keys read (maybe none).
  std::vector<Key> read_keys(int timeout_ms);
  /// Columns and rows (80x24 when stdout is not a terminal).
  void size(int& cols, int& rows) const;
  /// Writes all of s to stdout.
  static void write_all(const std::string& s);
  /// True when stdin reached end of file.
  bool eof() const { return eof_; }

 private:
  std::vector<Key> decode();
  bool raw_ = false;
  bool eof_ = false;
  std::string pending_;  // bytes not yet forming a whole key
};

}  // namespace chatsdk::tui
