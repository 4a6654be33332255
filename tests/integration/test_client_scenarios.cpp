// chatsdk::Client against the real chatsdk-server over loopback: several users
// and devices, offline sends, an app restart with a pending outbox, token
// expiry and a server crash mid-conversation. Each client has its own SQLite
// file; everything is driven from this thread with poll() loops.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chatsdk/client.hpp"
#include "client_devices.hpp"
#include "support/server_process.hpp"

using namespace chatsdk;
using namespace chatsdk::test;
using namespace std::chrono;

namespace {

bool has_channel(Device* d, const std::string& ch) {
  return d->client->channel(ch).has_value();
}

// How often a confirmed message with this body is in the device's cache.
std::size_t count_body(Device* d, const std::string& ch, const std::string& body) {
  auto ms = d->client->messages(ch, 500);
  return static_cast<std::size_t>(
      std::count_if(ms.begin(), ms.end(), [&](const Message& m) { return m.body == body; }));
}

std::optional<Message> find_body(Device* d, const std::string& ch, const std::string& body) {
  for (auto& m : d->client->messages(ch, 500))
    if (m.body == body) return m;
  return std::nullopt;
}

std::optional<Message> find_seq(Device* d, const std::string& ch, Seq seq) {
  for (auto& m : d->client->messages(ch, 500))
    if (m.seq == seq) return m;
  return std::nullopt;
}

// "" when the device's cached messages of `ch` hold seqs strictly ascending,
// no client_id twice, and (if gapless) exactly 1..n; else what is wrong.
std::string order_problem(Device* d, const std::string& ch, bool gapless) {
  auto ms = d->client->messages(ch, 500);
  std::map<std::string, int> client_ids;
  Seq prev = 0;
  for (const auto& m : ms) {
    if (m.seq == 0) return d->name + ": confirmed message with seq 0";
    if (m.seq <= prev)
      return d->name + ": seq " + std::to_string(m.seq) + " after " + std::to_string(prev);
    if (gapless && m.seq != prev + 1) return d->name + ": gap before seq " + std::to_string(m.seq);
    if (!m.client_id.empty() && ++client_ids[m.client_id] > 1)
      return d->name + ": client_id " + m.client_id + " twice";
    prev = m.seq;
  }
  // The timeline view-model (server history merged with local echoes) agrees:
  // once nothing is pending, every message is there once, confirmed, in order.
  auto tl = d->client->timeline(ch);
  std::map<std::string, int> keys;
  prev = 0;
  for (const auto& item : tl) {
    if (++keys[item.key] > 1) return d->name + ": timeline key " + item.key + " twice";
    if (item.message.seq <= prev)
      return d->name + ": timeline seq " + std::to_string(item.message.seq) + " after " +
             std::to_string(prev);
    prev = item.message.seq;
  }
  if (tl.size() != ms.size())
    return d->name + ": timeline has " + std::to_string(tl.size()) + " rows, cache " +
           std::to_string(ms.size()) + " messages";
  return "";
}

// Opens the channel's timeline view-model on every device (diffs start now).
void open_timelines(const std::vector<Device*>& devices, const std::string& ch) {
  REQUIRE(wait_until(devices, [&] {
    return std::all_of(devices.begin(), devices.end(),
                       [&](Device* d) { return d->client->channel(ch).has_value(); });
  }));
  for (Device* d : devices) {
    auto opened = d->client->open_timeline(ch);
    INFO(d->name << ": " << (opened.ok() ? std::string() : opened.error().message));
    REQUIRE(opened.ok());
  }
}

bool op_done(Device* d, OpId id) {
  auto op = d->client->op(id);
  return op && (op->state == OpState::sent || op->state == OpState::delivered ||
                op->state == OpState::read);
}

bool unread_consistent(Device* d, const std::string& ch) {
  auto c = d->client->channel(ch);
  return c && c->last_seq >= c->read_seq && c->unread == c->last_seq - c->read_seq;
}

const Reaction* reaction(const Message& m, const std::string& emoji) {
  for (const auto& r : m.reactions)
    if (r.emoji == emoji) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("client: two users with two devices each see every operation exactly once") {
  auto server = start_server();
  TempDir dir;
  auto alice_phone = make_device(*server, "alice", "phone", dir.db("alice_phone"));
  auto alice_laptop = make_device(*server, "alice", "laptop", dir.db("alice_laptop"));
  auto bob_phone = make_device(*server, "bob", "phone", dir.db("bob_phone"));
  auto bob_laptop = make_device(*server, "bob", "laptop", dir.db("bob_laptop"));
  std::vector<Device*> all{alice_phone.get(), alice_laptop.get(), bob_phone.get(),
                           bob_laptop.get()};
  for (Device* d : all)
    (*d)->connect();
  REQUIRE(wait_until(all, [&] { return all_live(all); }));
  CHECK((*alice_laptop)->user_id() == "alice");
  CHECK((*bob_laptop)->user_id() == "bob");

  const std::string ch = "room1";
  auto created = (*alice_phone)->create_group(ch, "Room one", {"bob"});
  REQUIRE(created.ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(), [&](Device* d) { return has_channel(d, ch); });
  }));
  open_timelines(all, ch);

  // send
  auto hello = (*alice_phone)->send_text(ch, "hello from alice-phone");
  REQUIRE(hello.ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(),
                       [&](Device* d) { return count_body(d, ch, "hello from alice-phone") == 1; });
  }));
  const Seq hello_seq = find_body(alice_phone.get(), ch, "hello from alice-phone")->seq;
  CHECK(hello_seq == 1);
  for (Device* d : all) {
    auto m = find_seq(d, ch, hello_seq);
    REQUIRE(m.has_value());
    CHECK(m->sender == "alice");
  }

  // edit
  REQUIRE((*alice_phone)->edit(MessageRef{ch, hello_seq, ""}, "hello, edited").ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(), [&](Device* d) {
      auto m = find_seq(d, ch, hello_seq);
      return m && m->body == "hello, edited" && m->edited_at != 0;
    });
  }));

  // react: everyone sees one thumbs-up; only bob's devices call it theirs
  REQUIRE((*bob_phone)->react(MessageRef{ch, hello_seq, ""}, "+1").ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(), [&](Device* d) {
      auto m = find_seq(d, ch, hello_seq);
      const Reaction* r = m ? reaction(*m, "+1") : nullptr;
      return r != nullptr && r->count == 1;
    });
  }));
  for (Device* d : all) {
    auto m = find_seq(d, ch, hello_seq);
    const Reaction* r = reaction(*m, "+1");
    REQUIRE(r != nullptr);
    INFO(d->name);
    CHECK(r->mine == (d == bob_phone.get() || d == bob_laptop.get()));
  }
  // unreact (from the other bob device: the reaction is the user's, not the device's)
  REQUIRE((*bob_laptop)->unreact(MessageRef{ch, hello_seq, ""}, "+1").ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(), [&](Device* d) {
      auto m = find_seq(d, ch, hello_seq);
      const Reaction* r = m ? reaction(*m, "+1") : nullptr;
      return m && (r == nullptr || r->count == 0);
    });
  }));

  // reply
  SendOptions reply_opts;
  reply_opts.reply_to = hello_seq;
  REQUIRE((*bob_laptop)->send_text(ch, "a reply from bob-laptop", reply_opts).ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(), [&](Device* d) {
      auto m = find_body(d, ch, "a reply from bob-laptop");
      return m && m->reply_to == hello_seq && count_body(d, ch, "a reply from bob-laptop") == 1;
    });
  }));
  for (Device* d : all) {
    INFO(d->name);
    CHECK(find_seq(d, ch, hello_seq)->reply_count == 1);
  }

  // delete (by client_id: the op targets whatever seq the send gets)
  auto doomed = (*alice_phone)->send_text(ch, "soon deleted");
  REQUIRE(doomed.ok());
  auto doomed_op = (*alice_phone)->op(*doomed);
  REQUIRE(doomed_op.has_value());
  REQUIRE((*alice_phone)->delete_message(MessageRef{ch, 0, doomed_op->client_id}).ok());
  REQUIRE(wait_until(all, [&] {
    return std::all_of(all.begin(), all.end(), [&](Device* d) {
      auto m = find_seq(d, ch, 3);
      return m && m->deleted && m->body.empty();
    });
  }));

  // every device: each message once, seqs 1..3 in order
  for (Device* d : all)
    CHECK(order_problem(d, ch, true) == "");

  // unread counts: sending advances the sender's read cursor, so alice has read
  // everything (3) and bob up to his reply (2); every device agrees.
  REQUIRE(wait_until(all, [&] {
    auto ok = [&](Device* d, Seq read) {
      auto c = (*d)->channel(ch);
      return c && c->last_seq == 3 && c->read_seq == read && unread_consistent(d, ch);
    };
    return ok(alice_phone.get(), 3) && ok(alice_laptop.get(), 3) && ok(bob_phone.get(), 2) &&
           ok(bob_laptop.get(), 2);
  }));
  CHECK((*bob_laptop)->channel(ch)->unread == 1);
  CHECK((*alice_laptop)->channel(ch)->unread == 0);

  // mark_read on bob-phone reaches bob-laptop
  REQUIRE((*bob_phone)->mark_read(ch).ok());
  REQUIRE(wait_until(all, [&] {
    for (Device* d : {bob_phone.get(), bob_laptop.get()}) {
      auto c = (*d)->channel(ch);
      if (!c || c->read_seq != 3 || c->unread != 0) return false;
    }
    return true;
  }));
  for (Device* d : all)
    CHECK(unread_consistent(d, ch));

  // typing: alice-phone types; both bob devices show it, then it goes away
  (*alice_phone)->typing(ch);
  auto bob_sees_alice = [&](Device* d) {
    auto u = (*d)->typing_users(ch);
    return std::find(u.begin(), u.end(), "alice") != u.end();
  };
  REQUIRE(wait_until(
      all, [&] { return bob_sees_alice(bob_phone.get()) && bob_sees_alice(bob_laptop.get()); }));
  CHECK((*alice_phone)->typing_users(ch).empty());  // never yourself
  (*alice_phone)->typing_stop(ch);
  CHECK(wait_until(
      all, [&] { return !bob_sees_alice(bob_phone.get()) && !bob_sees_alice(bob_laptop.get()); }));
  // and without an explicit stop it expires by itself (~6 s without refresh).
  // From the other alice device: the server drops a session's typing frames
  // beyond 2 per second, and alice-phone just sent a start and a stop.
  (*alice_laptop)->typing(ch);
  REQUIRE(wait_until(all, [&] { return bob_sees_alice(bob_phone.get()); }));
  const auto seen_at = steady_clock::now();
  alice_laptop->client->disconnect();  // this device will send no stop (nor does the server)
  CHECK(wait_until(
      all, [&] { return !bob_sees_alice(bob_phone.get()) && !bob_sees_alice(bob_laptop.get()); },
      milliseconds(9000)));
  // it went by the ~6 s expiry, not at once
  CHECK(steady_clock::now() - seen_at > milliseconds(4000));
}

