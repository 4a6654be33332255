// A session's outgoing frames, bounded in bytes, drained by coalescing as
// many frames as fit into one WebSocket message ('\n'-joined).
//
// Memory: an idle session's queue owns no heap memory (an empty vector); the
// frames themselves are shared with every other session they were fanned
// out to (Bytes is a shared_ptr).
//
//   SendQueue q;
//   if (!q.push(frame, max_bytes)) close_slow_consumer();
//   std::size_t n = q.coalesce_into(buffer, 256 * 1024);   // frames moved out
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "server/api.hpp"

namespace chatsdk::server {

class SendQueue {
 public:
  /// Appends `frame`; false (and nothing queued) when the queued bytes would
  /// exceed `max_bytes` — except that an empty queue takes any one frame.
  /// An empty frame is ignored (true).
  bool push(Bytes frame, std::size_t max_bytes);
  /// Appends queued frames to `out`, '\n'-separated, while the total stays
  /// within `cap` bytes — but always at least one frame, however large, so a
  /// big frame is never stuck. Returns the number of frames moved out.
  std::size_t coalesce_into(std::string& out, std::size_t cap);
  /// Drops everything and releases the memory.
  void clear();

  bool empty() const { return head_ == frames_.size(); }
  std::size_t frames() const { return frames_.size() - head_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::vector<Bytes> frames_;
  std::size_t head_ = 0;   // first unsent frame (compacted lazily)
  std::size_t bytes_ = 0;  // sum of the unsent frames' sizes
};

}  // namespace chatsdk::server
