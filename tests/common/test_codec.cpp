// Codec tests: every frame type round-trips with every field set; every class
// of malformed input is rejected with its own error code.
#include <doctest/doctest.h>

#include <string>

#include "common/protocol/codec.hpp"

using namespace chatsdk;
using namespace chatsdk::proto;

namespace {

// Sets every field of a frame to a valid, non-default value, so a round trip
// exercises every field (a default value would be omitted on encode).
struct Filler {
  int counter = 1;

  template <class T, class... C>
  void req(const char*, T& v, C... c) {
    fill(v, c...);
  }
  template <class T, class... C>
  void opt(const char*, T& v, C... c) {
    fill(v, c...);
  }

  void fill(std::string& s, Str rule) {
    switch (rule) {
      case Str::emoji:
        s = "\xF0\x9F\x91\x8D";
        break;  // thumbs up
      case Str::token:
        s = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig";
        break;
      case Str::url:
        s = "https://example.com/a.png";
        break;
      case Str::body:
        s = "h\xC3\xA9llo \"world\"\n" + std::to_string(counter++);
        break;
      default:
        s = "v" + std::to_string(counter++);
        break;
    }
  }
  void fill(bool& b) { b = true; }
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) void fill(I& i) {
    i = static_cast<I>(counter++);
  }
  template <class E>
  requires std::is_enum_v<E>
  void fill(E& e) { e = static_cast<E>(enum_names(E{}).size() - 1); }
  void fill(JsonObject& o) { o.json = R"({"k":[1,2,{"x":"y"}]})"; }
  template <class T, class... C>
  void fill(std::optional<T>& o, C... c) {
    T v{};
    fill(v, c...);
    o = std::move(v);
  }
  template <class T, class... C>
  void fill(std::vector<T>& v, C... c) {
    v.resize(2);
    for (auto& item : v)
      fill(item, c...);
  }
  template <class T>
  requires requires(T& t, Filler& f) { t.fields(f); }
  void fill(T& object) { object.fields(*this); }
};

template <class Variant, class Decode>
void round_trip_all(Decode decode) {
  std::size_t checked = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using F = std::variant_alternative_t<I, Variant>;
          F frame{};
          Filler filler;
          frame.fields(filler);
          const std::string wire = encode(Variant{frame});
          INFO("frame: " << wire);
          CHECK(wire.find('\n') == std::string::npos);
          auto decoded = decode(wire);
          REQUIRE_MESSAGE(decoded.ok(), decoded.error().message);
          CHECK(decoded->index() == I);
          CHECK(encode(*decoded) == wire);
          ++checked;
        }(),
        ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
  CHECK(checked == std::variant_size_v<Variant>);
}

Errc client_error(std::string_view bytes) {
  auto r = decode_client(bytes);
  return r.ok() ? Errc::ok : r.error().code;
}

}  // namespace

TEST_CASE("every client frame round-trips with all fields set") {
  round_trip_all<ClientFrame>([](std::string_view s) { return decode_client(s); });
}

TEST_CASE("every server frame round-trips with all fields set") {
  round_trip_all<ServerFrame>([](std::string_view s) { return decode_server(s); });
}

TEST_CASE("frame type names are unique per direction") {
  for (auto names : {client_frame_types(), server_frame_types()}) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      for (std::size_t j = i + 1; j < names.size(); ++j)
        CHECK(names[i] != names[j]);
    }
  }
}

TEST_CASE("decoding a send frame yields its fields") {
  auto r = decode_client(
      R"({"type":"send","id":7,"channel":"general","client_id":"01HX","body":"hi","reply_to":3,)"
      R"("mentions":["bob"],"metadata":{"a":1},"future_field":true})");
  REQUIRE(r.ok());
  const auto& send = std::get<Send>(*r);
  CHECK(send.id == 7);
  CHECK(send.channel == "general");
  CHECK(send.client_id == "01HX");
  CHECK(send.body == "hi");
  CHECK(send.reply_to == 3);
  CHECK(send.mentions == std::vector<std::string>{"bob"});
  CHECK(send.metadata.json == R"({"a":1})");
}

TEST_CASE("optional fields may be null or absent, defaults are omitted on encode") {
  auto r = decode_client(R"({"type":"history","channel":"c","before":null})");
  REQUIRE(r.ok());
  CHECK_FALSE(std::get<History>(*r).before.has_value());
  CHECK(encode(*r) == R"({"type":"history","channel":"c"})");
}

