// Keeps docs/protocol.md and the code from drifting apart: every frame type has
// exactly its heading, every field of every frame and shared type has a table
// row, every error code has its row (number and retryable flag included), and
// every JSON example in the document decodes.
#include <doctest/doctest.h>

#include <cstddef>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chatsdk/errc.hpp"
#include "common/protocol/codec.hpp"

namespace {

using namespace chatsdk;

std::string read_doc() {
  std::ifstream in(CHATSDK_SOURCE_DIR "/docs/protocol.md", std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open docs/protocol.md");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

/// The document cut into level-3 sections ("### X" up to the next heading of
/// level 1-3), ignoring '#' lines inside fenced code blocks.
struct Doc {
  std::vector<std::string> frame_headings;            // "### `name`", in order
  std::map<std::string, std::string> frame_sections;  // name -> text (duplicates joined)
  std::map<std::string, std::string> other_sections;  // "### Message" -> text
  std::vector<std::string> lines;
};

Doc parse_doc() {
  Doc doc;
  doc.lines = split_lines(read_doc());
  std::string* current = nullptr;
  bool in_fence = false;
  for (const auto& line : doc.lines) {
    if (line.rfind("```", 0) == 0) in_fence = !in_fence;
    if (!in_fence && !line.empty() && line[0] == '#') {
      current = nullptr;
      if (line.rfind("### ", 0) == 0) {
        const std::string title = line.substr(4);
        if (title.size() > 2 && title.front() == '`' && title.back() == '`') {
          const std::string name = title.substr(1, title.size() - 2);
          doc.frame_headings.push_back(name);
          current = &doc.frame_sections[name];
        } else {
          current = &doc.other_sections[title];
        }
      }
      continue;
    }
    if (current != nullptr) {
      *current += line;
      *current += '\n';
    }
  }
  return doc;
}

/// Records the wire names of a struct's fields (the member itself is ignored).
struct FieldNames {
  std::vector<std::string> names;
  template <class T, class... C>
  void req(const char* name, T& /*member*/, C... /*constraint*/) {
    names.emplace_back(name);
  }
  template <class T, class... C>
  void opt(const char* name, T& /*member*/, C... /*constraint*/) {
    names.emplace_back(name);
  }
};

template <class T>
std::vector<std::string> field_names() {
  T value{};
  FieldNames v;
  value.fields(v);
  return v.names;
}

template <class Variant, class F, std::size_t... I>
void for_each_alternative_impl(F&& f, std::index_sequence<I...> /*indexes*/) {
  (f(std::variant_alternative_t<I, Variant>{}), ...);
}

template <class Variant, class F>
void for_each_alternative(F&& f) {
  for_each_alternative_impl<Variant>(std::forward<F>(f),
                                     std::make_index_sequence<std::variant_size_v<Variant>>{});
}

bool has_field_row(const std::string& section, const std::string& field) {
  return section.find("| `" + field + "` |") != std::string::npos;
}

/// Number of errc codes: names are dense from 0 until errc_name says "unknown".
int errc_count() {
  int n = 0;
  while (errc_name(static_cast<Errc>(n)) != "unknown")
    ++n;
  return n;
}

/// Every line of every ```json block in `text`.
std::vector<std::string> json_example_lines(const std::string& text) {
  std::vector<std::string> out;
  bool in_json = false;
  for (const auto& line : split_lines(text)) {
    if (line.rfind("```", 0) == 0) {
      in_json = line == "```json";
      continue;
    }
    if (in_json && !line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("protocol.md has exactly one frame heading per frame type and direction") {
  const Doc doc = parse_doc();
  std::multiset<std::string> expected;
  for (auto name : proto::client_frame_types())
    expected.emplace(name);
  for (auto name : proto::server_frame_types())
    expected.emplace(name);
  REQUIRE(expected.size() == 43);

  // A name used in both directions ("typing") may be documented under one
  // heading covering both, or under one heading per direction.
  std::multiset<std::string> found(doc.frame_headings.begin(), doc.frame_headings.end());
  for (const auto& name : found) {
    INFO("heading ### `" << name << "`");
    CHECK(expected.count(name) > 0);
    CHECK(found.count(name) <= expected.count(name));
  }
  for (const auto& name : expected) {
    INFO("frame type " << name);
    CHECK(found.count(name) >= 1);
  }
}

TEST_CASE("protocol.md documents every field of every frame in that frame's section") {
  const Doc doc = parse_doc();
  auto check_frame = [&](auto frame) {
    using F = decltype(frame);
    const std::string name(F::kType);
    const auto it = doc.frame_sections.find(name);
    INFO("frame " << name);
    if (it == doc.frame_sections.end()) {
      FAIL_CHECK("no section for the frame");
      return;
    }
    CHECK(has_field_row(it->second, "type"));
    CHECK(it->second.find("```json") != std::string::npos);  // a realistic example
    for (const auto& field : field_names<F>()) {
      INFO("field " << field);
      CHECK(has_field_row(it->second, field));
    }
  };
  for_each_alternative<proto::ClientFrame>(check_frame);
  for_each_alternative<proto::ServerFrame>(check_frame);
}

TEST_CASE("protocol.md documents every field of the shared object types") {
  const Doc doc = parse_doc();
  auto check_type = [&](const std::string& title, const std::vector<std::string>& fields) {
    INFO("### " << title);
    const auto it = doc.other_sections.find(title);
    REQUIRE(it != doc.other_sections.end());
    for (const auto& field : fields) {
      INFO("field " << field);
      CHECK(has_field_row(it->second, field));
    }
  };
  check_type("Message", field_names<proto::Message>());
  check_type("ChannelInfo", field_names<proto::ChannelInfo>());
  check_type("Member", field_names<proto::Member>());
  check_type("ChannelCursor", field_names<proto::ChannelCursor>());
  check_type("SeqCursor", field_names<proto::SeqCursor>());
  check_type("ChannelSync", field_names<proto::ChannelSync>());
  check_type("UserProfile", field_names<proto::UserProfile>());
  check_type("PresenceInfo", field_names<proto::PresenceInfo>());
  check_type("Limits", field_names<proto::Limits>());
  check_type("Reaction", field_names<proto::Reaction>());
}

TEST_CASE("protocol.md lists every error code with its number and retryability") {
  const std::string text = read_doc();
  const int n = errc_count();
  REQUIRE(n > 30);
  for (int i = 0; i < n; ++i) {
    const auto code = static_cast<Errc>(i);
    const std::string name(errc_name(code));
    INFO("error code " << name);
    CHECK(text.find("`" + name + "`") != std::string::npos);
    const std::string row = "| `" + name + "` | " + std::to_string(i) + " | " +
                            (errc_retryable(code) ? "yes" : "no") + " |";
    CHECK(text.find(row) != std::string::npos);
  }
}

TEST_CASE("protocol.md lists every close code") {
  const std::string text = read_doc();
  using proto::CloseCode;
  const std::pair<CloseCode, const char*> codes[] = {
      {CloseCode::normal, "normal"},
      {CloseCode::going_away, "going_away"},
      {CloseCode::invalid_payload, "invalid_payload"},
      {CloseCode::too_big, "too_big"},
      {CloseCode::auth_failed, "auth_failed"},
      {CloseCode::auth_timeout, "auth_timeout"},
      {CloseCode::token_expired, "token_expired"},
      {CloseCode::protocol_error, "protocol_error"},
      {CloseCode::unsupported_protocol, "unsupported_protocol"},
      {CloseCode::rate_limited, "rate_limited"},
      {CloseCode::slow_consumer, "slow_consumer"},
      {CloseCode::idle_timeout, "idle_timeout"},
      {CloseCode::kicked, "kicked"},
  };
  std::size_t rows = 0;
  for (const auto& line : split_lines(text)) {
    // Close-code rows are the only table rows starting with a 4-digit number.
    if (line.size() > 8 && line.rfind("| ", 0) == 0 && line[2] >= '1' && line[2] <= '4' &&
        line.substr(6, 3) == " | ") {
      ++rows;
    }
  }
  CHECK(rows == std::size(codes));
  for (const auto& entry : codes) {
    const std::string row = "| " + std::to_string(static_cast<int>(entry.first)) + " | `" +
                            std::string(entry.second) + "` |";
    INFO(row);
    CHECK(text.find(row) != std::string::npos);
  }
}

TEST_CASE("every JSON example in a frame section decodes as that frame") {
  const Doc doc = parse_doc();
  std::size_t examples = 0;
  for (const auto& entry : doc.frame_sections) {
    // Structured bindings cannot be captured by doctest's INFO lambda (clang 14).
    const std::string& name = entry.first;
    for (const auto& line : json_example_lines(entry.second)) {
      INFO("### `" << name << "` example: " << line);
      auto c = proto::decode_client(line);
      auto s = proto::decode_server(line);
      const bool as_client = c.ok() && proto::type_name(*c) == name;
      const bool as_server = s.ok() && proto::type_name(*s) == name;
      CHECK((as_client || as_server));
      ++examples;
    }
  }
  CHECK(examples >= 43);
}

TEST_CASE("the example session's frames decode in their direction") {
  // A client frame shown as invalid on purpose must be answered, on the next
  // server line, by an `error` carrying exactly the code the codec reports.
  const Doc doc = parse_doc();
  std::size_t to_server = 0;
  std::size_t to_client = 0;
  std::string expected_error;
  bool in_json = false;
  for (const auto& line : doc.lines) {
    if (line.rfind("```", 0) == 0) {
      in_json = line == "```json";
      continue;
    }
    if (!in_json) continue;
    INFO(line);
    // "→ " and "← " are 4 bytes in UTF-8 (3-byte arrow + space).
    if (line.rfind("→ ", 0) == 0) {
      CHECK(expected_error.empty());
      auto frame = proto::decode_client(std::string_view(line).substr(4));
      if (!frame.ok()) expected_error = errc_name(frame.error().code);
      ++to_server;
    } else if (line.rfind("← ", 0) == 0) {
      auto frame = proto::decode_server(std::string_view(line).substr(4));
      REQUIRE_MESSAGE(frame.ok(), (frame.ok() ? "" : frame.error().message));
      if (!expected_error.empty()) {
        const auto* error = std::get_if<proto::ErrorFrame>(&*frame);
        REQUIRE(error != nullptr);
        CHECK(error->code == expected_error);
        expected_error.clear();
      }
      ++to_client;
    }
  }
  CHECK(expected_error.empty());
  CHECK(to_server >= 8);
  CHECK(to_client >= 8);
}
