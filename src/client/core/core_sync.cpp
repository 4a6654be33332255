// Core: cursor sync, live events, history, receipts — applied idempotently.
//
// Rules (SEMANTICS.md): a message row is replaced only by a newer version; a
// channel cursor only moves forward, and only over contiguous versions (a live
// event whose version skips ahead triggers a sync instead of advancing it).
#include <algorithm>
#include <optional>

#include "client/core/convert.hpp"
#include "client/core/core.hpp"

namespace chatsdk::client {

namespace {
bool mentions_user(const proto::Message& m, const std::string& user) {
  return !user.empty() && std::find(m.mentions.begin(), m.mentions.end(), user) != m.mentions.end();
}

std::uint32_t unread_of(Seq last, Seq read) {
  return last > read ? static_cast<std::uint32_t>(last - read) : 0;
}
}  // namespace

void Core::request_sync() {
  if (conn_ == 0 || state_ < ConnectionState::syncing) return;
  if (sync_req_ != 0) {
    resync_wanted_ = true;  // one sync in flight at a time; run another after it
    return;
  }
  proto::Sync s;
  s.id = next_id();
  // Channels never synced (cursor 0) are left out on purpose: the server
  // answers unlisted channels with `joined` (newest page) rather than replaying
  // their whole history from version 0.
  for (const ChannelRow& row : store_.channels())
    if (row.cursor > 0) s.channels.push_back(proto::ChannelCursor{row.channel.id, row.cursor});
  sync_req_ = s.id;
  track(s.id, Pending{Pending::Kind::sync, 0, {}, false});
  send(std::move(s));
}

void Core::handle(const proto::SyncResult& f) {
  if (f.id != sync_req_) return;
  pending_.erase(f.id);
  sync_req_ = 0;
  {
    Transaction tx(store_);
    for (const auto& cs : f.channels)
      apply_channel_sync(cs);
    if (auto r = tx.commit(); !r)
      emit(ErrorEvent{r.error().code, "cache write: " + r.error().message});
  }
  maybe_evict();
  if (f.more || resync_wanted_) {
    resync_wanted_ = false;
    request_sync();
    return;
  }
  if (state_ == ConnectionState::syncing) {
    set_state(ConnectionState::live);
    backoff_.reset();
    if (!delivered_local_.empty()) delivered_flush_at_ = now();
    pump_outbox();
  }
}

void Core::apply_info(ChannelRow& row, const proto::ChannelInfo& info) {
  Channel& c = row.channel;
  c.id = info.channel;
  c.kind = to_public(info.kind);
  c.name = info.name;
  c.is_public = info.is_public;
  c.created_by = info.created_by;
  c.created_at = info.created_at;
  if (info.member_count != 0) c.member_count = info.member_count;
  c.role = to_public(info.role);
  c.metadata = info.metadata.json;
  c.last_seq = std::max(c.last_seq, info.last_seq);
  c.last_activity = std::max(c.last_activity, info.created_at);
}

void Core::apply_channel_sync(const proto::ChannelSync& cs) {
  if (cs.status == proto::SyncStatus::removed) {
    remove_channel_locally(cs.channel);
    return;
  }
  auto existing = store_.channel_row(cs.channel);
  ChannelRow row = existing ? *existing : ChannelRow{};
  row.channel.id = cs.channel;
  if (cs.info) apply_info(row, *cs.info);
  if (cs.status == proto::SyncStatus::too_far_behind && !cs.messages.empty()) {
    // Keep the newest page; remember the hole between our data and it so
    // scrolling back fetches it (history `before`).
    Seq held = store_.max_seq(cs.channel);
    Seq page_min = cs.messages.front().seq;
    for (const auto& m : cs.messages)
      page_min = std::min(page_min, m.seq);
    if (held > 0 && page_min > held + 1) store_.add_gap(cs.channel, Gap{held + 1, page_min - 1});
  }
  for (const auto& m : cs.messages) {
    apply_message(m);
    row.channel.last_activity = std::max(row.channel.last_activity, m.created_at);
  }
  for (const auto& mem : cs.members) {
    if (mem.removed)
      store_.remove_member(cs.channel, mem.user);
    else
      store_.upsert_member(cs.channel, to_public(mem));
  }
  row.cursor = std::max(row.cursor, cs.version);
  Channel& c = row.channel;
  c.last_seq = std::max(c.last_seq, cs.last_seq);
  c.delivered_seq = std::max(c.delivered_seq, cs.delivered_seq);
  if (cs.read_seq >= c.read_seq && c.last_seq == cs.last_seq) {
    c.read_seq = cs.read_seq;
    c.unread = cs.unread;  // the server's count is the truth
    c.mentions = cs.mentions;
  } else {
    // A local mark_read is ahead of the server (still in the outbox).
    c.read_seq = std::max(c.read_seq, cs.read_seq);
    c.unread = unread_of(c.last_seq, c.read_seq);
    c.mentions =
        c.unread == 0 ? 0 : std::min(cs.mentions, store_.count_mentions_after(c.id, c.read_seq));
  }
  store_.upsert_channel(row);
  if (c.last_seq > 0) note_received(c.id, c.last_seq);
  mark_dirty(c.id);
}

bool Core::apply_message(const proto::Message& m, bool may_append) {
  Message pm = to_public(m);
  bool appended = false;
  if (store_.upsert_message(pm, mentions_user(m, me_))) {
    if (may_append && note_append(std::move(pm)))
      appended = true;
    else
      mark_dirty(m.channel);
  }
  // Our own message seen through sync/events: an op still waiting to be
  // (re)sent is already applied — resolve it now (the resend would get
  // already_applied anyway) so its echo is replaced in place.
  if (!me_.empty() && m.sender == me_ && !m.client_id.empty()) {
    if (OpRow* row = find_op_by_client_id(m.client_id);
        row && row->op.kind == OpKind::send &&
        (row->op.state == OpState::queued || row->op.state == OpState::failed))
      op_succeeded(*row, m.seq, m.version, m.created_at);
  }
  return appended;
}

// Moves the cursor over one contiguous version; a jump means we missed
// something: ask for a sync (the cursor stays, so the sync covers the hole).
void Core::advance_cursor(const std::string& channel, Version v) {
  if (v == 0) return;
  auto row = store_.channel_row(channel);
  if (!row) return;
  if (v == row->cursor + 1) {
    row->cursor = v;
    store_.db()
        .prepare("UPDATE channels SET cursor = ?2 WHERE id = ?1 AND cursor < ?2")
        .bind(1, channel)
        .bind(2, v)
        .exec();
  } else if (v > row->cursor + 1) {
    request_sync();
  }
}

void Core::note_received(const std::string& channel, Seq seq) {
  Seq& d = delivered_local_[channel];
  d = std::max(d, seq);
  if (live() && delivered_flush_at_ < 0) delivered_flush_at_ = now() + 1000;
}

void Core::flush_delivered() {
  delivered_flush_at_ = -1;
  if (!live()) return;
  proto::MarkDelivered md;
  // Delivered cursors are what the server is told next: losing them to a
  // power cut only means telling it again. Committed like a poll batch
  // (no fsync), so this timer never pays for the batches before it.
  const bool own = !store_.in_transaction() && store_.begin_batch().ok();
  for (const auto& [ch, seq] : delivered_local_) {
    auto row = store_.channel_row(ch);
    if (!row || row->channel.delivered_seq >= seq) continue;
    row->channel.delivered_seq = seq;
    store_.update_channel_counters(*row);
    md.cursors.push_back(proto::SeqCursor{ch, seq});
  }
  if (own && !store_.commit_batch()) store_.rollback_batch();
  delivered_local_.clear();
  if (!md.cursors.empty()) send(std::move(md));
}

void Core::remove_channel_locally(const std::string& channel) {
  Transaction tx(store_);
  store_.delete_channel(channel);
  (void)tx.commit();
  delivered_local_.erase(channel);
  for (auto& [id, row] : ops_) {
    if (row.op.channel == channel &&
        (row.op.state == OpState::queued || row.op.state == OpState::failed))
      set_op_state(row, OpState::failed,
                   OpFailure{Errc::not_member, false, "no longer a member of the channel"});
  }
  mark_dirty(channel);
}

// ---- live events ---------------------------------------------------------------------

// The hot path under a message flood: one indexed read and at most two
// writes (message, channel row with counters and cursor) per event.
void Core::handle(const proto::MessageEvent& f) {
  auto row = store_.channel_row(f.message.channel);
  if (!row) {
    request_sync();  // a channel we do not know yet: the sync brings it as `joined`
    return;
  }
  // Events carry reaction counts without `mine`: keep ours per emoji, and set
  // it when the event is about our own reaction (another device of ours).
  proto::Message m = f.message;
  if (!m.reactions.empty()) {
    auto held = store_.message(m.channel, m.seq);
    for (auto& r : m.reactions) {
      if (f.change == proto::MessageChange::reaction && f.actor == me_ && f.emoji == r.emoji) {
        r.mine = f.action == proto::ReactAction::add;
      } else if (held) {
        for (const auto& h : held->reactions)
          if (h.emoji == r.emoji) r.mine = h.mine;
      }
    }
  }
  // Inside a poll batch the batch's transaction makes this input atomic:
  // every write below runs (no early return), so a savepoint of its own would
  // only cost a statement journal per message.
  std::optional<Transaction> tx;
  if (!batch_tx_) tx.emplace(store_);
  // Neither apply_message nor what it may call (resolving our own op) writes
  // the channel row, so `row` is still current after it.
  const bool appended = apply_message(m, f.change == proto::MessageChange::created);
  Channel& c = row->channel;
  bool row_changed = false;
  if (f.change == proto::MessageChange::created && m.seq > c.last_seq) {
    c.last_seq = m.seq;
    if (m.sender == me_) {
      c.read_seq = std::max(c.read_seq, m.seq);  // sending advances the sender's read cursor
    } else if (mentions_user(m, me_)) {
      ++c.mentions;
    }
    c.unread = unread_of(c.last_seq, c.read_seq);
    if (c.unread == 0) c.mentions = 0;
    c.last_activity = std::max(c.last_activity, m.created_at);
    row_changed = true;
    note_received(c.id, m.seq);
  }
  // The cursor moves over one contiguous version in the same row write
  // (advance_cursor() without a second read); a jump asks for a sync.
  if (m.version == row->cursor + 1) {
    row->cursor = m.version;
    row_changed = true;
  } else if (m.version > row->cursor + 1) {
    request_sync();
  }
  if (row_changed) store_.update_channel_counters(*row);
  if (tx) (void)tx->commit();
  if (appended)
    dirty_channels_.insert(m.channel);  // the list row; the timeline got the append
  else
    mark_dirty(m.channel);
}

void Core::handle(const proto::MemberEvent& f) {
  auto row = store_.channel_row(f.channel);
  if (!row) return;
  if (f.change == proto::MemberChange::removed && f.user == me_) {
    remove_channel_locally(f.channel);
    return;
  }
  Transaction tx(store_);
  if (f.change == proto::MemberChange::removed)
    store_.remove_member(f.channel, f.user);
  else
    store_.upsert_member(f.channel, Member{f.user, to_public(f.role), 0});
  if (f.user == me_) row->channel.role = to_public(f.role);
  if (f.member_count != 0) row->channel.member_count = f.member_count;
  store_.upsert_channel(*row);
  advance_cursor(f.channel, f.version);
  (void)tx.commit();
  mark_dirty(f.channel);
}

void Core::handle(const proto::ChannelAdded& f) {
  auto existing = store_.channel_row(f.info.channel);
  ChannelRow row = existing ? *existing : ChannelRow{};
  apply_info(row, f.info);
  store_.upsert_channel(row);
  mark_dirty(row.channel.id);
  if (row.cursor == 0) request_sync();  // unlisted -> `joined` with the newest page
}

void Core::handle(const proto::ChannelRemoved& f) {
  remove_channel_locally(f.channel);
}

void Core::handle(const proto::ChannelUpdated& f) {
  auto row = store_.channel_row(f.info.channel);
  if (!row) return;
  Transaction tx(store_);
  apply_info(*row, f.info);
  store_.upsert_channel(*row);
  advance_cursor(f.info.channel, f.info.version);
  (void)tx.commit();
  mark_dirty(f.info.channel);
}

void Core::handle(const proto::Receipt& f) {
  auto row = store_.channel_row(f.channel);
  if (!row) return;
  if (f.user == me_) {
    // Another of our devices moved the cursors.
    Channel& c = row->channel;
    if (f.read_seq > c.read_seq) {
      c.read_seq = f.read_seq;
      c.unread = unread_of(c.last_seq, c.read_seq);
      c.mentions = c.unread == 0 ? 0 : store_.count_mentions_after(c.id, c.read_seq);
    }
    c.delivered_seq = std::max(c.delivered_seq, f.delivered_seq);
    store_.upsert_channel(*row);
    mark_dirty(f.channel);
  } else {
    store_.upsert_member(f.channel, Member{f.user, Role::member, f.read_seq});
    for (const Member& m : store_.members(f.channel)) {
      if (m.user == f.user) {
        store_.upsert_member(f.channel, Member{f.user, m.role, std::max(m.read_seq, f.read_seq)});
        break;
      }
    }
    receipts_advance_ops(f.channel, f.read_seq, f.delivered_seq);
  }
  emit(ReceiptChanged{Receipt{f.channel, f.user, f.read_seq, f.delivered_seq}});
}

// ---- history ---------------------------------------------------------------------------

Result<void> Core::load_older(const std::string& channel) {
  auto it = timelines_.find(channel);
  if (it == timelines_.end()) return Error{Errc::invalid_state, "open the timeline first"};
  TimelineView& tv = it->second;
  const std::size_t page = opt_.history_page == 0 ? 50 : opt_.history_page;
  // First from the cache, down to the nearest gap.
  Seq gap_top = 0;
  for (const Gap& g : store_.gaps(channel))
    if (g.to < tv.floor) gap_top = std::max(gap_top, g.to);
  auto cached = store_.messages_before(channel, tv.floor, page);
  cached.erase(std::remove_if(cached.begin(), cached.end(),
                              [&](const Message& m) { return m.seq <= gap_top; }),
               cached.end());
  if (!cached.empty()) {
    tv.floor = cached.front().seq;
    tv.pinned = true;
    dirty_timelines_.insert(channel);
    emit(HistoryLoaded{channel, cached.size(), tv.floor > 1, false});
    flush_views();
    return {};
  }
  if (tv.floor == 1) {
    emit(HistoryLoaded{channel, 0, false, false});
    return {};
  }
  if (!live()) return Error{Errc::not_connected, "older history is not cached; connect first"};
  proto::History h;
  h.id = next_id();
  h.channel = channel;
  if (tv.floor != 0) h.before = tv.floor;  // nothing held yet: no `before` = the newest page
  h.limit = static_cast<std::uint32_t>(page);
  track(h.id, Pending{Pending::Kind::history, 0, channel, true});
  send(std::move(h));
  return {};
}

Result<void> Core::load_newer(const std::string& channel) {
  if (!store_.channel_row(channel)) return Error{Errc::not_found, "unknown channel"};
  if (!live()) return Error{Errc::not_connected, "needs a live connection"};
  proto::History h;
  h.id = next_id();
  h.channel = channel;
  h.after = store_.max_seq(channel);
  h.limit = opt_.history_page;
  track(h.id, Pending{Pending::Kind::history, 0, channel, false});
  send(std::move(h));
  return {};
}

void Core::handle(const proto::HistoryPage& f) {
  auto it = pending_.find(f.id);
  if (it == pending_.end()) return;
  Pending p = it->second;
  pending_.erase(it);
  if (!store_.channel_row(f.channel)) return;
  Seq lo = 0, hi = 0;
  {
    Transaction tx(store_);
    for (const auto& m : f.messages) {
      apply_message(m);
      lo = lo == 0 ? m.seq : std::min(lo, m.seq);
      hi = std::max(hi, m.seq);
    }
    if (p.older) {
      auto tl = timelines_.find(f.channel);
      Seq before = tl != timelines_.end() ? tl->second.floor : 0;
      if (before == 0) before = hi + 1;
      // The page is every message in [lo, before): no hole there any more.
      if (lo != 0) store_.fill_gap(f.channel, lo, before - 1);
      if (!f.more_before) store_.fill_gap(f.channel, 1, lo == 0 ? before - 1 : lo - 1);
    } else if (lo != 0) {
      store_.fill_gap(f.channel, lo, hi);
    }
    (void)tx.commit();
  }
  if (p.older && lo != 0) {
    auto tl = timelines_.find(f.channel);
    if (tl != timelines_.end()) {
      tl->second.floor = tl->second.floor == 0 ? lo : std::min(tl->second.floor, lo);
      tl->second.pinned = true;
      dirty_timelines_.insert(f.channel);
    }
  }
  if (hi != 0) note_received(f.channel, hi);
  emit(HistoryLoaded{f.channel, f.messages.size(), f.more_before, f.more_after});
  maybe_evict();
}

// ---- cache cap --------------------------------------------------------------------------

void Core::maybe_evict() {
  if (opt_.cache_cap_bytes == 0) return;
  std::uint64_t before = store_.used_bytes();
  if (before <= opt_.cache_cap_bytes) return;
  std::vector<std::pair<std::string, Seq>> protect;
  for (const auto& [ch, tv] : timelines_)
    protect.emplace_back(ch, tv.floor);
  std::uint64_t total = 0;
  std::uint64_t used = before;
  while (used > opt_.cache_cap_bytes) {
    Transaction tx(store_);
    std::size_t n = store_.evict_oldest(256, protect);
    (void)tx.commit();
    if (n == 0) break;
    total += n;
    used = store_.used_bytes();
  }
  if (total == 0) return;
  list_rebuild_ = true;
  emit(CacheEvicted{total, before, used});
}

}  // namespace chatsdk::client