TEST_CASE("malformed input classes map to distinct error codes") {
  CHECK(client_error("") == Errc::malformed_frame);
  CHECK(client_error("not json") == Errc::malformed_frame);
  CHECK(client_error("{\"type\":\"ping\"") == Errc::malformed_frame);
  CHECK(client_error("[1,2]") == Errc::malformed_frame);
  CHECK(client_error("{\"type\":\"ping\"} trailing") == Errc::malformed_frame);
  CHECK(client_error(R"({"id":1})") == Errc::missing_field);
  CHECK(client_error(R"({"type":5})") == Errc::wrong_type);
  CHECK(client_error(R"({"type":"teleport"})") == Errc::unknown_type);
  // A server->client type is unknown to the client->server decoder.
  CHECK(client_error(R"({"type":"welcome"})") == Errc::unknown_type);
  CHECK(client_error(R"({"type":"send","channel":"c","body":"x"})") == Errc::missing_field);
  CHECK(client_error(R"({"type":"send","channel":7,"client_id":"a","body":"x"})") ==
        Errc::wrong_type);
  CHECK(client_error(R"({"type":"mark_read","channel":"c","seq":"5"})") == Errc::wrong_type);
  CHECK(client_error(R"({"type":"mark_read","channel":"c","seq":1.5})") == Errc::wrong_type);
  CHECK(client_error(R"({"type":"mark_read","channel":"c","seq":-1})") == Errc::out_of_range);
  CHECK(client_error(R"({"type":"mark_read","channel":"c","seq":9007199254740992})") ==
        Errc::out_of_range);
  CHECK(client_error(R"({"type":"mark_read","channel":"c","seq":1e3})") == Errc::wrong_type);
  CHECK(client_error(R"({"type":"typing","channel":"c","state":"dancing"})") == Errc::out_of_range);
  CHECK(client_error(R"({"type":"ping","id":1,"id":2})") == Errc::malformed_frame);
}

TEST_CASE("invalid UTF-8 is rejected as invalid_utf8") {
  std::string bad = R"({"type":"send","channel":"c","client_id":"a","body":"x)";
  bad += "\xC3\x28";  // invalid continuation byte
  bad += R"("})";
  CHECK(client_error(bad) == Errc::invalid_utf8);
  std::string overlong = R"({"type":"ping","x":")";
  overlong += "\xC0\xAF";  // overlong encoding of '/'
  overlong += R"("})";
  CHECK(client_error(overlong) == Errc::invalid_utf8);
}

TEST_CASE("nesting bombs are rejected before parsing") {
  std::string deep = R"({"type":"send","channel":"c","client_id":"a","body":"x","metadata":)";
  for (int i = 0; i < 1000; ++i)
    deep += "[";
  CHECK(client_error(deep) == Errc::too_deep);
  // Brackets inside strings do not count.
  std::string quoted = R"({"type":"send","channel":"c","client_id":"a","body":")";
  quoted += std::string(100, '[') + R"("})";
  CHECK(client_error(quoted) == Errc::ok);
}

TEST_CASE("the pre-parse scan: escapes inside strings, ASCII and non-ASCII frames") {
  // An escaped quote or a trailing escaped backslash must not end or extend a
  // string for the depth count: these brackets are all inside strings.
  std::string tricky = R"({"type":"send","channel":"c","client_id":"a","body":"q\"[[[[\\",)";
  tricky += R"("metadata":{"k":"\\\"{{{{{{{{{{{{{{{{{{{{"}})";
  auto t = decode_client(tricky);
  REQUIRE(t.ok());
  CHECK(std::get<Send>(*t).body == "q\"[[[[\\");
  // ...and a bracket right after such a string does count.
  std::string deep = R"({"type":"send","channel":"c","client_id":"a","body":"\\","metadata":)";
  deep += std::string(20, '[');
  CHECK(client_error(deep) == Errc::too_deep);
  // Non-ASCII text takes the validating parse and decodes byte for byte.
  auto u = decode_client(R"({"type":"send","channel":"c","client_id":"a","body":"h\u00e9 🎉 é"})");
  REQUIRE(u.ok());
  CHECK(std::get<Send>(*u).body == "h\xC3\xA9 \xF0\x9F\x8E\x89 \xC3\xA9");
  // ASCII-only frames are not validated byte by byte, yet still reject what
  // JSON forbids in strings, and \u escapes still become UTF-8.
  CHECK(client_error(std::string(R"({"type":"ping","x":"a)") + '\x01' + R"("})") ==
        Errc::malformed_frame);
  auto e = decode_client(R"({"type":"send","channel":"c","client_id":"a","body":"\u00e9\u4e2d"})");
  REQUIRE(e.ok());
  CHECK(std::get<Send>(*e).body == "\xC3\xA9\xE4\xB8\xAD");
  CHECK(client_error(R"({"type":"send","channel":"c","client_id":"a","body":"\udc00"})") ==
        Errc::malformed_frame);
}

