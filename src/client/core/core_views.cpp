// Core: view-models (channel list, timelines) and typing.
//
// Views are rebuilt from the store for channels touched by an input and
// diffed against what the app last saw (list_diff.hpp), once per input or
// poll batch. The one exception is the hot path of a busy channel: live
// messages from others that land below everything an open timeline shows
// are appended to it directly (note_append), without re-reading the window.
#include <algorithm>

#include "client/core/core.hpp"
#include "client/core/list_diff.hpp"

namespace chatsdk::client {

namespace {
constexpr std::int64_t kTypingRefreshMs = 3'000;    // at most one start per 3 s
constexpr std::int64_t kTypingIdleStopMs = 5'000;   // stop 5 s after the last keystroke
constexpr std::int64_t kRemoteTypingTtlMs = 6'000;  // remote indicator expiry
constexpr std::size_t kInitialWindow = 50;
constexpr Seq kLiveWindow = 200;  // messages a timeline that follows the bottom keeps
}  // namespace

void Core::mark_dirty(const std::string& channel) {
  dirty_channels_.insert(channel);
  if (timelines_.count(channel) != 0) dirty_timelines_.insert(channel);
}

namespace {
void sort_by_activity(std::vector<ChannelItem>& items) {
  std::sort(items.begin(), items.end(), [](const ChannelItem& a, const ChannelItem& b) {
    if (a.channel.last_activity != b.channel.last_activity)
      return a.channel.last_activity > b.channel.last_activity;
    return a.key < b.key;
  });
}
}  // namespace

std::vector<ChannelItem> Core::build_channel_list() {
  std::vector<ChannelItem> out;
  for (ChannelRow& row : store_.channels()) {
    std::string key = row.channel.id;
    out.push_back(ChannelItem{std::move(key), std::move(row.channel)});
  }
  sort_by_activity(out);
  return out;
}

// The list after an input: only the channels the input touched are read
// again (one indexed row each), so a live message costs O(1) queries however
// many channels the user has.
std::vector<ChannelItem> Core::refresh_channel_list() {
  std::vector<ChannelItem> out;
  out.reserve(channel_list_.size() + dirty_channels_.size());
  for (const ChannelItem& item : channel_list_)
    if (dirty_channels_.count(item.key) == 0) out.push_back(item);
  for (const std::string& id : dirty_channels_)
    if (auto row = store_.channel(id)) out.push_back(ChannelItem{id, std::move(row->channel)});
  sort_by_activity(out);
  return out;
}

std::vector<TimelineItem> Core::build_timeline(const std::string& channel, Seq floor) {
  std::vector<TimelineItem> out;
  std::set<std::string> confirmed;
  for (Message& m : store_.messages_from(channel, floor)) {
    TimelineItem item;
    bool own = !me_.empty() && m.sender == me_ && !m.client_id.empty();
    item.key = own ? m.client_id : channel + ":" + std::to_string(m.seq);
    item.state = OpState::sent;
    if (own) {
      confirmed.insert(m.client_id);
      if (OpRow* row = find_op_by_client_id(m.client_id); row && row->op.kind == OpKind::send) {
        item.op = row->op.id;
        item.state = row->op.state;
      }
    }
    item.message = std::move(m);
    out.push_back(std::move(item));
  }
  // Local echoes of sends not yet confirmed, in send order, after the history.
  // (Pending edits/deletes/reactions are overlaid below.)
  for (const auto& [id, row] : ops_) {
    if (row.op.kind != OpKind::send || row.op.channel != channel) continue;
    if (row.op.state != OpState::queued && row.op.state != OpState::sending &&
        row.op.state != OpState::failed)
      continue;
    if (confirmed.count(row.op.client_id) != 0) continue;
    TimelineItem item;
    item.key = row.op.client_id;
    item.op = id;
    item.state = row.op.state;
    Message& m = item.message;
    m.channel = channel;
    m.sender = me_;
    m.client_id = row.op.client_id;
    m.body = row.body;
    m.created_at = row.op.created_at;
    m.reply_to = row.reply_to;
    m.mentions = row.mentions;
    m.metadata = row.metadata;
    out.push_back(std::move(item));
  }
  overlay_pending(out);
  return out;
}

// Shows edits, deletes and reactions that are still in the outbox on the rows
// they target, so the UI reflects them at once (offline too). The server's
// answer later replaces the row with the same content.
void Core::overlay_pending(std::vector<TimelineItem>& items) const {
  for (const auto& entry : ops_) {
    const OpRow& row = entry.second;  // (clang 14 cannot capture structured bindings)
    OpKind k = row.op.kind;
    if (k != OpKind::edit && k != OpKind::delete_message && k != OpKind::react &&
        k != OpKind::unreact)
      continue;
    if (row.op.state != OpState::queued && row.op.state != OpState::sending) continue;
    for (TimelineItem& item : items) {
      Message& m = item.message;
      if (m.channel != row.op.channel) break;
      bool hit =
          (row.op.seq != 0 && m.seq == row.op.seq) ||
          (!row.target_client_id.empty() && m.client_id == row.target_client_id && m.sender == me_);
      if (!hit) continue;
      if (k == OpKind::edit && !m.deleted) {
        m.body = row.body;
        m.metadata = row.metadata;
        if (m.edited_at == 0) m.edited_at = row.op.created_at;
      } else if (k == OpKind::delete_message) {
        m.deleted = true;
        m.body.clear();
        m.metadata.clear();
        m.reactions.clear();
      } else if (k == OpKind::react || k == OpKind::unreact) {
        auto r = std::find_if(m.reactions.begin(), m.reactions.end(),
                              [&](const Reaction& x) { return x.emoji == row.emoji; });
        if (k == OpKind::react && (r == m.reactions.end() || !r->mine)) {
          if (r == m.reactions.end())
            m.reactions.push_back(Reaction{row.emoji, 1, true});
          else {
            ++r->count;
            r->mine = true;
          }
        } else if (k == OpKind::unreact && r != m.reactions.end() && r->mine) {
          r->mine = false;
          if (--r->count == 0) m.reactions.erase(r);
        }
      }
      break;
    }
  }
}

void Core::begin_batch() {
  if (batch_depth_++ > 0) return;
  batch_actions_ = actions_.size();
  // One transaction for the whole batch: a poll that read 20 messages pays
  // for one commit, not 20. (When it cannot start, each input commits alone.)
  batch_tx_ = !store_.in_transaction() && store_.begin_batch().ok();
}

void Core::end_batch() {
  if (batch_depth_ == 0 || --batch_depth_ > 0) return;
  commit_batch();
  flush_views();  // after the commit: views show what the cache really holds
}

void Core::commit_batch() {
  if (!batch_tx_) return;
  batch_tx_ = false;
  auto r = store_.commit_batch();
  if (r) return;
  store_.rollback_batch();
  // Nothing the batch wrote is in the cache. Its frames (acks, cursors,
  // dispatched ops) must not leave; the outbox in memory may be ahead of the
  // cache, so it is reloaded; views are rebuilt from the cache; and a new
  // connection's sync fetches again what rolled back (the cursors did too).
  std::vector<Action> kept;
  for (std::size_t i = 0; i < actions_.size(); ++i)
    if (i < batch_actions_ || !std::holds_alternative<SendAction>(actions_[i]))
      kept.push_back(std::move(actions_[i]));
  actions_ = std::move(kept);
  load_outbox();
  list_rebuild_ = true;
  timeline_appends_.clear();
  for (const auto& entry : timelines_)
    dirty_timelines_.insert(entry.first);
  emit(ErrorEvent{r.error().code, "cache write: " + r.error().message});
  if (conn_ != 0) drop(Errc::io_error, "cache commit failed", 1000);
}

// A live message from someone else that sorts after every row an open
// timeline shows (the common case in a busy channel) is queued to be appended
// to the view as is. Anything else (own messages: keyed by client id and tied
// to an op; older or edited rows; a view with local echoes last) returns false
// and the caller marks the timeline for a rebuild from the store.
bool Core::note_append(Message m) {
  auto it = timelines_.find(m.channel);
  if (it == timelines_.end()) return true;                   // no timeline to update
  if (dirty_timelines_.count(m.channel) != 0) return false;  // rebuilt anyway
  if (!me_.empty() && m.sender == me_ && !m.client_id.empty()) return false;
  // The view holds what the store reads back: ids and emoji never carry the
  // separators the store's encodings use (protocol charset); if one did, the
  // store's copy would differ, so read that instead.
  for (const auto& u : m.mentions)
    if (u.empty() || u.find(' ') != std::string::npos) return false;
  for (const auto& r : m.reactions)
    if (r.emoji.empty() || r.emoji.find_first_of(" \n") != std::string::npos) return false;
  auto& pending = timeline_appends_[m.channel];
  Seq last = 0;
  if (!pending.empty()) {
    last = pending.back().seq;
  } else {
    const auto& items = it->second.items;
    if (items.empty() || items.back().message.seq == 0) return false;  // empty, or echoes last
    last = items.back().message.seq;
  }
  if (m.seq <= last) return false;
  pending.push_back(std::move(m));
  return true;
}

// Applies queued appends to a timeline as the diff a rebuild would produce:
// rows below the live window's new floor are removed (from the back, like
// diff_lists), the new rows inserted at the end. False when the view needs
// a rebuild after all (an outbox op of the channel may add an echo or an
// overlay that only build_timeline places).
bool Core::append_to_timeline(const std::string& channel, TimelineView& tv,
                              std::vector<Message>& appended) {
  for (const auto& entry : ops_) {
    const Op& op = entry.second.op;
    if (op.channel == channel && (op.state == OpState::queued || op.state == OpState::sending ||
                                  op.state == OpState::failed))
      return false;
  }
  if (!tv.pinned) {
    const Seq newest = appended.back().seq;
    if (newest >= kLiveWindow) tv.floor = std::max(tv.floor, newest - kLiveWindow + 1);
  }
  TimelineDiff d;
  d.channel = channel;
  std::size_t drop = 0;
  while (drop < tv.items.size() && tv.items[drop].message.seq < tv.floor)
    ++drop;
  for (std::size_t i = drop; i-- > 0;)
    d.ops.push_back(DiffOp<TimelineItem>{DiffKind::remove, i, tv.items[i].key, {}, {}});
  tv.items.erase(tv.items.begin(), tv.items.begin() + static_cast<std::ptrdiff_t>(drop));
  for (Message& m : appended) {
    if (m.seq < tv.floor) continue;  // (a pinned view never moves its floor up)
    TimelineItem item;
    item.key = channel + ":" + std::to_string(m.seq);
    item.state = OpState::sent;
    item.message = std::move(m);
    d.ops.push_back(DiffOp<TimelineItem>{DiffKind::insert, tv.items.size(), item.key, item, {}});
    tv.items.push_back(std::move(item));
  }
  if (!d.ops.empty()) emit(std::move(d));
  return true;
}

void Core::flush_views() {
  // Inside a batch (many frames from one poll) views are rebuilt once, at the end.
  if (batch_depth_ > 0) return;
  if (list_rebuild_ || !dirty_channels_.empty()) {
    auto fresh = list_rebuild_ ? build_channel_list() : refresh_channel_list();
    list_rebuild_ = false;
    dirty_channels_.clear();
    ChannelListDiff d;
    diff_lists(channel_list_, fresh, d.ops);
    channel_list_ = std::move(fresh);
    if (!d.ops.empty()) emit(std::move(d));
  }
  auto appends = std::exchange(timeline_appends_, {});
  for (auto& [ch, msgs] : appends) {
    auto it = timelines_.find(ch);
    if (it == timelines_.end() || msgs.empty() || dirty_timelines_.count(ch) != 0) continue;
    if (!append_to_timeline(ch, it->second, msgs)) dirty_timelines_.insert(ch);
  }
  for (const std::string& ch : std::exchange(dirty_timelines_, {})) {
    auto it = timelines_.find(ch);
    if (it == timelines_.end()) continue;
    // A timeline following the newest messages keeps a bounded window, so a
    // busy channel costs the same per update after an hour as after a minute.
    // Once the app pages back (load_older) it keeps everything it asked for.
    if (!it->second.pinned) {
      const Seq newest = store_.max_seq(ch);
      if (newest >= kLiveWindow)
        it->second.floor = std::max(it->second.floor, newest - kLiveWindow + 1);
    }
    auto fresh = build_timeline(ch, it->second.floor);
    TimelineDiff d;
    d.channel = ch;
    diff_lists(it->second.items, fresh, d.ops);
    it->second.items = std::move(fresh);
    if (!d.ops.empty()) emit(std::move(d));
  }
}

Result<void> Core::open_timeline(const std::string& channel) {
  if (!store_.channel_row(channel)) return Error{Errc::not_found, "unknown channel"};
  TimelineView tv;
  auto latest = store_.messages_before(channel, 0, kInitialWindow);
  tv.floor = latest.empty() ? store_.max_seq(channel) + 1 : latest.front().seq;
  // Do not show across a recorded hole: the rows below it are older history.
  for (const Gap& g : store_.gaps(channel))
    if (g.to >= tv.floor && g.from <= store_.max_seq(channel))
      tv.floor = std::max(tv.floor, g.to + 1);
  tv.items = build_timeline(channel, tv.floor);
  TimelineDiff d;
  d.channel = channel;
  DiffOp<TimelineItem> reset;
  reset.kind = DiffKind::reset;
  reset.items = tv.items;
  d.ops.push_back(std::move(reset));
  timelines_[channel] = std::move(tv);
  dirty_timelines_.erase(channel);
  timeline_appends_.erase(channel);
  emit(std::move(d));
  return {};
}

void Core::close_timeline(const std::string& channel) {
  timelines_.erase(channel);
  dirty_timelines_.erase(channel);
  timeline_appends_.erase(channel);
}

std::vector<TimelineItem> Core::timeline(const std::string& channel) const {
  auto it = timelines_.find(channel);
  return it == timelines_.end() ? std::vector<TimelineItem>{} : it->second.items;
}

std::vector<Channel> Core::channels() {
  flush_views();  // the list the app last saw is current after this
  std::vector<Channel> out;
  out.reserve(channel_list_.size());
  for (const auto& item : channel_list_)
    out.push_back(item.channel);
  return out;
}

std::optional<Channel> Core::channel(const std::string& id) {
  if (auto row = store_.channel(id)) return row->channel;
  return std::nullopt;
}

std::vector<Message> Core::latest_messages(const std::string& channel, std::size_t n) {
  return store_.messages_before(channel, 0, n);
}

// ---- typing ---------------------------------------------------------------------------

void Core::send_typing(const std::string& channel, proto::TypingState s) {
  TypingOut& t = typing_out_[channel];
  if (s == proto::TypingState::start) {
    t.active = true;
    t.last_start = now();
  } else {
    t.active = false;
    t.stop_at = -1;
  }
  send(proto::Typing{channel, s});
}

void Core::typing_keystroke(const std::string& channel) {
  if (!live()) return;  // typing is never sent or queued while offline
  TypingOut& t = typing_out_[channel];
  if (!t.active || now() - t.last_start >= kTypingRefreshMs)
    send_typing(channel, proto::TypingState::start);
  t.stop_at = now() + kTypingIdleStopMs;
}

void Core::typing_stop(const std::string& channel) {
  auto it = typing_out_.find(channel);
  if (it != typing_out_.end() && it->second.active && live())
    send_typing(channel, proto::TypingState::stop);
}

void Core::clear_typing_out() {
  typing_out_.clear();
}

void Core::handle(const proto::TypingEvent& f) {
  if (f.user == me_) return;
  auto& users = typing_in_[f.channel];
  bool changed = false;
  if (f.state == proto::TypingState::start) {
    changed = users.count(f.user) == 0;
    users[f.user] = now() + kRemoteTypingTtlMs;
  } else {
    changed = users.erase(f.user) != 0;
  }
  if (changed) emit_typing(f.channel);
}

std::vector<std::string> Core::typing_users(const std::string& channel) const {
  std::vector<std::string> out;
  if (auto it = typing_in_.find(channel); it != typing_in_.end())
    for (const auto& [u, at] : it->second)
      out.push_back(u);
  return out;
}

void Core::emit_typing(const std::string& channel) {
  emit(TypingChanged{channel, typing_users(channel)});
}

}  // namespace chatsdk::client
