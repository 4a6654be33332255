// JSON codec for protocol v1 frames.
//
// Contract:
//  - decode_* never throws and never crashes on any input: bad input becomes an
//    Error whose code says which class of problem it was (malformed_frame,
//    unknown_type, missing_field, wrong_type, invalid_utf8, frame_too_large,
//    too_deep, out_of_range, body_too_large).
//  - Unknown fields are ignored (forward compatibility); unknown frame types
//    are errors. `null` for an optional field means absent.
//  - encode_* produces compact JSON with no raw newline, so frames can be
//    batched one per line in a WebSocket message (see split_batch).
//
//   std::string wire = proto::encode(proto::ServerFrame{proto::Pong{7, now}});
//   auto frame = proto::decode_client(bytes);
//   if (!frame) reply_error(frame.error());
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chatsdk/result.hpp"
#include "common/protocol/frames.hpp"
#include "common/protocol/limits.hpp"

namespace chatsdk::proto {

/// Decodes one client->server frame (a single JSON object).
Result<ClientFrame> decode_client(std::string_view bytes,
                                  std::size_t max_bytes = kMaxClientMessageBytes);
/// Decodes one server->client frame.
Result<ServerFrame> decode_server(std::string_view bytes,
                                  std::size_t max_bytes = kMaxServerMessageBytes);

std::string encode(const ClientFrame& frame);
std::string encode(const ServerFrame& frame);
/// Appends the encoding of `frame` to `out` (no separator).
void encode_to(const ClientFrame& frame, std::string& out);
void encode_to(const ServerFrame& frame, std::string& out);

/// Splits a WebSocket message into its frames: one JSON object per line
/// ('\n'-separated; empty lines skipped). A single frame is a batch of one.
std::vector<std::string_view> split_batch(std::string_view message);

/// Best-effort `id` of a request that failed to decode, so the error reply can
/// carry it; 0 when it cannot be found.
RequestId peek_request_id(std::string_view bytes) noexcept;

/// Wire names of every frame type, in variant order (used by the spec check).
std::span<const std::string_view> client_frame_types();
std::span<const std::string_view> server_frame_types();

std::string_view type_name(const ClientFrame& frame);
std::string_view type_name(const ServerFrame& frame);

}  // namespace chatsdk::proto
