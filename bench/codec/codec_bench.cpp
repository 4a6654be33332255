// Codec cost per typical frame (CPU time, not wall time): decode of a client
// `send`, encode of the `message` event it fans out as, and a decode of that
// event as a client would. Prints µs per operation, median of 5 rounds.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "common/protocol/codec.hpp"

using namespace chatsdk::proto;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class F>
double median_us_per_op(int iterations, F&& op) {
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    const double start = cpu_seconds();
    for (int i = 0; i < iterations; ++i)
      op();
    rounds.push_back((cpu_seconds() - start) * 1e6 / iterations);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[2];
}

}  // namespace

int main() {
  const std::string send =
      R"({"type":"send","id":1042,"channel":"team:general","client_id":"01JD3QW9Z5X8K2M4N6P8R0T2V4",)"
      R"("body":"Hey, are we still on for the design review at 3pm? I moved it to room B.",)"
      R"("mentions":["bob"]})";
  MessageEvent event;
  event.change = MessageChange::created;
  event.actor = "alice";
  event.message.channel = "team:general";
  event.message.seq = 18234;
  event.message.version = 40211;
  event.message.sender = "alice";
  event.message.client_id = "01JD3QW9Z5X8K2M4N6P8R0T2V4";
  event.message.body = "Hey, are we still on for the design review at 3pm? I moved it to room B.";
  event.message.created_at = 1764037200123;
  event.message.mentions = {"bob"};
  const ServerFrame frame{event};
  const std::string wire = encode(frame);

  std::size_t sink = 0;
  const int n = 200000;
  const double dec = median_us_per_op(n, [&] {
    auto r = decode_client(send);
    sink += r.ok() ? std::get<Send>(*r).body.size() : 0;
  });
  const double enc = median_us_per_op(n, [&] { sink += encode(frame).size(); });
  const double dec_ev = median_us_per_op(n, [&] {
    auto r = decode_server(wire);
    sink += r.ok() ? 1U : 0U;
  });
  std::printf("frame_bytes send=%zu message_event=%zu\n", send.size(), wire.size());
  std::printf(
      "RESULT codec decode_send_us=%.3f encode_message_event_us=%.3f "
      "decode_message_event_us=%.3f (sink %zu)\n",
      dec, enc, dec_ev, sink);
  return 0;
}
