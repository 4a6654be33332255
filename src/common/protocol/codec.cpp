#include "common/protocol/codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <array>
#include <cstring>
#include <utility>

#include "common/protocol/json_reader.hpp"
#include "common/protocol/json_writer.hpp"

namespace chatsdk::proto {
namespace {

constexpr rapidjson::SizeType kMaxObjectMembers = 256;

struct Prescan {
  bool depth_ok = true;
  bool ascii = true;
};

// One linear pass before the parser sees the input. It rejects nesting deeper
// than kMaxDepth, so a nesting bomb costs this scan and never recursion, and
// notes whether every byte is ASCII: ASCII is valid UTF-8, so the parser can
// then skip its byte-by-byte validation (the common frame is all ASCII).
Prescan prescan(std::string_view s) noexcept {
  int depth = 0;
  unsigned high = 0;  // OR of every byte: bit 7 set if any byte is not ASCII
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const char c = *p++;
    high |= static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        // Skip the string to its closing quote; a backslash escapes one byte.
        while (p < end) {
          const char d = *p++;
          high |= static_cast<unsigned char>(d);
          if (d == '"') break;
          if (d == '\\' && p < end) high |= static_cast<unsigned char>(*p++);
        }
        break;
      case '{':
      case '[':
        if (++depth > kMaxDepth) return {false, false};
        break;
      case '}':
      case ']':
        --depth;
        break;
      default:
        break;
    }
  }
  return {true, (high & 0x80U) == 0};
}

// RapidJSON 1.1 decodes a lone low-surrogate escape ("\udc00") into the bytes
// ED B0..BF xx, which are not UTF-8; a lone high surrogate is already a parse
// error, so treat both the same.
bool has_surrogate_bytes(const rapidjson::Value& s) noexcept {
  const char* p = s.GetString();
  const std::size_t n = s.GetStringLength();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (static_cast<unsigned char>(p[i]) == 0xED && static_cast<unsigned char>(p[i + 1]) >= 0xA0) {
      return true;
    }
  }
  return false;
}

// Duplicate keys would make "which value counts" implementation-defined across
// languages; reject them everywhere, metadata included. Also rejects strings
// carrying surrogate code points.
Errc check_objects(const rapidjson::Value& v) noexcept {
  if (v.IsString()) return has_surrogate_bytes(v) ? Errc::malformed_frame : Errc::ok;
  if (v.IsObject()) {
    if (v.MemberCount() > kMaxObjectMembers) return Errc::out_of_range;
    for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
      for (auto b = a + 1; b != v.MemberEnd(); ++b) {
        if (has_surrogate_bytes(a->name)) return Errc::malformed_frame;
        if (a->name.GetStringLength() == b->name.GetStringLength() &&
            std::memcmp(a->name.GetString(), b->name.GetString(), a->name.GetStringLength()) == 0) {
          return Errc::malformed_frame;
        }
      }
      const Errc inner = check_objects(a->value);
      if (inner != Errc::ok) return inner;
    }
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      const Errc inner = check_objects(item);
      if (inner != Errc::ok) return inner;
    }
  }
  return Errc::ok;
}

template <class Variant>
struct Registry;

template <class... Frames>
struct Registry<std::variant<Frames...>> {
  using Variant = std::variant<Frames...>;
  using Decoder = Result<Variant> (*)(const rapidjson::Value&);

  static constexpr std::array<std::string_view, sizeof...(Frames)> kNames{Frames::kType...};

  template <class F>
  static Result<Variant> decode_as(const rapidjson::Value& object) {
    F frame{};
    detail::JsonReader reader(object);
    frame.fields(reader);
    if (reader.failed()) return reader.error();
    return Variant{std::move(frame)};
  }

  static constexpr std::array<Decoder, sizeof...(Frames)> kDecoders{&decode_as<Frames>...};
};