TEST_CASE("client: messages sent offline are delivered in order exactly once on reconnect") {
  auto server = start_server();
  TempDir dir;
  auto alice = make_device(*server, "alice", "phone", dir.db("alice"));
  auto bob = make_device(*server, "bob", "phone", dir.db("bob"));
  std::vector<Device*> all{alice.get(), bob.get()};
  for (Device* d : all)
    (*d)->connect();
  REQUIRE(wait_until(all, [&] { return all_live(all); }));
  const std::string ch = "offline";
  REQUIRE((*alice)->create_group(ch, "Offline", {"bob"}).ok());
  REQUIRE(wait_until(all, [&] { return has_channel(bob.get(), ch); }));
  open_timelines(all, ch);

  (*bob)->disconnect();
  REQUIRE(wait_until(all, [&] { return (*bob)->state() == ConnectionState::disconnected; }));
  std::vector<OpId> ops;
  for (int i = 1; i <= 3; ++i) {
    auto op = (*bob)->send_text(ch, "offline " + std::to_string(i));
    REQUIRE(op.ok());
    ops.push_back(*op);
  }
  pump(all);
  for (OpId id : ops)
    CHECK((*bob)->op(id)->state == OpState::queued);
  CHECK((*bob)->pending_ops().size() == 3);
  CHECK(count_body(alice.get(), ch, "offline 1") == 0);

  (*bob)->connect();
  REQUIRE(wait_until(all, [&] {
    return std::all_of(ops.begin(), ops.end(), [&](OpId id) { return op_done(bob.get(), id); }) &&
           count_body(alice.get(), ch, "offline 3") == 1;
  }));
  CHECK((*bob)->pending_ops().empty());
  for (Device* d : all) {
    INFO(d->name);
    CHECK(order_problem(d, ch, true) == "");
    Seq prev = 0;
    for (int i = 1; i <= 3; ++i) {
      auto body = "offline " + std::to_string(i);
      CHECK(count_body(d, ch, body) == 1);
      auto m = find_body(d, ch, body);
      REQUIRE(m.has_value());
      CHECK(m->seq > prev);  // send order kept
      prev = m->seq;
    }
  }
}