TEST_CASE("encoding appends, escapes long strings and keeps no oversized buffer") {
  Message m;
  m.channel = "c";
  m.seq = 1;
  m.sender = "alice";
  m.client_id = "a";
  m.body = std::string(kMaxBodyBytes - 8, '"') + "\n\\ \x01 end";
  MessageEvent ev;
  ev.message = m;
  std::string out = "prefix\n";
  encode_to(ServerFrame{ev}, out);
  REQUIRE(out.rfind("prefix\n", 0) == 0);
  auto back = decode_server(std::string_view(out).substr(7), out.size());
  REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().message));
  CHECK(std::get<MessageEvent>(*back).message.body == m.body);
  // rapidjson reserves 6 bytes per string byte while writing; the result
  // must not keep that reservation (frames are queued and counted by size).
  const std::string alone = encode(ServerFrame{ev});
  CHECK(alone.capacity() <= alone.size() + 64);
  const std::string small = encode(ServerFrame{Pong{}});
  CHECK(small.capacity() <= small.size() + 32);
  CHECK(alone.size() > 2 * m.body.size());  // every quote escaped
}

TEST_CASE("size limits") {
  std::string big_body(kMaxBodyBytes + 1, 'a');
  CHECK(client_error(R"({"type":"send","channel":"c","client_id":"a","body":")" + big_body +
                     R"("})") == Errc::body_too_large);
  std::string ok_body(kMaxBodyBytes, 'a');
  CHECK(client_error(R"({"type":"send","channel":"c","client_id":"a","body":")" + ok_body +
                     R"("})") == Errc::ok);
  std::string frame(kMaxClientMessageBytes + 1, ' ');
  frame.replace(0, 15, R"({"type":"ping"})");
  CHECK(client_error(frame) == Errc::frame_too_large);
  std::string meta = R"({"type":"send","channel":"c","client_id":"a","body":"x","metadata":{"k":")";
  meta += std::string(kMaxMetadataBytes, 'm') + R"("}})";
  CHECK(client_error(meta) == Errc::body_too_large);
}

TEST_CASE("string rules: ids, emoji, names") {
  CHECK(client_error(R"({"type":"join","channel":""})") == Errc::out_of_range);
  CHECK(client_error(R"({"type":"join","channel":"has space"})") == Errc::out_of_range);
  CHECK(client_error(R"({"type":"join","channel":"dm:alice:bob"})") == Errc::ok);
  CHECK(client_error(R"({"type":"join","channel":")" + std::string(129, 'a') + R"("})") ==
        Errc::out_of_range);
  CHECK(
      client_error(
          R"({"type":"react","channel":"c","seq":1,"client_id":"a","emoji":"a b","action":"add"})") ==
      Errc::out_of_range);
  CHECK(client_error(R"({"type":"profile_set","display_name":"tab\there"})") == Errc::out_of_range);
  CHECK(client_error(R"({"type":"send","channel":"c","client_id":"a","body":"nul\u0000"})") ==
        Errc::out_of_range);
}

TEST_CASE("batches split on newlines") {
  auto frames = split_batch("{\"type\":\"ping\"}\n\n{\"type\":\"ping\",\"id\":2}\r\n");
  REQUIRE(frames.size() == 2);
  CHECK(frames[1] == "{\"type\":\"ping\",\"id\":2}");
  CHECK(split_batch("").empty());
  CHECK(split_batch("x").size() == 1);
}

TEST_CASE("peek_request_id finds the id of an undecodable request") {
  CHECK(peek_request_id(R"({"type":"send","id": 42,"body":)") == 42);
  CHECK(peek_request_id(R"({"type":"send"})") == 0);
  CHECK(peek_request_id(R"({"id":"x"})") == 0);
  CHECK(peek_request_id(R"({"id":99999999999999999999})") == 0);
}

TEST_CASE("error frames carry the wire name of an Errc") {
  ErrorFrame e;
  e.id = 3;
  e.code = std::string(errc_name(Errc::not_member));
  e.message = "not a member of 'c'";
  const auto wire = encode(ServerFrame{e});
  CHECK(wire == R"({"type":"error","id":3,"code":"not_member","message":"not a member of 'c'"})");
  auto back = decode_server(wire);
  REQUIRE(back.ok());
  CHECK(errc_from_name(std::get<ErrorFrame>(*back).code) == Errc::not_member);
}

TEST_CASE("error code table is append-only in shape: names unique and numbers dense") {
  int n = 0;
  while (errc_name(static_cast<Errc>(n)) != "unknown") {
    const auto name = errc_name(static_cast<Errc>(n));
    CHECK(errc_from_name(name) == static_cast<Errc>(n));
    CHECK(!errc_description(static_cast<Errc>(n)).empty());
    ++n;
  }
  CHECK(n > 30);
  CHECK(errc_name(Errc::ok) == "ok");
  CHECK(static_cast<int>(Errc::not_member) == 17);
}
