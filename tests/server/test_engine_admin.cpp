// Engine unit tests: the admin HTTP API (routing, JSON, errors, fan-out).
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "test_engine_harness.hpp"

namespace chatsdk::server::testing {
namespace {

using proto::ChannelKind;
using proto::Role;

AdminResponse call(Harness& h, std::string method, std::string path, std::string body = {},
                   std::string query = {}) {
  AdminResponse out{-1, {}};
  h.engine->admin(
      AdminRequest{std::move(method), std::move(path), std::move(query), std::move(body)},
      [&](AdminResponse r) { out = std::move(r); });
  h.poster.pump();
  return out;
}

rapidjson::Document json(const AdminResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE_MESSAGE(!d.HasParseError(), r.body);
  return d;
}

void seeded(FakeStore& st) {
  st.add_channel("team", ChannelKind::group, {{"alice", Role::owner}, {"bob", Role::member}});
}

TEST_CASE("admin: create a channel, members get channel_added") {
  Harness h(seeded);
  const SessionId b1 = h.login("bob");
  h.clear();
  auto r = call(h, "POST", "/admin/channels",
                R"({"kind":"group","channel":"news","name":"News","public":true,
                    "members":[{"user":"bob","role":"moderator"},{"user":"carol"}]})");
  CHECK(r.status == 201);
  auto d = json(r);
  CHECK(std::string(d["channel"].GetString()) == "news");
  CHECK(d["member_count"].GetUint() == 2);
  CHECK(d["public"].GetBool());
  auto added = h.take_of<proto::ChannelAdded>(b1);
  REQUIRE(added.size() == 1);
  CHECK(added[0].info.role == Role::moderator);

  auto dup = call(h, "POST", "/admin/channels", R"({"kind":"group","channel":"news"})");
  CHECK(dup.status == 409);
  CHECK(std::string(json(dup)["error"].GetString()) == "already_exists");
}

TEST_CASE("admin: bad requests get 400/404 with the errc name") {
  Harness h(seeded);
  CHECK(call(h, "POST", "/admin/channels", "{not json").status == 400);
  CHECK(call(h, "POST", "/admin/channels", R"({"kind":"huge"})").status == 400);
  CHECK(call(h, "POST", "/admin/channels", R"({"kind":"group","members":[3]})").status == 400);
  auto nf = call(h, "GET", "/admin/channels/nope/messages");
  CHECK(nf.status == 404);
  CHECK(std::string(json(nf)["error"].GetString()) == "not_found");
  CHECK(call(h, "GET", "/admin/whatever").status == 404);
  CHECK(call(h, "GET", "/admin/channels/team/messages", {}, "limit=abc").status == 400);
  CHECK(call(h, "DELETE", "/admin/channels/team/messages/zero").status == 400);
  CHECK(call(h, "PUT", "/admin/channels/team/members/bob", R"({})").status == 400);
}

TEST_CASE("admin: membership changes fan out like the protocol ops") {
  Harness h(seeded);
  const SessionId a1 = h.login("alice");
  const SessionId c1 = h.login("carol");
  h.clear();
  auto add =
      call(h, "POST", "/admin/channels/team/members", R"({"users":["carol"],"role":"member"})");
  CHECK(add.status == 200);
  CHECK(json(add)["version"].GetUint64() == 1);
  CHECK(h.take_of<proto::ChannelAdded>(c1).size() == 1);
  auto ev = h.take_of<proto::MemberEvent>(a1);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].user == "carol");
  CHECK(ev[0].actor.empty());

  auto role = call(h, "PUT", "/admin/channels/team/members/carol", R"({"role":"moderator"})");
  CHECK(role.status == 200);
  auto roles = h.take_of<proto::MemberEvent>(c1);
  REQUIRE(roles.size() == 1);
  CHECK(roles[0].role == Role::moderator);

  auto del = call(h, "DELETE", "/admin/channels/team/members/carol");
  CHECK(del.status == 200);
  CHECK(h.take_of<proto::ChannelRemoved>(c1).size() == 1);
  h.send(c1, proto::Send{1, "team", "x", "hi", 0, {}, {}});
  CHECK(only_error(h.take(c1)).code == "not_member");
}

TEST_CASE("admin: history and delete as admin") {
  Harness h(seeded);
  const SessionId a1 = h.login("alice");
  const SessionId b1 = h.login("bob");
  for (int i = 0; i < 3; ++i)
    h.send(a1, proto::Send{0, "team", "m" + std::to_string(i), "msg", 0, {}, {}});
  h.clear();
  auto page = call(h, "GET", "/admin/channels/team/messages", {}, "before=3&limit=5");
  CHECK(page.status == 200);
  auto d = json(page);
  REQUIRE(d["messages"].Size() == 2);
  CHECK(d["messages"][0]["seq"].GetUint() == 1);
  CHECK(std::string(d["messages"][1]["body"].GetString()) == "msg");

  auto del = call(h, "DELETE", "/admin/channels/team/messages/2");
  CHECK(del.status == 200);
  for (SessionId s : {a1, b1}) {
    auto ev = h.take_of<proto::MessageEvent>(s);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].change == proto::MessageChange::deleted);
    CHECK(ev[0].message.seq == 2);
  }
}

TEST_CASE("admin: list channels and set a profile") {
  Harness h([](FakeStore& st) {
    seeded(st);
    st.add_channel("alpha", ChannelKind::large, {});
  });
  auto list = call(h, "GET", "/admin/channels", {}, "limit=1");
  CHECK(list.status == 200);
  auto d = json(list);
  REQUIRE(d["channels"].Size() == 1);
  CHECK(std::string(d["channels"][0]["channel"].GetString()) == "alpha");
  CHECK(std::string(d["next"].GetString()) == "alpha");
  auto rest = json(call(h, "GET", "/admin/channels", {}, "after=alpha"));
  REQUIRE(rest["channels"].Size() == 1);
  CHECK(std::string(rest["channels"][0]["kind"].GetString()) == "group");

  auto prof =
      call(h, "PUT", "/admin/users/alice", R"({"display_name":"Alice","metadata":{"x":1}})");
  CHECK(prof.status == 200);
  auto p = json(prof);
  CHECK(std::string(p["display_name"].GetString()) == "Alice");
  CHECK(p["metadata"]["x"].GetInt() == 1);
  CHECK(h.store->profiles["alice"].display_name == "Alice");
}

}  // namespace
}  // namespace chatsdk::server::testing
