#include "app.hpp"

#include <algorithm>
#include <vector>

#include "text.hpp"

namespace chatsdk::tui {

void App::set_notice(const std::string& s) {
  notice = s;
  dirty = true;
}

void App::report(chat_status st, const char* what) {
  if (st == CHAT_OK) return;
  std::string detail = chat_client_errmsg(client);
  set_notice(std::string(what) + ": " + chat_status_name(st) +
             (detail.empty() ? "" : " (" + detail + ")"));
}

void App::on_event(const chat_event* ev) {
  dirty = true;
  switch (chat_event_type(ev)) {
    case CHAT_EVENT_CONNECTION: {
      Model& m = model;
      m.conn = chat_event_connection_state(ev);
      std::int64_t retry = chat_event_retry_in_ms(ev);
      m.retry_at_ms = retry >= 0 ? wall_ms() + retry : -1;
      if (chat_event_status(ev) != CHAT_OK)
        m.conn_error = std::string(chat_status_name(chat_event_status(ev)));
      if (m.conn == CHAT_CONN_DISCONNECTED) m.presence.clear();  // unknown while offline
      if (m.conn == CHAT_CONN_LIVE) {
        m.conn_error.clear();
        char* uid = nullptr;
        if (chat_client_user_id(client, &uid) == CHAT_OK && uid != nullptr && uid[0] != '\0')
          m.me = uid;
        chat_free(uid);
        refresh_peers(true);  // presence may have changed while we were away
      }
      break;
    }
    case CHAT_EVENT_CHANNEL_LIST_DIFF:
      apply_channel_diff(model, ev);
      if (!pending_switch.empty() && model.channel(pending_switch) != nullptr) {
        std::string ch = pending_switch;
        pending_switch.clear();
        select(ch);
      } else if (!model.selected.empty() && !model.timeline_open) {
        select(model.selected);  // it was not cached yet when selected
      } else {
        refresh_peers(false);  // membership of the open channel may have changed
      }
      break;
    case CHAT_EVENT_TIMELINE_DIFF:
      if (model.selected == chat_event_channel(ev)) {
        apply_timeline_diff(model, ev);
        // Message 1 on screen: nothing older exists.
        if (!model.rows.empty() && model.rows.front().seq == 1) model.more_before = false;
      }
      break;
    case CHAT_EVENT_OP: {
      const chat_op* op = chat_event_op(ev);
      chat_op_state st = chat_op_get_state(op);
      if (st == CHAT_OP_FAILED) {
        std::string reason = chat_op_failure_reason(op);
        static const char* const kKinds[] = {
            "send",           "edit",       "delete",         "react",
            "unreact",        "mark read",  "create channel", "add members (join)",
            "remove members", "set profile"};
        auto kind = static_cast<std::size_t>(chat_op_get_kind(op));
        std::string what = kind < sizeof kKinds / sizeof kKinds[0] ? kKinds[kind] : "op";
        std::string ch = chat_op_channel(op);
        set_notice(what + (ch.empty() ? "" : " in " + ch) +
                   " failed: " + chat_status_name(chat_op_failure(op)) +
                   (reason.empty() ? "" : " (" + reason + ")"));
      }
      // A channel created without an id gets the server's id when sent.
      if (chat_op_get_kind(op) == CHAT_OP_CHANNEL_CREATE && st == CHAT_OP_SENT &&
          pending_switch == "*new*") {
        pending_switch = chat_op_channel(op);
        if (model.channel(pending_switch) != nullptr) {
          select(pending_switch);
          pending_switch.clear();
        }
      }
      break;
    }
    case CHAT_EVENT_TYPING: {
      std::vector<std::string> users;
      for (std::size_t i = 0; i < chat_event_user_count(ev); ++i) {
        std::string u = chat_event_user(ev, i);
        if (u != model.me) users.push_back(u);
      }
      model.typing[chat_event_channel(ev)] = users;
      break;
    }
    case CHAT_EVENT_PRESENCE:
      if (chat_event_user_count(ev) > 0)
        model.presence[chat_event_user(ev, 0)] =
            PresenceRow{chat_event_presence_online(ev) != 0, chat_event_presence_last_seen(ev)};
      break;
    case CHAT_EVENT_RECEIPT: {
      if (chat_event_user_count(ev) == 0 || model.me == chat_event_user(ev, 0)) break;
      std::uint64_t seen =
          std::max(chat_event_receipt_read_seq(ev), chat_event_receipt_delivered_seq(ev));
      std::uint64_t& cur = model.peer_seen[chat_event_channel(ev)];
      cur = std::max(cur, seen);
      break;
    }
    case CHAT_EVENT_HISTORY_LOADED:
      if (model.selected == chat_event_channel(ev)) {
        model.loading_older = false;
        model.more_before = chat_event_history_more_before(ev) != 0;
        if (chat_event_status(ev) != CHAT_OK)
          set_notice("history: " + std::string(chat_event_detail(ev)));
      }
      break;
    case CHAT_EVENT_ERROR:
      set_notice(std::string("error: ") + chat_status_name(chat_event_status(ev)) + " " +
                 chat_event_detail(ev));
      break;
    default:
      break;
  }
}

// Reads the members of the open channel from the cache: who to show presence
// for, and their read cursors (ticks that survive a restart of this client).
void App::refresh_peers(bool query_all) {
  Model& m = model;
  if (query_all) presence_asked.clear();
  std::vector<std::string> peers;
  if (!m.selected.empty()) {
    chat_list* l = nullptr;
    if (chat_client_members(client, m.selected.c_str(), &l) == CHAT_OK) {
      for (std::size_t i = 0; i < chat_list_count(l); ++i) {
        std::string u = chat_list_string(l, i);
        if (u == m.me) continue;
        std::uint64_t& cur = m.peer_seen[m.selected];
        cur = std::max(cur, chat_list_member_read_seq(l, i));
        peers.push_back(u);
      }
    }
    chat_list_destroy(l);
    if (peers.empty()) {  // members not synced yet: a direct channel names its peer
      std::string p = dm_peer(m.selected, m.me);
      if (!p.empty()) peers.push_back(p);
    }
  }
  // Presence of the open channel's members and of every direct-channel peer
  // (the list shows a dot for them); each asked once per connection.
  std::vector<std::string> want = peers;
  for (const ChannelRow& c : m.channels)
    if (std::string p = dm_peer(c.id, m.me); !p.empty()) want.push_back(p);
  std::vector<const char*> ask;
  if (m.conn == CHAT_CONN_LIVE)
    for (const std::string& u : want)
      if (presence_asked.insert(u).second) ask.push_back(u.c_str());
  if (!ask.empty()) chat_client_query_presence(client, ask.data(), ask.size(), 0);
  m.peers = std::move(peers);
}

void App::select(const std::string& channel) {
  Model& m = model;
  if (!m.selected.empty() && m.selected != channel && m.timeline_open)
    chat_client_close_timeline(client, m.selected.c_str());
  if (m.selected != channel) {
    m.rows.clear();
    m.more_before = true;
    m.loading_older = false;
    scroll = 0;
  }
  m.selected = channel;
  // NOT_FOUND: not in the cache yet; retried when the channel list changes.
  m.timeline_open = chat_client_open_timeline(client, channel.c_str()) == CHAT_OK;
  refresh_peers(true);
  dirty = true;
}

void App::tick() {
  Model& m = model;
  if (m.selected.empty() || !m.timeline_open || scroll != 0) return;
  const ChannelRow* ch = m.channel(m.selected);
  if (ch == nullptr || ch->unread == 0) return;
  // The newest messages are on screen: they are read. Once per new last_seq.
  std::uint64_t& done = marked[m.selected];
  if (done >= ch->last_seq) return;
  done = ch->last_seq;
  chat_client_mark_read(client, m.selected.c_str(), 0, next_tag++, nullptr);
}

void App::scroll_up() {
  if (at_top) {
    if (model.more_before && !model.loading_older && model.timeline_open) {
      model.loading_older = true;
      report(chat_client_load_older(client, model.selected.c_str(), next_tag++), "load older");
    } else if (!model.more_before) {
      set_notice("beginning of the channel");
    }
  }
  scroll += page;  // clamped by the renderer
  dirty = true;
}

void App::scroll_down() {
  scroll = std::max(0, scroll - page);
  dirty = true;
}

void App::on_input_changed() {
  dirty = true;
  if (model.selected.empty() || !model.timeline_open || model.conn != CHAT_CONN_LIVE) return;
  if (input.empty()) {
    chat_client_typing_stop(client, model.selected.c_str());
  } else if (input[0] != '/') {
    chat_client_typing(client, model.selected.c_str());  // debounced by the SDK
  }
}

}  // namespace chatsdk::tui
