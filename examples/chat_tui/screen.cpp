#include "screen.hpp"

#include <algorithm>
#include <vector>

#include "text.hpp"

namespace chatsdk::tui {

namespace {
constexpr const char* kReverse = "\x1b[7m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

std::string conn_text(const Model& m, std::int64_t now) {
  switch (m.conn) {
    case CHAT_CONN_LIVE:
      return "● live";
    case CHAT_CONN_SYNCING:
      return "◐ syncing";
    case CHAT_CONN_CONNECTING:
    case CHAT_CONN_AUTHENTICATING:
      return "◌ connecting";
    case CHAT_CONN_DISCONNECTED:
      break;
  }
  std::string s = "○ offline";
  if (m.retry_at_ms >= 0)
    s += " - reconnecting in " +
         std::to_string(std::max<std::int64_t>(0, (m.retry_at_ms - now + 999) / 1000)) + "s";
  if (!m.conn_error.empty()) s += " (" + m.conn_error + ")";
  return s;
}

std::string presence_text(const Model& m, const std::string& user, std::int64_t now) {
  auto it = m.presence.find(user);
  if (it == m.presence.end()) return user;
  if (it->second.online) return user + " ● online";
  if (it->second.last_seen > 0) return user + " ○ last seen " + ago(it->second.last_seen, now);
  return user + " ○ offline";
}

std::string ticks(const Model& m, const MessageRow& r) {
  switch (r.state) {
    case CHAT_OP_QUEUED:
      return " ⋯ pending";
    case CHAT_OP_SENDING:
      return " ⋯ sending";
    case CHAT_OP_FAILED:
      return " ✗ failed";
    case CHAT_OP_CANCELLED:
      return " ✗ cancelled";
    default:
      break;
  }
  if (r.seq == 0) return " ⋯ pending";
  auto seen = m.peer_seen.find(m.selected);
  bool reached = r.state == CHAT_OP_DELIVERED || r.state == CHAT_OP_READ ||
                 (seen != m.peer_seen.end() && seen->second >= r.seq);
  return reached ? " ✓✓" : " ✓";
}

// The lines of the open timeline, oldest first, wrapped to `width`.
std::vector<std::string> history_lines(const Model& m, const std::string& me, int width) {
  std::vector<std::string> out;
  int pending = 0;
  for (const MessageRow& r : m.rows) {
    std::string label =
        r.seq > 0 ? "[" + std::to_string(r.seq) + "]" : "[p" + std::to_string(++pending) + "]";
    std::string text = label + " " + clock_hm(r.created_at) + " " + r.sender + ": ";
    text += r.deleted ? "(deleted)" : r.body;
    if (r.edited && !r.deleted) text += " (edited)";
    for (const ReactionRow& x : r.reactions)
      text += "  " + x.emoji + " " + std::to_string(x.count) + (x.mine ? "*" : "");
    if (!me.empty() && r.sender == me) text += ticks(m, r);
    for (std::string& l : wrap(text, width))
      out.push_back(std::move(l));
  }
  return out;
}

std::string channel_entry(const Model& m, const ChannelRow& c, const std::string& me) {
  std::string s = channel_label(c, me);
  std::string peer = c.kind == CHAT_CHANNEL_DIRECT ? dm_peer(c.id, me) : "";
  if (!peer.empty()) {
    auto it = m.presence.find(peer);
    if (it != m.presence.end()) s += it->second.online ? " ●" : " ○";
  }
  auto t = m.typing.find(c.id);
  if (t != m.typing.end() && !t->second.empty()) s += " ✎";
  return s;
}

std::string typing_line(const Model& m) {
  auto t = m.typing.find(m.selected);
  if (t == m.typing.end() || t->second.empty()) return "";
  std::string who;
  for (std::size_t i = 0; i < t->second.size(); ++i)
    who += (i ? ", " : "") + t->second[i];
  return who + (t->second.size() == 1 ? " is typing…" : " are typing…");
}
}  // namespace

std::string render(App& app, int cols, int rows) {
  const Model& m = app.model;
  std::int64_t now = wall_ms();
  cols = std::max(cols, 40);
  rows = std::max(rows, 8);
  const int left = std::min(24, cols / 4);
  const int right = cols - left - 1;
  const int body = rows - 4;  // rows 3 .. rows-2
  const int view = body - 1;  // the last body row shows typing / scroll state
  std::vector<std::string> screen;

  std::string me = m.me;
  screen.push_back(
      kReverse +
      fit(" chatsdk-chat │ " + (me.empty() ? "?" : me) + " │ " + conn_text(m, now), cols) + kReset);

  // Title row: the open channel and the presence of its other members.
  const ChannelRow* sel = m.channel(m.selected);
  std::string title;
  if (sel != nullptr) {
    title = channel_label(*sel, me) + " · " +
            (sel->kind == CHAT_CHANNEL_DIRECT  ? "direct"
             : sel->kind == CHAT_CHANNEL_LARGE ? "large"
                                               : "group") +
            " · " + std::to_string(sel->members) + " members";
    std::size_t shown = 0;
    for (const std::string& p : m.peers) {
      if (++shown > 4) {
        title += " …";
        break;
      }
      title += " · " + presence_text(m, p, now);
    }
  } else if (!m.selected.empty()) {
    title = "#" + m.selected + " (waiting for the server…)";
  } else {
    title = "no channel open";
  }
  screen.push_back(std::string(kDim) + fit(" Channels", left) + "│" + kReset +
                   fit(" " + title, right));

  // History: wrap everything, then show the window `scroll` lines up from the end.
  std::vector<std::string> hist;
  if (m.selected.empty()) {
    hist = {"Welcome. Open a channel from the list with /sw NAME (or its number),",
            "join a public one with /join #name, start one with /new group NAME user1 user2,",
            "or talk to someone with /dm USER. /help lists every command."};
  } else {
    hist = history_lines(m, me, right - 1);
    bool empty = m.rows.empty() && sel != nullptr && sel->last_seq == 0;
    if (m.more_before && m.timeline_open && !empty)
      hist.insert(hist.begin(), "   … /up for older messages");
  }
  const int total = static_cast<int>(hist.size());
  const int max_scroll = std::max(0, total - view);
  app.scroll = std::clamp(app.scroll, 0, max_scroll);
  app.at_top = app.scroll >= max_scroll;
  app.page = std::max(1, view - 2);
  const int first = std::max(0, total - view - app.scroll);

  std::string status_row;
  if (app.scroll > 0) status_row = "↓ " + std::to_string(app.scroll) + " more lines below (/down)";
  std::string typing = typing_line(m);
  if (!typing.empty()) status_row = typing + (status_row.empty() ? "" : "   " + status_row);

  for (int i = 0; i < body; ++i) {
    std::string l;
    auto idx = static_cast<std::size_t>(i);
    if (idx < m.channels.size()) {
      const ChannelRow& c = m.channels[idx];
      std::string unread = c.unread > 0 ? " (" + std::to_string(c.unread) + ")" : "";
      std::string entry = std::to_string(i + 1) + " " + channel_entry(m, c, me);
      int room = left - 1 - display_width(unread);
      std::string cell = (c.id == m.selected ? ">" : " ") + fit(entry, std::max(0, room)) + unread;
      l = c.id == m.selected ? kReverse + fit(cell, left) + kReset : fit(cell, left);
    } else {
      l = fit("", left);
    }
    l += "│ ";
    if (i < view) {
      int h = first + i;
      l += h < total ? fit(hist[static_cast<std::size_t>(h)], right - 1) : fit("", right - 1);
    } else {
      l += std::string(kDim) + fit(status_row, right - 1) + kReset;
    }
    screen.push_back(l);
  }
  screen.push_back(fit(app.notice, cols));

  // Input row: the tail of the line when it is wider than the screen.
  std::string shown = app.input;
  while (display_width(shown) > cols - 4) {
    std::size_t n = 1;
    while (n < shown.size() && (static_cast<unsigned char>(shown[n]) & 0xC0) == 0x80)
      ++n;
    shown.erase(0, n);
  }
  screen.push_back(fit("> " + shown, cols - 1));

  std::string out = "\x1b[?25l";
  for (std::size_t r = 0; r < screen.size(); ++r)
    out += "\x1b[" + std::to_string(r + 1) + ";1H" + screen[r] + kReset + "\x1b[K";
  out += "\x1b[" + std::to_string(rows) + ";" + std::to_string(3 + display_width(shown)) +
         "H\x1b[?25h";
  return out;
}

}  // namespace chatsdk::tui
