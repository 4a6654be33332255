// Ephemeral state: receipt cursors (in memory, written behind in one batch per
// flush), typing relay and presence. None of it bumps a channel version or
// waits on the message path.
#include <algorithm>

#include "server/engine/engine_impl.hpp"
#include "server/log.hpp"

namespace chatsdk::server {

// ------------------------------------------------------------------ receipts

bool Engine::advance_cursor(MemberSlot& slot, proto::Seq read, proto::Seq delivered,
                            SessionId origin, bool notify) {
  Channel& ch = *slot.channel;
  read = std::min(read, ch.info.last_seq);
  delivered = std::min(delivered, ch.info.last_seq);
  bool moved = false;
  if (read > slot.read_seq) {
    slot.read_seq = read;
    moved = true;
  }
  if (delivered > slot.delivered_seq) {
    slot.delivered_seq = delivered;
    moved = true;
  }
  if (!moved) return false;
  auto& p = pending_cursors_[{slot.user->id, ch.info.channel}];
  p.first = std::max(p.first, slot.read_seq);
  p.second = std::max(p.second, slot.delivered_seq);
  if (!notify) return true;
  const Bytes bytes =
      encode(proto::Receipt{ch.info.channel, slot.user->id, slot.read_seq, slot.delivered_seq});
  to_user(*slot.user, bytes, origin);
  if (ch.small(config_.small_channel_threshold)) fanout(ch, bytes, 0, slot.user);
  return true;
}

void Engine::on_mark_read(Session& s, proto::MarkRead& f) {
  MemberSlot* slot = require_member(s, f.id, f.channel);
  if (slot == nullptr) return;
  advance_cursor(*slot, f.seq, 0, s.id, true);
  reply(s.id, proto::Ok{f.id, slot->channel->info.channel, 0});
}

void Engine::on_mark_delivered(Session& s, proto::MarkDelivered& f) {
  // All or nothing: a cursor for a channel the user is not in fails the frame.
  std::vector<MemberSlot*> slots;
  slots.reserve(f.cursors.size());
  for (const auto& c : f.cursors) {
    MemberSlot* slot = require_member(s, f.id, c.channel);
    if (slot == nullptr) return;
    slots.push_back(slot);
  }
  for (std::size_t i = 0; i < slots.size(); ++i) {
    advance_cursor(*slots[i], 0, f.cursors[i].seq, s.id, true);
  }
  if (f.id != 0) reply(s.id, proto::Ok{f.id, {}, 0});
}

void Engine::flush_receipts() {
  if (pending_cursors_.empty() || store_closing_) return;
  store::CursorsOp op;
  op.updates.reserve(pending_cursors_.size());
  for (auto& [key, seqs] : pending_cursors_) {
    op.updates.push_back(store::CursorUpdate{key.first, key.second, seqs.first, seqs.second});
  }
  pending_cursors_.clear();
  auto retry = std::make_shared<std::vector<store::CursorUpdate>>(op.updates);
  write(std::move(op), [this, retry](store::WriteResult& r) {
    if (r.ok()) return;
    // Nothing was stored: merge back so the next flush retries (max semantics).
    log::warn("receipts_flush_failed",
              {{"code", errc_name(r.error.code)}, {"count", retry->size()}});
    if (draining_) return;
    for (const auto& u : *retry) {
      auto& p = pending_cursors_[{u.user, u.channel}];
      p.first = std::max(p.first, u.read_seq);
      p.second = std::max(p.second, u.delivered_seq);
    }
  });
}

// ------------------------------------------------------------------ typing

void Engine::on_typing(Session& s, proto::Typing& f) {
  MemberSlot* slot = require_member(s, 0, f.channel);
  if (slot == nullptr) return;
  Channel& ch = *slot->channel;
  if (!ch.small(config_.small_channel_threshold)) return;
  if (s.typing.take(config_.typing_per_second, config_.typing_per_second, clock_.steady_ms())) {
    return;  // over 2/s: dropped silently
  }
  fanout(ch, encode(proto::TypingEvent{ch.info.channel, s.user->id, f.state}), 0, s.user);
}

// ------------------------------------------------------------------ presence

void Engine::presence_changed(UserEntry& user) {
  if (draining_) return;
  if (++mark_epoch_ == 0) {
    for (auto& [id, u] : users_)
      u->mark = 0;
    mark_epoch_ = 1;
  }
  const std::uint32_t epoch = mark_epoch_;
  user.mark = epoch;
  Bytes bytes;
  // Only direct and small group channels, and only their online members: a
  // user in large channels costs nothing here.
  for (const MemberSlot* mine : user.memberships) {
    Channel& ch = *mine->channel;
    if (!ch.small(config_.small_channel_threshold)) continue;
    for (const MemberSlot* other : ch.online) {
      UserEntry& peer = *other->user;
      if (peer.mark == epoch) continue;
      peer.mark = epoch;
      if (!bytes) {
        const bool online = user.online();
        bytes = encode(proto::PresenceEvent{user.id, online, online ? 0 : user.last_seen});
      }
      to_user(peer, bytes, 0);
    }
  }
}

}  // namespace chatsdk::server
