#include <doctest/doctest.h>

#include <string>

#include "fast_scan.hpp"

using namespace chatsdk::bench;

TEST_CASE("fast scan reads a created message event like the full parser would") {
  const std::string f =
      R"({"type":"message","change":"created","actor":"r-u1","message":{"channel":"r-room","seq":42,"version":43,)"
      R"("sender":"r-u1","client_id":"r-u1-7","body":"say \"seq\":9","created_at":1764038400123,)"
      R"("metadata":{"sent_at":1764038400123.456}}})";
  MessageFields m;
  REQUIRE(scan_message_event(f, m));
  CHECK(m.created);
  CHECK(m.seq == 42);
  CHECK(m.sender == "r-u1");
  CHECK(m.channel == "r-room");
  REQUIRE(m.has_sent_at);
  CHECK(m.sent_at == 1764038400123.456);
}

TEST_CASE(
    "fast scan: other changes are recognised and ignored; without metadata there is no sent_at") {
  MessageFields m;
  REQUIRE(scan_message_event(
      R"({"type":"message","change":"edited","message":{"channel":"c","seq":1}})", m));
  CHECK_FALSE(m.created);
  REQUIRE(scan_message_event(
      R"({"type":"message","change":"created","message":{"seq":3,"channel":"c","sender":"u","created_at":1}})",
      m));
  CHECK(m.created);
  CHECK(m.seq == 3);
  CHECK_FALSE(m.has_sent_at);
}

TEST_CASE("fast scan declines anything it cannot read safely (the full parser takes over)") {
  MessageFields m;
  CHECK_FALSE(scan_message_event(R"({"type":"sent","id":3,"seq":1})", m));
  CHECK_FALSE(
      scan_message_event(R"({"change":"created","type":"message","message":{"seq":1}})", m));
  CHECK_FALSE(scan_message_event(
      R"({"type":"message","change":"created","message":{"seq":-1,"sender":"u","channel":"c"}})",
      m));
  CHECK_FALSE(scan_message_event(
      R"({"type":"message","change":"created","message":{"seq":1,"sender":"a\"b","channel":"c"}})",
      m));
  CHECK_FALSE(
      scan_message_event(R"({"type":"message","change":"created","message":{"seq":1}})", m));
}
