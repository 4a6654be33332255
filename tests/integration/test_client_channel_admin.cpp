// chatsdk::Client channel administration against the real chatsdk-server over
// loopback: update_channel (channel_update), set_role (member_role) as outbox
// ops, and list_members (members_list) paging through a large channel.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chatsdk/client.hpp"
#include "client_devices.hpp"
#include "peer.hpp"
#include "support/server_process.hpp"

using namespace chatsdk;
using namespace chatsdk::test;
using namespace std::chrono;

namespace {

// The op's latest state as reported by OpChanged events (ops leave the
// outbox once sent, so Client::op() may no longer know them).
std::optional<Op> last_op_event(const Device& d, OpId id) {
  std::optional<Op> out;
  for (const Event& e : d.events)
    if (const auto* c = std::get_if<OpChanged>(&e); c != nullptr && c->op.id == id) out = c->op;
  return out;
}

bool op_in(const Device& d, OpId id, OpState s) {
  auto op = last_op_event(d, id);
  return op && op->state == s;
}

std::optional<Role> role_of(Device& d, const std::string& ch, const std::string& user) {
  for (const Member& m : d->members(ch))
    if (m.user == user) return m.role;
  return std::nullopt;
}

template <class T>
std::vector<T> events_of(const Device& d) {
  std::vector<T> out;
  for (const Event& e : d.events)
    if (const auto* v = std::get_if<T>(&e)) out.push_back(*v);
  return out;
}

}  // namespace

TEST_CASE("client admin: the owner renames a group, a plain member is denied as a failed op") {
  auto server = start_server();
  TempDir dir;
  auto alice = make_device(*server, "alice", "alice-dev", dir.db("alice"));
  auto bob = make_device(*server, "bob", "bob-dev", dir.db("bob"));
  std::vector<Device*> all{alice.get(), bob.get()};
  connect_all(all);

  const std::string ch = "team";
  REQUIRE((*alice)->create_group(ch, "Team", {"bob"}).ok());
  REQUIRE(wait_until(all, [&] {
    return (*alice)->channel(ch).has_value() && (*bob)->channel(ch).has_value();
  }));

  auto renamed = (*alice)->update_channel(ch, std::string("Team 2025"), true,
                                          std::string(R"({"topic":"release"})"));
  REQUIRE(renamed.ok());
  REQUIRE(wait_until(all, [&] {
    auto a = (*alice)->channel(ch);
    auto b = (*bob)->channel(ch);
    return op_in(*alice, *renamed, OpState::sent) && a && a->name == "Team 2025" && b &&
           b->name == "Team 2025";
  }));
  auto b = (*bob)->channel(ch);
  CHECK(b->is_public);
  CHECK(b->metadata.find("release") != std::string::npos);
  // Bob's channel list row changed too (the ChannelListDiff carries the new name).
  bool diff_seen = false;
  for (const auto& d : events_of<ChannelListDiff>(*bob))
    for (const auto& op : d.ops)
      if ((op.kind == DiffKind::update && op.item.channel.name == "Team 2025") ||
          std::any_of(op.items.begin(), op.items.end(),
                      [](const ChannelItem& i) { return i.channel.name == "Team 2025"; }))
        diff_seen = true;
  CHECK(diff_seen);

  // Only the fields given change: a visibility-only update keeps the name.
  auto hide = (*alice)->update_channel(ch, std::nullopt, false, std::nullopt);
  REQUIRE(hide.ok());
  REQUIRE(wait_until(all, [&] {
    auto c = (*bob)->channel(ch);
    return c && !c->is_public;
  }));
  CHECK((*bob)->channel(ch)->name == "Team 2025");

  // Bob is a plain member: permission_denied, final (not retried).
  auto denied = (*bob)->update_channel(ch, std::string("Bob's room"), std::nullopt, std::nullopt);
  REQUIRE(denied.ok());
  REQUIRE(wait_until(all, [&] { return op_in(*bob, *denied, OpState::failed); }));
  auto op = (*bob)->op(*denied);
  REQUIRE(op.has_value());
  CHECK(op->kind == OpKind::channel_update);
  REQUIRE(op->failure.has_value());
  CHECK(op->failure->code == Errc::permission_denied);
  CHECK_FALSE(op->failure->retryable);
  CHECK((*alice)->channel(ch)->name == "Team 2025");

  // Nothing to update is refused up front.
  CHECK((*alice)->update_channel(ch, std::nullopt, std::nullopt, std::nullopt).error().code ==
        Errc::invalid_argument);
}

TEST_CASE("client admin: set_role promotes a member who can then invite") {
  auto server = start_server();
  TempDir dir;
  auto alice = make_device(*server, "alice", "alice-dev", dir.db("alice"));
  auto bob = make_device(*server, "bob", "bob-dev", dir.db("bob"));
  std::vector<Device*> all{alice.get(), bob.get()};
  connect_all(all);

  const std::string ch = "crew";
  REQUIRE((*alice)->create_group(ch, "Crew", {"bob"}).ok());
  REQUIRE(wait_until(all, [&] { return (*bob)->channel(ch).has_value(); }));

  // Before the promotion bob's invite fails.
  auto early = (*bob)->invite(ch, {"carol"});
  REQUIRE(early.ok());
  REQUIRE(wait_until(all, [&] { return op_in(*bob, *early, OpState::failed); }));
  CHECK((*bob)->op(*early)->failure->code == Errc::permission_denied);
  REQUIRE((*bob)->cancel(*early).ok());  // unblock bob's lane for the channel

  // Bob may not promote himself (owner only).
  auto self = (*bob)->set_role(ch, "bob", Role::owner);
  REQUIRE(self.ok());
  REQUIRE(wait_until(all, [&] { return op_in(*bob, *self, OpState::failed); }));
  CHECK((*bob)->op(*self)->failure->code == Errc::permission_denied);
  REQUIRE((*bob)->cancel(*self).ok());

  auto promoted = (*alice)->set_role(ch, "bob", Role::moderator);
  REQUIRE(promoted.ok());
  REQUIRE(wait_until(all, [&] {
    return op_in(*alice, *promoted, OpState::sent) && (*bob)->channel(ch)->role == Role::moderator &&
           role_of(*alice, ch, "bob") == Role::moderator;
  }));
  CHECK(role_of(*bob, ch, "bob") == Role::moderator);

  auto invite = (*bob)->invite(ch, {"carol"});
  REQUIRE(invite.ok());
  REQUIRE(wait_until(all, [&] {
    return op_in(*bob, *invite, OpState::sent) && role_of(*alice, ch, "carol").has_value();
  }));
}

