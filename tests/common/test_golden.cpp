// Replays the golden transcripts in tests/data/golden/*.jsonl (format:
// tests/data/golden/README.md) through decode_client / decode_server and
// encode, so the wire format cannot change by accident.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chatsdk/errc.hpp"
#include "common/protocol/codec.hpp"

namespace {

using namespace chatsdk;
namespace fs = std::filesystem;

struct Case {
  std::string where;  // file:line — note
  bool server = false;
  std::string in;
  bool expect_ok = false;
  std::string canonical;
  std::string code;
  std::string pending;  // non-empty: a known codec bug; the case must currently fail
};

fs::path golden_dir() {
  return fs::path(CHATSDK_SOURCE_DIR) / "tests" / "data" / "golden";
}

std::optional<std::string> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string get_string(const rapidjson::Value& obj, const char* key) {
  const auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

/// Replaces every `marker` in `s` with `text` repeated `count` times.
void apply_pad(std::string& s, const std::string& marker, const std::string& fill) {
  if (marker.empty()) return;
  for (std::size_t pos = s.find(marker); pos != std::string::npos;
       pos = s.find(marker, pos + fill.size())) {
    s.replace(pos, marker.size(), fill);
  }
}

/// Parses one transcript line; a malformed line fails the test (the file is wrong).
Case parse_case(const std::string& file, std::size_t line_no, const std::string& line) {
  Case c;
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  c.where = file + ":" + std::to_string(line_no);
  INFO(c.where);
  REQUIRE_MESSAGE((!doc.HasParseError() && doc.IsObject()), "transcript line is not a JSON object");
  c.where += " — " + get_string(doc, "note");

  const std::string dir = get_string(doc, "dir");
  REQUIRE_MESSAGE((dir == "c2s" || dir == "s2c"), "dir must be c2s or s2c");
  c.server = dir == "s2c";

  const bool has_in = doc.HasMember("in");
  const bool has_hex = doc.HasMember("in_hex");
  REQUIRE_MESSAGE(has_in != has_hex, "exactly one of in / in_hex");
  if (has_in) {
    REQUIRE(doc["in"].IsString());
    c.in = get_string(doc, "in");
  } else {
    const auto bytes = from_hex(get_string(doc, "in_hex"));
    REQUIRE_MESSAGE(bytes.has_value(), "in_hex is not hex");
    c.in = *bytes;
  }

  const std::string expect = get_string(doc, "expect");
  REQUIRE_MESSAGE((expect == "ok" || expect == "error"), "expect must be ok or error");
  c.expect_ok = expect == "ok";
  if (c.expect_ok) {
    REQUIRE_MESSAGE(doc.HasMember("canonical"), "an ok case needs canonical");
    c.canonical = get_string(doc, "canonical");
  } else {
    c.code = get_string(doc, "code");
    REQUIRE_MESSAGE(errc_from_name(c.code).has_value(), "unknown error code name " << c.code);
  }
  c.pending = get_string(doc, "pending");

  if (doc.HasMember("pad")) {
    const auto& pad = doc["pad"];
    REQUIRE(pad.IsObject());
    REQUIRE(pad.HasMember("count"));
    REQUIRE(pad["count"].IsUint());
    const std::string text = get_string(pad, "text");
    const unsigned count = pad["count"].GetUint();
    std::string fill;
    fill.reserve(text.size() * count);
    for (unsigned i = 0; i < count; ++i)
      fill.append(text);
    const std::string marker = get_string(pad, "marker");
    REQUIRE_MESSAGE(c.in.find(marker) != std::string::npos, "pad marker not in the input");
    apply_pad(c.in, marker, fill);
    apply_pad(c.canonical, marker, fill);
  }
  return c;
}

std::vector<Case> load_all() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(golden_dir())) {
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 4);
  std::vector<Case> cases;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      cases.push_back(parse_case(path.filename().string(), line_no, line));
    }
  }
  return cases;
}

