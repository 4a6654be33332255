#include "server/transport/send_queue.hpp"

#include <utility>

namespace chatsdk::server {

bool SendQueue::push(Bytes frame, std::size_t max_bytes) {
  if (!frame || frame->empty()) return true;
  // An empty queue takes any one frame: a single large reply (a sync page)
  // must not count as a slow consumer by itself.
  if (bytes_ != 0 && bytes_ + frame->size() > max_bytes) return false;
  bytes_ += frame->size();
  frames_.push_back(std::move(frame));
  return true;
}

std::size_t SendQueue::coalesce_into(std::string& out, std::size_t cap) {
  std::size_t moved = 0;
  std::size_t used = 0;
  while (head_ < frames_.size()) {
    const std::string& f = *frames_[head_];
    const std::size_t need = f.size() + (moved ? 1 : 0);
    if (moved && used + need > cap) break;
    if (moved) out.push_back('\n');
    out.append(f);
    used += need;
    bytes_ -= f.size();
    frames_[head_].reset();
    ++head_;
    ++moved;
  }
  if (head_ == frames_.size()) {
    // Drained: give the memory back so idle sessions stay small.
    std::vector<Bytes>().swap(frames_);
    head_ = 0;
  } else if (head_ > 64 && head_ * 2 > frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return moved;
}

void SendQueue::clear() {
  std::vector<Bytes>().swap(frames_);
  head_ = 0;
  bytes_ = 0;
}

}  // namespace chatsdk::server