TEST_CASE("client admin: set_role and update_channel queued offline survive an app restart") {
  auto server = start_server();
  TempDir dir;
  auto bob = make_device(*server, "bob", "bob-dev", dir.db("bob"));
  const std::string ch = "keep";
  {
    auto alice = make_device(*server, "alice", "alice-dev", dir.db("alice"));
    std::vector<Device*> all{alice.get(), bob.get()};
    connect_all(all);
    REQUIRE((*alice)->create_group(ch, "Keep", {"bob"}).ok());
    REQUIRE(wait_until(all, [&] { return (*alice)->channel(ch).has_value(); }));
    (*alice)->disconnect();
    REQUIRE(wait_until(all, [&] { return (*alice)->state() == ConnectionState::disconnected; }));
    REQUIRE((*alice)->set_role(ch, "bob", Role::moderator).ok());
    REQUIRE((*alice)->update_channel(ch, std::string("Kept"), std::nullopt, std::nullopt).ok());
    CHECK((*alice)->pending_ops().size() == 2);
  }  // the app quits with both ops in the outbox
  auto alice = make_device(*server, "alice", "alice-dev", dir.db("alice"));
  auto pending = (*alice)->pending_ops();
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].kind == OpKind::member_role);
  CHECK(pending[1].kind == OpKind::channel_update);
  std::vector<Device*> all{alice.get(), bob.get()};
  (*alice)->connect();
  REQUIRE(wait_until(all, [&] {
    auto c = (*bob)->channel(ch);
    return c && c->name == "Kept" && c->role == Role::moderator;
  }));
  REQUIRE(wait_until(all, [&] { return (*alice)->pending_ops().empty(); }));
}

TEST_CASE("client admin: list_members pages through a large channel") {
  auto server = start_server();
  TempDir dir;
  // A large channel (membership is not in the change stream) with 25 members.
  auto owner = Peer::login(*server, "owner");
  proto::ChannelCreate create;
  create.client_id = "mk-large";
  create.kind = proto::ChannelKind::large;
  create.channel = "town";
  create.name = "Town";
  std::vector<std::string> expected{"owner"};
  for (int i = 0; i < 24; ++i) {
    std::string u = "u" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    create.members.push_back(u);
    expected.push_back(u);
  }
  std::sort(expected.begin(), expected.end());
  auto reply = owner->request(create);
  REQUIRE(reply.has_value());
  REQUIRE(std::holds_alternative<proto::ChannelReply>(*reply));

  auto u05 = make_device(*server, "u05", "u05-dev", dir.db("u05"));
  std::vector<Device*> all{u05.get()};
  // Offline: a live query, not queued.
  auto offline = (*u05)->list_members("town", "", 10);
  REQUIRE_FALSE(offline.ok());
  CHECK(offline.error().code == Errc::not_connected);

  (*u05)->connect();
  REQUIRE(wait_until(all, [&] { return all_live(all) && (*u05)->channel("town").has_value(); }));

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    REQUIRE(pages < 5);
    std::size_t before = events_of<MembersPage>(*u05).size();
    REQUIRE((*u05)->list_members("town", after, 10).ok());
    REQUIRE(wait_until(all, [&] { return events_of<MembersPage>(*u05).size() > before; }));
    MembersPage page = events_of<MembersPage>(*u05).back();
    CHECK(page.channel == "town");
    CHECK(page.error == Errc::ok);
    CHECK(page.members.size() <= 10);
    for (const Member& m : page.members)
      seen.push_back(m.user);
    if (!page.members.empty()) CHECK(page.next_after == page.members.back().user);
    more = page.more;
    after = page.next_after;
  }
  CHECK(pages == 3);
  CHECK(seen == expected);  // each member once, ascending by user id
  auto first = events_of<MembersPage>(*u05).front();
  REQUIRE_FALSE(first.members.empty());
  CHECK(first.members.front().user == "owner");
  CHECK(first.members.front().role == Role::owner);

  // Not a member: the refusal is the request's MembersPage, with the error.
  auto outsider = make_device(*server, "zed", "zed-dev", dir.db("zed"));
  std::vector<Device*> z{outsider.get()};
  (*outsider)->connect();
  REQUIRE(wait_until(z, [&] { return all_live(z); }));
  REQUIRE((*outsider)->list_members("town").ok());
  REQUIRE(wait_until(z, [&] { return !events_of<MembersPage>(*outsider).empty(); }));
  auto refused = events_of<MembersPage>(*outsider);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].channel == "town");
  CHECK(refused[0].error == Errc::not_member);
  CHECK(refused[0].members.empty());
  CHECK_FALSE(refused[0].more);
}