struct Outcome {
  bool decoded = false;
  std::string type;     // frame type when decoded
  std::string encoded;  // re-encoding when decoded
  std::string code;     // error code name when not
  std::string message;  // error detail when not
};

Outcome run(bool server, std::string_view bytes) {
  Outcome o;
  auto finish = [&](auto result) {
    if (result.ok()) {
      o.decoded = true;
      o.type = std::string(proto::type_name(*result));
      o.encoded = proto::encode(*result);
    } else {
      o.code = std::string(errc_name(result.error().code));
      o.message = result.error().message;
    }
  };
  if (server) {
    finish(proto::decode_server(bytes));
  } else {
    finish(proto::decode_client(bytes));
  }
  return o;
}

/// Long inputs (padded cases) would flood the report; keep both ends.
std::string shorten(const std::string& s) {
  constexpr std::size_t kKeep = 160;
  if (s.size() <= 2 * kKeep) return s;
  return s.substr(0, kKeep) + "...(" + std::to_string(s.size()) + " bytes)..." +
         s.substr(s.size() - kKeep);
}

/// Empty when the codec does what the case expects; else what went wrong.
std::string mismatch(const Case& c) {
  const Outcome got = run(c.server, c.in);
  std::ostringstream why;
  if (!c.expect_ok) {
    if (got.decoded) {
      why << "expected error " << c.code << ", but it decoded as " << shorten(got.encoded);
    } else if (got.code != c.code) {
      why << "expected error " << c.code << ", got " << got.code << " (" << got.message << ")";
    }
    return why.str();
  }
  if (!got.decoded) {
    why << "expected ok, got error " << got.code << " (" << got.message << ")";
  } else if (got.encoded != c.canonical) {
    why << "re-encoding differs\n  expected: " << shorten(c.canonical)
        << "\n  actual:   " << shorten(got.encoded);
  } else {
    // The canonical form is a fixpoint: it decodes and re-encodes to itself.
    const Outcome again = run(c.server, c.canonical);
    if (!again.decoded) {
      why << "canonical form does not decode: " << again.code << " (" << again.message << ")";
    } else if (again.encoded != c.canonical) {
      why << "canonical form is not a fixpoint: " << shorten(again.encoded);
    }
  }
  return why.str();
}

}  // namespace

TEST_CASE("golden transcripts replay through the codec") {
  const auto cases = load_all();
  REQUIRE(cases.size() > 150);
  for (const auto& c : cases) {
    INFO(c.where);
    const std::string why = mismatch(c);
    if (c.pending.empty()) {
      CHECK_MESSAGE(why.empty(), why);
    } else {
      // A known codec bug, documented in the transcript: when the codec gets
      // fixed this fails, so the marker is removed and the case guards the fix.
      CHECK_MESSAGE(!why.empty(), "pending case now passes: remove its \"pending\" marker");
      MESSAGE("known codec bug (pending): " << c.pending << "; " << why);
    }
  }
}

TEST_CASE("golden transcripts cover every frame type and every decode error class") {
  const auto cases = load_all();
  std::set<std::string> client_ok;
  std::set<std::string> server_ok;
  std::set<std::string> error_codes;
  for (const auto& c : cases) {
    if (!c.pending.empty()) continue;
    if (c.expect_ok) {
      const Outcome got = run(c.server, c.canonical);
      if (got.decoded) (c.server ? server_ok : client_ok).insert(got.type);
    } else {
      error_codes.insert(c.code);
    }
  }
  for (auto name : proto::client_frame_types()) {
    INFO("client frame " << name);
    CHECK(client_ok.count(std::string(name)) == 1);
  }
  for (auto name : proto::server_frame_types()) {
    INFO("server frame " << name);
    CHECK(server_ok.count(std::string(name)) == 1);
  }
  for (const char* code :
       {"malformed_frame", "unknown_type", "missing_field", "wrong_type", "invalid_utf8",
        "frame_too_large", "too_deep", "out_of_range", "body_too_large"}) {
    INFO("error class " << code);
    CHECK(error_codes.count(code) == 1);
  }
}