TEST_CASE("client: an outbox written while the server is down survives an app restart") {
  auto server = start_server();
  TempDir dir;
  auto alice = make_device(*server, "alice", "phone", dir.db("alice"));
  auto bob = make_device(*server, "bob", "phone", dir.db("bob"));
  std::vector<Device*> all{alice.get(), bob.get()};
  for (Device* d : all)
    (*d)->connect();
  REQUIRE(wait_until(all, [&] { return all_live(all); }));
  const std::string ch = "restart";
  REQUIRE((*alice)->create_group(ch, "Restart", {"bob"}).ok());
  REQUIRE(wait_until(all, [&] { return has_channel(bob.get(), ch); }));
  open_timelines(all, ch);

  server->kill9();
  REQUIRE(wait_until(all, [&] {
    return (*bob)->state() != ConnectionState::live && (*alice)->state() != ConnectionState::live;
  }));
  for (int i = 1; i <= 3; ++i)
    REQUIRE((*bob)->send_text(ch, "pending " + std::to_string(i)).ok());
  pump(all);
  CHECK((*bob)->pending_ops().size() == 3);

  // The app is killed and started again on the same database.
  bob.reset();
  all = {alice.get()};
  bob = make_device(*server, "bob", "phone", dir.db("bob"));
  all.push_back(bob.get());
  auto pending = (*bob)->pending_ops();
  REQUIRE(pending.size() == 3);
  for (const auto& op : pending)
    CHECK(op.state == OpState::queued);
  // the reopened app shows them as local echoes before any network I/O
  REQUIRE((*bob)->open_timeline(ch).ok());
  auto echoes = (*bob)->timeline(ch);
  REQUIRE(echoes.size() == 3);
  for (const auto& item : echoes) {
    CHECK(item.message.seq == 0);
    CHECK(item.state == OpState::queued);
    CHECK(item.op.has_value());
  }

  REQUIRE(server->restart().ok());
  (*bob)->connect();
  REQUIRE(wait_until(all, [&] {
    return all_live(all) && (*bob)->pending_ops().empty() &&
           count_body(alice.get(), ch, "pending 3") == 1;
  }));
  // a fresh device of alice's reads the server's history: each exactly once, in order
  auto fresh = make_device(*server, "alice", "fresh", dir.db("alice_fresh"));
  (*fresh)->connect();
  all.push_back(fresh.get());
  REQUIRE(wait_until(all, [&] { return has_channel(fresh.get(), ch); }));
  REQUIRE((*fresh)->open_timeline(ch).ok());
  REQUIRE(wait_until(all, [&] { return count_body(fresh.get(), ch, "pending 3") == 1; }));
  for (Device* d : all) {
    INFO(d->name);
    CHECK(order_problem(d, ch, true) == "");
    for (int i = 1; i <= 3; ++i)
      CHECK(count_body(d, ch, "pending " + std::to_string(i)) == 1);
    CHECK(find_body(d, ch, "pending 1")->seq == 1);
    CHECK(find_body(d, ch, "pending 3")->seq == 3);
  }
}

