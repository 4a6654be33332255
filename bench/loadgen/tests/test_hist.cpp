#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "hist.hpp"
#include "seq_set.hpp"
#include "token.hpp"
#include "ws_engine.hpp"

using namespace chatsdk::bench;

TEST_CASE("histogram percentiles stay within 0.1% and match load.js bucket layout") {
  Hist h;
  for (int i = 1; i <= 100000; ++i)
    h.record(i * 0.01);  // 0.01 .. 1000 ms, uniform
  CHECK(h.count() == 100000);
  CHECK(std::abs(*h.pct(50) - 500.0) / 500.0 < 0.002);
  CHECK(std::abs(*h.pct(99) - 990.0) / 990.0 < 0.002);
  CHECK(*h.pct(100) <= h.max());
  CHECK(h.max() == doctest::Approx(1000.0));
  // buckets below 2048 us are exact microseconds
  CHECK(Hist::index(2047) == 2047);
  CHECK(Hist::index(2048) == 2048);
  CHECK(Hist::value(Hist::index(1'000'000)) == doctest::Approx(1'000'000).epsilon(0.001));
  Hist empty;
  CHECK_FALSE(empty.pct(50).has_value());
  Hist neg;
  neg.record(-1);
  CHECK(neg.negatives() == 1);
  CHECK(*neg.pct(50) == 0);
}

TEST_CASE("histogram merge adds counts and keeps the max") {
  Hist a, b;
  a.record(1);
  b.record(3);
  b.record(5);
  a.merge(b);
  CHECK(a.count() == 3);
  CHECK(a.max() == 5);
  CHECK(*a.pct(50) == doctest::Approx(3.0).epsilon(0.001));
}

TEST_CASE("seq set counts duplicates, holes and the contiguous cursor") {
  SeqSet s;
  CHECK(s.add(1));
  CHECK(s.add(2));
  CHECK(s.add(5));
  CHECK_FALSE(s.add(2));
  CHECK(s.dups() == 1);
  CHECK(s.contig() == 2);
  CHECK(s.max() == 5);
  CHECK(s.missing(5) == 2);  // 3 and 4
  CHECK(s.missing(7) == 4);
  CHECK(s.add(3));
  CHECK(s.add(4));
  CHECK(s.contig() == 5);
  CHECK_FALSE(s.add(0));  // not a seq
}

TEST_CASE("tokens are HS256 JWTs over header.payload with sub = user") {
  // the same token Python's hmac/base64 produce for these claims
  CHECK(sign_token("alice", "secret", 1'700'000'000, 60) ==
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiJhbGljZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwfQ."
        "HJ0OIgm2SAJGZ9HJowmjwknOo132vph7nJjYBNTaJxI");
  CHECK(sign_token("alice", "other", 1'700'000'000, 60) !=
        sign_token("alice", "secret", 1'700'000'000, 60));
}

TEST_CASE("only loopback ws:// URLs are accepted") {
  Endpoint ep;
  std::string err;
  CHECK(parse_ws_url("ws://127.0.0.1:3100/ws", ep, err));
  CHECK(ep.port == 3100);
  CHECK(ep.path == "/ws");
  CHECK(parse_ws_url("ws://localhost:80", ep, err));
  CHECK(ep.path == "/");
  CHECK_FALSE(parse_ws_url("ws://10.0.0.1:80/ws", ep, err));
  CHECK_FALSE(parse_ws_url("http://127.0.0.1:80/ws", ep, err));
}