template <class Variant>
Result<Variant> decode_frame(std::string_view bytes, std::size_t max_bytes) {
  using Reg = Registry<Variant>;
  if (bytes.size() > max_bytes) return Error{Errc::frame_too_large, "frame exceeds the size limit"};
  const Prescan scan = prescan(bytes);
  if (!scan.depth_ok) return Error{Errc::too_deep, "JSON nesting exceeds 16 levels"};

  // A stack buffer serves the DOM of a typical frame without touching malloc;
  // bigger frames spill into heap chunks. The parse stack's first block must
  // fit in its buffer next to the pool's chunk header: asking for the whole
  // buffer made every decode malloc a 64 KiB chunk.
  char value_buffer[8192];
  char parse_buffer[2048];
  constexpr std::size_t kParseStackBytes = 1024;
  static_assert(kParseStackBytes + 64 <= sizeof parse_buffer);
  rapidjson::MemoryPoolAllocator<> value_alloc(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_alloc(parse_buffer, sizeof parse_buffer);
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      doc(&value_alloc, kParseStackBytes, &parse_alloc);
  if (scan.ascii) {
    doc.Parse<rapidjson::kParseDefaultFlags>(bytes.data(), bytes.size());
  } else {
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(bytes.data(), bytes.size());
  }
  if (doc.HasParseError()) {
    const auto code = doc.GetParseError();
    if (code == rapidjson::kParseErrorStringInvalidEncoding) {
      return Error{Errc::invalid_utf8, "frame is not valid UTF-8"};
    }
    return Error{Errc::malformed_frame, std::string("invalid JSON: ") +
                                            rapidjson::GetParseError_En(code) + " at offset " +
                                            std::to_string(doc.GetErrorOffset())};
  }
  if (!doc.IsObject()) return Error{Errc::malformed_frame, "frame must be a JSON object"};
  if (const Errc c = check_objects(doc); c != Errc::ok) {
    return Error{c, c == Errc::malformed_frame ? "duplicate object key or lone surrogate escape"
                                               : "object has too many keys"};
  }

  const rapidjson::Value* type = detail::find_member(doc, "type");
  if (type == nullptr || type->IsNull()) {
    return Error{Errc::missing_field, "field 'type' is required"};
  }
  if (!type->IsString()) return Error{Errc::wrong_type, "field 'type' must be a string"};
  const std::string_view name(type->GetString(), type->GetStringLength());
  for (std::size_t i = 0; i < Reg::kNames.size(); ++i) {
    if (Reg::kNames[i] == name) return Reg::kDecoders[i](doc);
  }
  std::string shown(name.substr(0, 64));
  return Error{Errc::unknown_type, "unknown frame type '" + shown + "'"};
}

// A scratch buffer bigger than this is released after use (one huge history
// page must not pin megabytes per thread).
constexpr std::size_t kKeepScratchBytes = 64 * 1024;

template <class Variant>
void encode_frame(const Variant& frame, std::string& out) {
  // Written into a per-thread scratch string, then appended to `out` in one
  // copy: the sink's worst-case reservations land in a buffer that is reused,
  // and `out` gets exactly the frame's bytes (queued frames are accounted by
  // size), without growing a fresh string two or three times.
  thread_local std::string scratch;
  scratch.clear();
  {
    detail::StringSink sink(scratch);
    detail::Writer writer(sink);
    detail::JsonWriter fields(writer);
    std::visit(
        [&](const auto& f) {
          using F = std::decay_t<decltype(f)>;
          writer.StartObject();
          writer.Key("type");
          writer.String(F::kType.data(), static_cast<rapidjson::SizeType>(F::kType.size()));
          const_cast<F&>(f).fields(fields);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
          writer.EndObject();
        },
        frame);
  }
  out.append(scratch);
  if (scratch.capacity() > kKeepScratchBytes) scratch = std::string();
}

}  // namespace

Result<ClientFrame> decode_client(std::string_view bytes, std::size_t max_bytes) {
  return decode_frame<ClientFrame>(bytes, max_bytes);
}

Result<ServerFrame> decode_server(std::string_view bytes, std::size_t max_bytes) {
  return decode_frame<ServerFrame>(bytes, max_bytes);
}

void encode_to(const ClientFrame& frame, std::string& out) {
  encode_frame(frame, out);
}
void encode_to(const ServerFrame& frame, std::string& out) {
  encode_frame(frame, out);
}

std::string encode(const ClientFrame& frame) {
  std::string out;
  encode_frame(frame, out);
  return out;
}

std::string encode(const ServerFrame& frame) {
  std::string out;
  encode_frame(frame, out);
  return out;
}

std::vector<std::string_view> split_batch(std::string_view message) {
  std::vector<std::string_view> frames;
  while (!message.empty()) {
    const auto nl = message.find('\n');
    auto line = message.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) frames.push_back(line);
    if (nl == std::string_view::npos) break;
    message.remove_prefix(nl + 1);
  }
  return frames;
}

RequestId peek_request_id(std::string_view bytes) noexcept {
  // Looks for a top-level-looking "id": <digits> without parsing; good enough to
  // label an error reply, never trusted for anything else.
  constexpr std::string_view key = "\"id\"";
  std::size_t pos = 0;
  while ((pos = bytes.find(key, pos)) != std::string_view::npos) {
    std::size_t i = pos + key.size();
    while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t'))
      ++i;
    if (i < bytes.size() && bytes[i] == ':') {
      ++i;
      while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t'))
        ++i;
      RequestId id = 0;
      std::size_t digits = 0;
      while (i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9' && digits < 16) {
        id = id * 10 + static_cast<RequestId>(bytes[i] - '0');
        ++i;
        ++digits;
      }
      if (digits > 0 && id <= kMaxSafeInteger) return id;
      return 0;
    }
    pos += key.size();
  }
  return 0;
}

std::span<const std::string_view> client_frame_types() {
  return Registry<ClientFrame>::kNames;
}
std::span<const std::string_view> server_frame_types() {
  return Registry<ServerFrame>::kNames;
}

std::string_view type_name(const ClientFrame& frame) {
  return std::visit([](const auto& f) { return std::decay_t<decltype(f)>::kType; }, frame);
}
std::string_view type_name(const ServerFrame& frame) {
  return std::visit([](const auto& f) { return std::decay_t<decltype(f)>::kType; }, frame);
}

}  // namespace chatsdk::proto
