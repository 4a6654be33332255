// The typed line: "/command args" or a message for the open channel.
#include <algorithm>
#include <sstream>
#include <vector>

#include "app.hpp"

namespace chatsdk::tui {

namespace {
constexpr const char* kHelp =
    "/sw CH | /join #CH | /new group|public NAME user... | /dm USER | /edit N text | /del N | "
    "/react N EMOJI | /unreact N EMOJI | /up | /down | /leave | /quit   (N = [number] shown)";

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

// The rest of `line` after `n` words.
std::string rest_after(const std::string& line, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t w = 0; w < n; ++w) {
    while (i < line.size() && line[i] == ' ')
      ++i;
    while (i < line.size() && line[i] != ' ')
      ++i;
  }
  while (i < line.size() && line[i] == ' ')
    ++i;
  return line.substr(i);
}

std::string strip_hash(std::string s) {
  if (!s.empty() && s[0] == '#') s.erase(0, 1);
  return s;
}

bool valid_id(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '@' || c == '-';
  });
}

struct Target {
  std::uint64_t seq = 0;
  std::string client_id;  // for a local echo not yet confirmed
  bool ok = false;
};
}  // namespace

void App::run_line(const std::string& line) {
  Model& m = model;
  if (line.empty()) return;
  if (line[0] != '/' || line.rfind("//", 0) == 0) {
    std::string body = line[0] == '/' ? line.substr(1) : line;
    if (m.selected.empty())
      return set_notice("no channel open: /sw CH, /join #CH, /new or /dm first");
    std::int64_t op = 0;
    report(
        chat_client_send_text(client, m.selected.c_str(), body.c_str(), nullptr, next_tag++, &op),
        "send");
    scroll = 0;
    return;
  }
  std::vector<std::string> w = split_words(line);
  const std::string& cmd = w[0];
  std::uint64_t tag = next_tag++;

  // "/edit 12 ..." names the message shown as [12]; "p1" the first pending one.
  auto target = [&](const std::string& label) {
    Target t;
    if (label.size() > 1 && label[0] == 'p') {
      std::size_t k = std::strtoul(label.c_str() + 1, nullptr, 10), seen = 0;
      for (const MessageRow& r : m.rows)
        if (r.seq == 0 && ++seen == k) {
          t.client_id = r.client_id;
          t.ok = true;
        }
    } else {
      char* end = nullptr;
      t.seq = std::strtoull(label.c_str(), &end, 10);
      t.ok = end != nullptr && *end == '\0' && t.seq > 0;
    }
    if (!t.ok) set_notice("no message " + label + " (use the number shown in [brackets])");
    return t;
  };
  auto need_channel = [&]() {
    if (m.selected.empty()) set_notice("no channel open");
    return !m.selected.empty();
  };
  const char* cid = nullptr;

  if (cmd == "/quit" || cmd == "/q") {
    quit = true;
  } else if (cmd == "/help") {
    set_notice(kHelp);
  } else if (cmd == "/up") {
    scroll_up();
  } else if (cmd == "/down") {
    scroll_down();
  } else if (cmd == "/sw" && w.size() == 2) {
    std::string want = w[1];
    std::string found;
    for (const ChannelRow& c : m.channels) {
      if (c.id == want || c.id == strip_hash(want) || channel_label(c, m.me) == want ||
          channel_label(c, m.me) == "#" + want || "@" + dm_peer(c.id, m.me) == want)
        found = c.id;
    }
    if (found.empty()) {
      char* end = nullptr;
      unsigned long n = std::strtoul(want.c_str(), &end, 10);
      if (end != nullptr && *end == '\0' && n >= 1 && n <= m.channels.size())
        found = m.channels[n - 1].id;
    }
    if (found.empty()) return set_notice("no channel " + want + " (see the list on the left)");
    select(found);
  } else if (cmd == "/join" && w.size() == 2) {
    if (m.me.empty()) return set_notice("not signed in yet");
    std::string ch = strip_hash(w[1]);
    report(chat_client_join(client, ch.c_str(), tag, nullptr), "join");
    pending_switch = ch;
    if (m.channel(ch) != nullptr) {
      pending_switch.clear();
      select(ch);
    }
  } else if (cmd == "/new" && w.size() >= 3 && (w[1] == "group" || w[1] == "public")) {
    std::string name = strip_hash(w[2]);
    std::vector<const char*> members;
    for (std::size_t i = 3; i < w.size(); ++i)
      members.push_back(w[i].c_str());
    // A name that is a valid id becomes the channel id, so /join #name and
    // /sw name work; otherwise the server picks the id.
    bool named = valid_id(name);
    report(chat_client_create_group(client, named ? name.c_str() : nullptr, name.c_str(),
                                    members.data(), members.size(), w[1] == "public", tag, nullptr),
           "create");
    pending_switch = named ? name : "*new*";
  } else if (cmd == "/dm" && w.size() == 2) {
    std::string other = w[1][0] == '@' ? w[1].substr(1) : w[1];
    report(chat_client_create_direct(client, other.c_str(), tag, nullptr), "dm");
    if (!m.me.empty()) {
      pending_switch = "dm:" + std::min(m.me, other) + ":" + std::max(m.me, other);
      if (m.channel(pending_switch) != nullptr) {
        std::string ch = pending_switch;
        pending_switch.clear();
        select(ch);
      }
    }
  } else if (cmd == "/leave") {
    if (!need_channel()) return;
    report(chat_client_leave(client, m.selected.c_str(), tag, nullptr), "leave");
    chat_client_close_timeline(client, m.selected.c_str());
    m.selected.clear();
    m.timeline_open = false;
    m.rows.clear();
  } else if (cmd == "/edit" && w.size() >= 3) {
    if (!need_channel()) return;
    Target t = target(w[1]);
    if (!t.ok) return;
    cid = t.client_id.empty() ? nullptr : t.client_id.c_str();
    report(chat_client_edit(client, m.selected.c_str(), t.seq, cid, rest_after(line, 2).c_str(),
                            nullptr, tag, nullptr),
           "edit");
  } else if ((cmd == "/del" || cmd == "/delete") && w.size() == 2) {
    if (!need_channel()) return;
    Target t = target(w[1]);
    if (!t.ok) return;
    cid = t.client_id.empty() ? nullptr : t.client_id.c_str();
    report(chat_client_delete(client, m.selected.c_str(), t.seq, cid, tag, nullptr), "delete");
  } else if ((cmd == "/react" || cmd == "/unreact") && w.size() == 3) {
    if (!need_channel()) return;
    Target t = target(w[1]);
    if (!t.ok) return;
    cid = t.client_id.empty() ? nullptr : t.client_id.c_str();
    report(chat_client_react(client, m.selected.c_str(), t.seq, cid, w[2].c_str(),
                             cmd == "/react" ? 1 : 0, tag, nullptr),
           "react");
  } else {
    set_notice("unknown command; " + std::string(kHelp));
  }
}

}  // namespace chatsdk::tui