namespace {

// Token expiry with a provider that hands out a ~2 s token on its first
// `short_calls` calls and hour-long ones after. With 1 short call the client
// swaps the token in place when the server's token_expiring notice arrives
// (auth_refresh, no reconnect); with 2 it is given the doomed token again, so
// the server closes the session at expiry (4003) and the client reconnects by
// itself with a fresh token.
void token_expiry_scenario(int short_calls, bool expect_close) {
  auto server = start_server({"--token-leeway-s", "0"});
  TempDir dir;
  auto alice = make_device(*server, "alice", "phone", dir.db("alice"));
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto short_token = std::make_shared<std::string>();
  std::string secret = server->secret();
  auto bob = make_device(*server, "bob", "phone", dir.db("bob"), [=] {
    if (calls->fetch_add(1) >= short_calls) return mint_token(secret, "bob", 3600);
    if (short_token->empty()) *short_token = mint_token(secret, "bob", 2);
    return *short_token;  // a cached token, as an app would hand out
  });
  std::vector<Device*> all{alice.get(), bob.get()};
  for (Device* d : all)
    (*d)->connect();
  const auto t0 = steady_clock::now();
  REQUIRE(wait_until(all, [&] { return all_live(all); }));
  const std::string ch = "expiry";
  REQUIRE((*alice)->create_group(ch, "Expiry", {"bob"}).ok());
  REQUIRE(wait_until(all, [&] { return has_channel(bob.get(), ch); }));
  open_timelines(all, ch);
  REQUIRE((*bob)->send_text(ch, "before expiry").ok());

  // Past the short token's lifetime (exp is whole seconds: at most 2 s), bob
  // has asked for a new token and is live again.
  REQUIRE(wait_until(
      all,
      [&] {
        return steady_clock::now() - t0 > milliseconds(3500) && calls->load() > short_calls &&
               (*bob)->state() == ConnectionState::live;
      },
      milliseconds(8000)));
  REQUIRE((*bob)->send_text(ch, "after expiry").ok());
  REQUIRE(wait_until(all, [&] { return count_body(alice.get(), ch, "after expiry") == 1; }));

  int closes = 0;
  for (const auto& e : bob->events)
    if (auto* cc = std::get_if<ConnectionChanged>(&e);
        cc && cc->state == ConnectionState::disconnected && cc->reason != Errc::ok) {
      ++closes;
      INFO("closed: " << cc->detail);
      CHECK(cc->reason == Errc::token_expired);
      CHECK(cc->retry_in_ms >= 0);  // it plans to come back by itself
    }
  CHECK(closes == (expect_close ? 1 : 0));
  // The new token holds: no further provider calls or drops for a while.
  const int calls_now = calls->load();
  wait_until(
      all, [] { return false; }, milliseconds(1000));
  CHECK((*bob)->state() == ConnectionState::live);
  CHECK(calls->load() == calls_now);
  CHECK((*bob)->pending_ops().empty());
  for (Device* d : all) {
    INFO(d->name);
    CHECK(order_problem(d, ch, true) == "");
    CHECK(count_body(d, ch, "before expiry") == 1);
    CHECK(count_body(d, ch, "after expiry") == 1);
  }
}

}  // namespace

