// SendQueue: bounded in bytes, coalesces '\n'-joined, releases memory.
#include <doctest/doctest.h>

#include "server/transport/send_queue.hpp"

using chatsdk::server::make_bytes;
using chatsdk::server::SendQueue;

TEST_CASE("send queue: bounded in bytes, overflow queues nothing") {
  SendQueue q;
  CHECK(q.push(make_bytes(std::string(60, 'a')), 100));
  CHECK(q.push(make_bytes(std::string(40, 'b')), 100));
  CHECK_FALSE(q.push(make_bytes("c"), 100));
  CHECK(q.bytes() == 100);
  CHECK(q.frames() == 2);
  CHECK(q.push(make_bytes(""), 100));  // empty frames are ignored
  CHECK(q.frames() == 2);
}

TEST_CASE("send queue: an empty queue takes one frame of any size") {
  SendQueue q;
  CHECK(q.push(make_bytes(std::string(500, 'a')), 100));  // a large reply is not a slow consumer
  CHECK_FALSE(q.push(make_bytes("b"), 100));
  std::string out;
  CHECK(q.coalesce_into(out, 1000) == 1);
  CHECK(q.push(make_bytes("b"), 100));
}

TEST_CASE("send queue: coalesces within the cap, at least one frame, in order") {
  SendQueue q;
  for (int i = 0; i < 10; ++i)
    REQUIRE(q.push(make_bytes("frame" + std::to_string(i)), 1 << 20));
  std::string out;
  CHECK(q.coalesce_into(out, 20) == 3);  // "frame0\nframe1\nframe2" = 20 bytes
  CHECK(out == "frame0\nframe1\nframe2");
  out.clear();
  CHECK(q.coalesce_into(out, 1 << 20) == 7);
  CHECK(out.substr(0, 7) == "frame3\n");
  CHECK(q.empty());
  CHECK(q.bytes() == 0);

  REQUIRE(q.push(make_bytes(std::string(100, 'x')), 1 << 20));
  REQUIRE(q.push(make_bytes("y"), 1 << 20));
  out.clear();
  CHECK(q.coalesce_into(out, 10) == 1);  // a frame over the cap still goes, alone
  CHECK(out.size() == 100);
  out.clear();
  CHECK(q.coalesce_into(out, 10) == 1);
  CHECK(out == "y");
}

TEST_CASE("send queue: the same Bytes can be queued to many queues (fan-out)") {
  auto shared = make_bytes("event");
  SendQueue a, b;
  CHECK(a.push(shared, 100));
  CHECK(b.push(shared, 100));
  CHECK(shared.use_count() == 3);
  std::string out;
  a.coalesce_into(out, 100);
  CHECK(shared.use_count() == 2);
  b.clear();
  CHECK(shared.use_count() == 1);
}
