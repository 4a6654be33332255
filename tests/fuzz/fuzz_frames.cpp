// libFuzzer target: the protocol codec (common/protocol/codec.hpp).
//
// Every input is decoded as a client frame and as a server frame, whole and
// split as a batch. Decoding must never crash; whatever decodes must re-encode
// to bytes that decode again and re-encode identically:
// encode(decode(encode(x))) == encode(x). Any violation aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/protocol/codec.hpp"

namespace {

namespace proto = chatsdk::proto;

[[noreturn]] void fail(const char* what, std::string_view bytes) {
  std::fprintf(stderr, "%s: %.*s\n", what,
               static_cast<int>(std::min<std::size_t>(bytes.size(), 2000)), bytes.data());
  std::abort();
}

/// `decode(bytes, max_bytes)` is decode_client or decode_server; `limit` its default cap.
template <class Decode>
void check(std::string_view input, Decode decode, std::size_t limit) {
  auto first = decode(input, limit);
  if (!first.ok()) return;
  const std::string encoded = proto::encode(*first);
  if (encoded.find('\n') != std::string::npos) fail("encoding contains a raw newline", encoded);
  // An encoding may be longer than its input (escapes), so lift the size cap:
  // this checks the codec's round trip, not the transport limit.
  auto second = decode(encoded, std::max(limit, encoded.size()));
  if (!second.ok()) fail("re-encoded frame does not decode", encoded);
  const std::string reencoded = proto::encode(*second);
  if (reencoded != encoded) fail("re-encoding differs", reencoded);
}

void check_both(std::string_view bytes) {
  check(
      bytes, [](std::string_view b, std::size_t max) { return proto::decode_client(b, max); },
      proto::kMaxClientMessageBytes);
  check(
      bytes, [](std::string_view b, std::size_t max) { return proto::decode_server(b, max); },
      proto::kMaxServerMessageBytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)proto::peek_request_id(input);
  check_both(input);
  const auto parts = proto::split_batch(input);
  if (parts.size() > 1) {
    for (const auto part : parts)
      check_both(part);
  }
  return 0;
}
