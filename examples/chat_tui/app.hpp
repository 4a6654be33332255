// The client application: the SDK handle, the model, the input line and the
// view state, and the reactions to events and commands.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "chatsdk/chatsdk.h"
#include "model.hpp"

namespace chatsdk::tui {

struct App {
  chat_client* client = nullptr;
  Model model;
  std::string input;           ///< the line being typed
  std::string notice;          ///< last status/error line
  std::string pending_switch;  ///< open this channel as soon as it is in the list
  int scroll = 0;              ///< lines scrolled up from the newest
  bool at_top = false;         ///< set by the renderer: the oldest loaded row is visible
  int page = 10;               ///< lines per /up, set by the renderer
  bool quit = false;
  bool dirty = true;  ///< redraw needed
  std::uint64_t next_tag = 1;
  std::map<std::string, std::uint64_t> marked;  ///< channel -> last seq we marked read
  std::set<std::string> presence_asked;         ///< users queried on this connection

  /// Reacts to one SDK event.
  void on_event(const chat_event* ev);
  /// Opens `channel` (closing the previous timeline), or remembers it for later.
  void select(const std::string& channel);
  /// Runs a typed line: a /command or a message for the open channel.
  void run_line(const std::string& line);
  /// Per-loop duties: read receipts for what is on screen.
  void tick();
  /// Scrolls up one page, loading older history when the top is reached.
  void scroll_up();
  void scroll_down();
  /// Called when the input line changed (typing indicator).
  void on_input_changed();
  void set_notice(const std::string& s);

 private:
  void refresh_peers(bool query_all);
  void report(chat_status st, const char* what);
};

}  // namespace chatsdk::tui