TEST_CASE("client: an expiring token is refreshed in place on the server's notice") {
  token_expiry_scenario(1, false);
}

TEST_CASE("client: a session closed at token expiry comes back live by itself") {
  token_expiry_scenario(2, true);
}

namespace {

// Two clients chat; the server goes down (SIGKILL, or SIGTERM with its
// graceful drain) while messages may be in flight, both keep sending, the
// server comes back on the same data and both clients reconnect by backoff.
void server_restart_scenario(bool graceful) {
  auto server = start_server();
  TempDir dir;
  auto alice = make_device(*server, "alice", "phone", dir.db("alice"));
  auto bob = make_device(*server, "bob", "phone", dir.db("bob"));
  std::vector<Device*> all{alice.get(), bob.get()};
  for (Device* d : all)
    (*d)->connect();
  REQUIRE(wait_until(all, [&] { return all_live(all); }));
  const std::string ch = "crash";
  REQUIRE((*alice)->create_group(ch, "Crash", {"bob"}).ok());
  REQUIRE(wait_until(all, [&] { return has_channel(bob.get(), ch); }));
  open_timelines(all, ch);

  std::vector<std::string> bodies;
  auto say = [&](Device* d, const std::string& body) {
    REQUIRE((*d)->send_text(ch, body).ok());
    bodies.push_back(body);
  };
  auto everyone_has_all = [&] {
    for (Device* d : all)
      for (const auto& b : bodies)
        if (count_body(d, ch, b) != 1) return false;
    return true;
  };
  for (int i = 0; i < 3; ++i) {
    say(alice.get(), "alice " + std::to_string(i));
    say(bob.get(), "bob " + std::to_string(i));
  }
  // Crash while some of these may still be in flight, then keep talking.
  pump(all);
  if (graceful) {
    // terminate() blocks until the server exits; keep the clients polling
    // meanwhile so they can answer the server's closing handshake.
    std::atomic<int> status{-1};
    std::thread stopper([&] { status = server->terminate(5000); });
    wait_until(
        all, [&] { return status.load() != -1; }, milliseconds(6000));
    stopper.join();
    CHECK(status.load() == 0);
  } else {
    server->kill9();
  }
  for (int i = 3; i < 5; ++i) {
    say(alice.get(), "alice " + std::to_string(i));
    say(bob.get(), "bob " + std::to_string(i));
  }
  pump(all);
  REQUIRE(server->restart().ok());
  REQUIRE(wait_until(all, [&] {
    return all_live(all) && (*alice)->pending_ops().empty() && (*bob)->pending_ops().empty() &&
           everyone_has_all();
  }));
  for (Device* d : all) {
    INFO(d->name);
    CHECK(order_problem(d, ch, true) == "");
    CHECK((*d)->messages(ch, 500).size() == bodies.size());
    CHECK((*d)->channel(ch)->last_seq == bodies.size());
  }
  // per-sender order kept
  for (const char* who : {"alice ", "bob "}) {
    Seq prev = 0;
    for (int i = 0; i < 5; ++i) {
      auto m = find_body(alice.get(), ch, who + std::to_string(i));
      REQUIRE(m.has_value());
      CHECK(m->seq > prev);
      prev = m->seq;
    }
  }
}

}  // namespace

TEST_CASE("client: a server crash mid-conversation loses and duplicates nothing") {
  server_restart_scenario(false);
}

TEST_CASE("client: a graceful server restart mid-conversation loses and duplicates nothing") {
  server_restart_scenario(true);
}
