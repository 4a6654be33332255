#include "client/sim/simulation.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <sqlite3.h>

#include "client/core/list_diff.hpp"
#include "client/sim/model_server.hpp"
#include "common/protocol/codec.hpp"
#include "common/util/clock.hpp"
#include "common/util/random.hpp"

namespace chatsdk::client::sim {

namespace {

constexpr std::int64_t kStartWall = 1'700'000'000'000;
constexpr std::int64_t kSettleMs = 30'000;         // calm time after the last op resolved
constexpr std::int64_t kQuiesceLimitMs = 900'000;  // a history that has not settled by then fails

bool is_mutation(const proto::ClientFrame& f) {
  return std::holds_alternative<proto::Send>(f) || std::holds_alternative<proto::Edit>(f) ||
         std::holds_alternative<proto::Delete>(f) || std::holds_alternative<proto::React>(f);
}

/// What the app asked for, remembered outside the device (survives its crashes).
struct Issued {
  OpId op = 0;
  std::string client_id;
  std::string kind;
  std::string channel;
  bool maybe = false;  // the process died inside the call: the op may not have been stored
};

struct Device {
  std::string user;
  std::string name;  // "u0.d1": also the Core's device id
  std::string path;
  std::unique_ptr<Store> store;
  std::unique_ptr<Core> core;
  std::uint64_t incarnation = 0;  // bumped by every crash
  std::int64_t restart_at = -1;   // crashed: reopen at this time
  // A crash inside one input: the process dies right after its N-th commit;
  // later commits of that input roll back and none of its frames leave.
  int commits_left = -1;
  bool dying = false;
  // A crash inside a poll batch: the process dies after feeding this many
  // frames of its next batch that long, before end_batch() commits it.
  std::size_t batch_crash_after = 0;
  std::vector<Issued> issued;
  std::map<std::string, std::vector<std::string>> sends;  // channel -> client ids, call order
  std::set<std::string> keep;     // own sends never deleted (reactions may target them)
  std::set<std::string> deleted;  // own sends this device deleted
  // The app's view of the view-models, built only from the diffs (reset on boot).
  std::map<std::string, std::vector<TimelineItem>> timelines;
  std::set<std::string> opened;  // timelines open in this incarnation
  std::vector<ChannelItem> channel_list;
};

struct Conn {
  std::size_t device = 0;
  std::uint64_t incarnation = 0;
  ConnId core_conn = 0;
  bool alive = true;
  bool open = false;          // the server holds a session for it
  std::int64_t last_c2s = 0;  // per-direction FIFO: TCP never reorders within a connection
  std::int64_t last_s2c = 0;
};

struct Ev {
  enum class Kind { to_server, to_client, open_done, closed_notice } kind;
  std::uint64_t conn = 0;
  std::string bytes;
  bool ok = false;
};

class Sim {
 public:
  explicit Sim(const SimOptions& o) : o_(o), rng_(o.seed), server_(kStartWall, o.sync_limit) {
    result_.seed = o.seed;
    if (o.break_server_dedupe) server_.break_dedupe();
  }

  SimResult run();

 private:
  // randomness and tracing
  bool chance(double p) {
    return p > 0 && static_cast<double>(rng_.uniform(0, 999'999)) < p * 1'000'000.0;
  }
  std::uint64_t pick(std::size_t n) { return rng_.uniform(0, n - 1); }
  std::int64_t delay() {
    return static_cast<std::int64_t>(rng_.uniform(1, static_cast<std::uint64_t>(o_.max_delay_ms)));
  }
  void trace(const std::string& line) {
    for (char c : line) {  // FNV-1a
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 1099511628211ull;
    }
    hash_ ^= static_cast<std::uint64_t>(now());
    hash_ *= 1099511628211ull;
    if (o_.keep_trace) result_.trace.push_back(std::to_string(now()) + " " + line);
  }
  void fail(const std::string& what) { result_.failures.push_back(what); }
  std::int64_t now() const { return clock_.steady_ms(); }

  // world
  void setup();
  void boot(std::size_t d);
  void crash(std::size_t d);
  void cut(std::uint64_t c, bool notify_client, bool client_closed);
  void restart_server();
  void schedule(std::int64_t at, Ev ev) {
    queue_.emplace(std::make_pair(at, ++ev_seq_), std::move(ev));
  }
  void drain(std::size_t d);
  void deliver(const Ev& ev);
  void deliver_batch(Ev first);
  bool feed_frame(const Ev& ev);
  void to_server(std::uint64_t c, const std::string& bytes);
  void route(const std::vector<Outgoing>& out, std::uint64_t drop_for);
  void maybe_replay(std::uint64_t c);
  bool step_until(std::int64_t t);

  // workload and checks
  void workload_step(int step);
  void faults();
  bool settled() const;
  void check();
  std::vector<std::string> channels_of(const std::string& user) const;

  SimOptions o_;
  Rng rng_;
  ManualClock clock_{kStartWall, 0};
  ModelServer server_;
  bool faults_on_ = true;
  std::int64_t server_down_until_ = -1;
  std::vector<Device> devices_;
  std::map<std::uint64_t, Conn> conns_;
  std::uint64_t conn_seq_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, Ev> queue_;
  std::uint64_t ev_seq_ = 0;
  std::map<std::string, std::vector<std::string>> mutations_;  // user -> frames sent (encoded)
  std::uint64_t hash_ = 1469598103934665603ull;
  SimResult result_;
};

std::vector<std::string> Sim::channels_of(const std::string& user) const {
  std::vector<std::string> out;
  for (const auto& [id, c] : server_.channels())
    if (c.members.count(user) != 0) out.push_back(id);
  return out;
}

void Sim::setup() {
  std::filesystem::path dir = o_.dir;
  if (dir.empty())
    dir = std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                    : std::filesystem::temp_directory_path();
  std::vector<std::string> users;
  for (int u = 0; u < o_.users; ++u)
    users.push_back("u" + std::to_string(u));
  for (int c = 0; c < o_.channels; ++c) {
    std::vector<std::string> members;
    for (int u = 0; u < o_.users; ++u)  // channel c > 0 leaves out one user
      if (c == 0 || o_.users < 2 || (u % o_.channels) != c)
        members.push_back(users[static_cast<std::size_t>(u)]);
    server_.add_channel("c" + std::to_string(c), members);
  }
  if (o_.preload > 0 && o_.channels > 0) server_.preload("c0", users.front(), o_.preload);
  std::string tag = "chatsdk_sim_" + std::to_string(::getpid()) + "_" + std::to_string(o_.seed);
  for (const auto& u : users)
    for (int k = 0; k < o_.devices_per_user; ++k) {
      Device d;
      d.user = u;
      d.name = u + ".d" + std::to_string(k);
      d.path = (dir / (tag + "_" + d.name + ".db")).string();
      for (const char* s : {"", "-wal", "-shm"})
        std::filesystem::remove(d.path + s);
      devices_.push_back(std::move(d));
    }
  for (std::size_t d = 0; d < devices_.size(); ++d)
    boot(d);
}

void Sim::boot(std::size_t d) {
  Device& dev = devices_[d];
  auto s = Store::open(dev.path);
  if (!s) {
    fail(dev.name + ": store open failed: " + s.error().message);
    return;
  }
  dev.store = std::move(*s);
  dev.commits_left = -1;
  dev.dying = false;
  sqlite3_commit_hook(
      dev.store->db().handle(),
      [](void* p) -> int {
        auto* dv = static_cast<Device*>(p);
        if (dv->dying) return 1;  // dead processes commit nothing: roll back
        if (dv->commits_left > 0 && --dv->commits_left == 0) dv->dying = true;
        return 0;
      },
      &dev);
  CoreOptions co;
  co.device_id = dev.name;
  co.backoff = BackoffOptions{100, 5'000, 2.0};
  co.seed = o_.seed * 7919 + d * 104'729 + dev.incarnation * 15'485'863 + 1;
  std::string token = ModelServer::token_for(dev.user);
  dev.core = std::make_unique<Core>(co, *dev.store, clock_, [token] { return token; });
  dev.restart_at = -1;
  trace(dev.name + " boot " + std::to_string(dev.incarnation));
  dev.core->connect();
  drain(d);
}

void Sim::crash(std::size_t d) {
  Device& dev = devices_[d];
  if (!dev.core) return;
  ++result_.stats.crashes;
  trace(dev.name + " crash");
  for (auto& [id, c] : conns_)
    if (c.device == d && c.alive) cut(id, false, false);
  // Dropped without disconnect(): whatever the core had not written is lost,
  // exactly like a killed process. SQLite's journal makes the file consistent.
  dev.core.reset();
  dev.store.reset();
  dev.timelines.clear();
  dev.opened.clear();
  dev.channel_list.clear();
  ++dev.incarnation;
  dev.restart_at = now() + static_cast<std::int64_t>(rng_.uniform(0, 3'000));
}

void Sim::cut(std::uint64_t id, bool notify_client, bool client_closed) {
  Conn& c = conns_.at(id);
  if (!c.alive) return;
  c.alive = false;
  ++result_.stats.cuts;
  trace("cut " + std::to_string(id));
  // Frames in flight: a prefix of the client's reaches the server (a clean
  // close delivers all of them), nothing more reaches the client.
  std::vector<std::string> c2s;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->second.conn == id) {
      if (it->second.kind == Ev::Kind::to_server) c2s.push_back(it->second.bytes);
      if (it->second.kind == Ev::Kind::to_client && chance(0.2)) {
        it->second.ok = true;  // still reaches the client, late: it must ignore the old link
        ++it;
        continue;
      }
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  std::size_t reach = client_closed ? c2s.size() : pick(c2s.size() + 1);
  if (c.open) {
    for (std::size_t i = 0; i < reach; ++i) {
      auto f = proto::decode_client(c2s[i]);
      if (f) route(server_.handle(id, *f), id);  // the replies are lost with the link
    }
    server_.close_session(id);
    c.open = false;
  }
  if (notify_client && !chance(o_.p_silent_cut))
    schedule(now() + delay(), Ev{Ev::Kind::closed_notice, id, {}, false});
}

void Sim::restart_server() {
  ++result_.stats.server_restarts;
  trace("server restart");
  for (auto& [id, c] : conns_)
    if (c.alive) cut(id, true, false);
  server_.restart();
  server_down_until_ = now() + static_cast<std::int64_t>(rng_.uniform(100, 3'000));
}

void Sim::drain(std::size_t d) {
  Device& dev = devices_[d];
  if (!dev.core) return;
  if (dev.dying) {  // died inside the last input: its frames and events never left
    trace(dev.name + " died mid-input");
    ++result_.stats.mid_input_crashes;
    crash(d);
    return;
  }
  // Actions may cause more actions only through later inputs, so one pass suffices.
  for (auto& a : dev.core->take_actions()) {
    if (auto* open = std::get_if<OpenAction>(&a)) {
      std::uint64_t id = ++conn_seq_;
      conns_[id] = Conn{d, dev.incarnation, open->conn, true, false, 0, 0};
      bool ok = !(faults_on_ && chance(o_.p_connect_fail)) && now() >= server_down_until_;
      trace(dev.name + " open " + std::to_string(id) + (ok ? "" : " refused"));
      schedule(now() + delay(), Ev{Ev::Kind::open_done, id, {}, ok});
    } else if (auto* send = std::get_if<SendAction>(&a)) {
      for (auto& [id, c] : conns_) {
        if (c.device != d || c.incarnation != dev.incarnation || c.core_conn != send->conn ||
            !c.alive)
          continue;
        std::string bytes = proto::encode(send->frame);
        if (is_mutation(send->frame)) mutations_[dev.user].push_back(bytes);
        c.last_c2s = std::max(c.last_c2s, now() + delay());
        schedule(c.last_c2s, Ev{Ev::Kind::to_server, id, std::move(bytes), false});
      }
    } else if (auto* close = std::get_if<CloseAction>(&a)) {
      for (auto& [id, c] : conns_)
        if (c.device == d && c.incarnation == dev.incarnation && c.core_conn == close->conn &&
            c.alive)
          cut(id, false, true);
    }
  }
  // The app opens each channel's timeline as soon as the channel is known (from
  // the cache at boot, else from the first sync): views see every later input.
  for (const auto& ch : channels_of(dev.user))
    if (dev.opened.count(ch) == 0 && dev.core->channel(ch) && dev.core->open_timeline(ch))
      dev.opened.insert(ch);
  while (auto e = dev.core->next_event()) {
    trace(dev.name + " event " + std::to_string(e->index()));
    if (auto* t = std::get_if<TimelineDiff>(&*e)) apply_diff(dev.timelines[t->channel], t->ops);
    if (auto* l = std::get_if<ChannelListDiff>(&*e)) apply_diff(dev.channel_list, l->ops);
    if (o_.on_event) o_.on_event(dev.name, *e);
  }
}

void Sim::route(const std::vector<Outgoing>& out, std::uint64_t drop_for) {
  for (const auto& o : out) {
    if (o.session == drop_for) continue;
    auto it = conns_.find(o.session);
    if (it == conns_.end() || !it->second.alive) continue;
    Conn& c = it->second;
    c.last_s2c = std::max(c.last_s2c, now() + delay());
    schedule(c.last_s2c, Ev{Ev::Kind::to_client, o.session, proto::encode(o.frame), false});
  }
}

void Sim::to_server(std::uint64_t id, const std::string& bytes) {
  auto f = proto::decode_client(bytes);
  if (!f) {
    fail("server could not decode a client frame: " + f.error().message + ": " + bytes);
    return;
  }
  ++result_.stats.frames;
  server_.set_time(clock_.now_ms());
  route(server_.handle(id, *f), 0);
  if (std::holds_alternative<proto::Hello>(*f)) maybe_replay(id);
}

// A stale copy of a mutation this user sent earlier (on any device) reaches the
// server again, as if a resend from a dead connection had been delayed. Its reply
// goes nowhere; the server must recognise it, the client must not care.
void Sim::maybe_replay(std::uint64_t id) {
  Conn& c = conns_.at(id);
  auto& sent = mutations_[devices_[c.device].user];
  if (!faults_on_ || sent.empty() || !chance(o_.p_replay)) return;
  const std::string& bytes = sent[pick(sent.size())];
  trace("replay " + bytes);
  auto f = proto::decode_client(bytes);
  if (f) route(server_.handle(id, *f), id);
}

void Sim::deliver(const Ev& ev) {
  auto it = conns_.find(ev.conn);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  Device& dev = devices_[c.device];
  bool current = dev.core && dev.incarnation == c.incarnation;
  switch (ev.kind) {
    case Ev::Kind::open_done:
      if (!current || !c.alive) return;
      if (ev.ok && now() >= server_down_until_) {
        c.open = true;
        server_.open_session(ev.conn);
        trace(dev.name + " opened " + std::to_string(ev.conn));
        dev.core->on_open(c.core_conn);
      } else {
        c.alive = false;
        trace(dev.name + " refused " + std::to_string(ev.conn));
        dev.core->on_failed(c.core_conn, "refused");
      }
      break;
    case Ev::Kind::to_server:
      if (c.alive && c.open) {
        trace("c2s " + std::to_string(ev.conn) + " " + ev.bytes);
        to_server(ev.conn, ev.bytes);
      }
      return;
    case Ev::Kind::to_client:
      if (!feed_frame(ev)) return;
      break;
    case Ev::Kind::closed_notice:
      if (!current) return;
      trace(dev.name + " closed " + std::to_string(ev.conn));
      dev.core->on_closed(c.core_conn, 1006, "connection lost");
      break;
  }
  drain(c.device);
}

// One server frame into its device's core; false when it is not delivered
// (a dead incarnation, a dead link) or undecodable.
bool Sim::feed_frame(const Ev& ev) {
  Conn& c = conns_.at(ev.conn);
  Device& dev = devices_[c.device];
  bool current = dev.core && dev.incarnation == c.incarnation;
  if (!current || (!c.alive && !ev.ok)) return false;
  trace("s2c " + std::to_string(ev.conn) + " " + ev.bytes);
  auto f = proto::decode_server(ev.bytes);
  if (!f) {
    fail("client could not decode a server frame: " + f.error().message + ": " + ev.bytes);
    return false;
  }
  dev.core->on_frame(c.core_conn, *f);
  return true;
}

// A poll: the frame due now plus every later frame for the same device due
// within poll_batch_ms (up to the first other input of that device: opens and
// close notices keep their place), fed between begin_batch() and end_batch().
// Frames of other devices and frames to the server keep their order.
void Sim::deliver_batch(Ev first) {
  auto ci = conns_.find(first.conn);
  if (ci == conns_.end()) return;
  const std::size_t d = ci->second.device;
  std::vector<Ev> batch;
  batch.push_back(std::move(first));
  for (auto q = queue_.begin(); q != queue_.end();) {
    if (q->first.first > now() + o_.poll_batch_ms) break;
    auto c = conns_.find(q->second.conn);
    if (c == conns_.end() || c->second.device != d || q->second.kind == Ev::Kind::to_server) {
      ++q;
      continue;
    }
    if (q->second.kind != Ev::Kind::to_client) break;
    batch.push_back(std::move(q->second));
    q = queue_.erase(q);
  }
  Device& dev = devices_[d];
  if (batch.size() == 1 || !dev.core) {
    for (const Ev& ev : batch)
      deliver(ev);
    return;
  }
  ++result_.stats.batches;
  trace(dev.name + " poll " + std::to_string(batch.size()));
  dev.core->begin_batch();
  const std::size_t crash_after = dev.batch_crash_after > 0 && dev.batch_crash_after <= batch.size()
                                      ? dev.batch_crash_after
                                      : 0;
  std::size_t fed = 0;
  for (const Ev& ev : batch) {
    ++fed;
    (void)feed_frame(ev);
    if (fed == crash_after) {
      // Killed between two inputs of the poll (or after the last, before the
      // commit): the open transaction dies with the connection to the file.
      trace(dev.name + " died mid-batch after " + std::to_string(fed));
      ++result_.stats.mid_batch_crashes;
      dev.batch_crash_after = 0;
      crash(d);
      return;
    }
  }
  dev.core->end_batch();
  drain(d);
}

// Runs every timer and delivery due up to `t`, in time order (ties: devices
// before the network, devices in index order, deliveries in scheduling order).
bool Sim::step_until(std::int64_t t) {
  for (int guard = 0; guard < 1'000'000; ++guard) {
    std::int64_t next = t;
    for (const auto& d : devices_) {
      if (d.core) {
        if (auto dl = d.core->next_deadline()) next = std::min(next, std::max(*dl, now()));
      } else if (d.restart_at >= 0) {
        next = std::min(next, std::max(d.restart_at, now()));
      }
    }
    if (!queue_.empty()) next = std::min(next, std::max(queue_.begin()->first.first, now()));
    if (next > now()) clock_.advance(next - now());
    bool did = false;
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      Device& d = devices_[i];
      if (!d.core && d.restart_at >= 0 && d.restart_at <= now()) {
        boot(i);
        did = true;
      }
      if (d.core) {
        auto dl = d.core->next_deadline();
        if (dl && *dl <= now()) {
          d.core->tick();
          drain(i);
          did = true;
        }
      }
    }
    if (!queue_.empty() && queue_.begin()->first.first <= now()) {
      Ev ev = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
      if (ev.kind == Ev::Kind::to_client && o_.poll_batch_ms > 0)
        deliver_batch(std::move(ev));
      else
        deliver(ev);
      did = true;
    }
    if (!did && now() >= t) return true;
  }
  fail("livelock: a timer keeps firing without time passing");
  return false;
}

void Sim::faults() {
  if (chance(o_.p_cut)) {
    std::vector<std::uint64_t> live;
    for (auto& [id, c] : conns_)
      if (c.alive) live.push_back(id);
    if (!live.empty()) cut(live[pick(live.size())], true, false);
  }
  if (chance(o_.p_crash)) {
    std::size_t d = pick(devices_.size());
    if (devices_[d].core) {
      std::uint64_t how = rng_.uniform(0, 5);
      if (how < 2)
        crash(d);  // between two inputs
      else if (how < 4 || o_.poll_batch_ms == 0)
        devices_[d].commits_left = static_cast<int>(rng_.uniform(1, 6));  // inside a later one
      else  // inside a later poll batch, before it commits
        devices_[d].batch_crash_after = static_cast<std::size_t>(rng_.uniform(1, 3));
    }
  }
  if (chance(o_.p_server_restart)) restart_server();
}

void Sim::workload_step(int step) {
  std::size_t d = pick(devices_.size());
  Device& dev = devices_[d];
  if (!dev.core) return;
  auto chans = channels_of(dev.user);
  const std::string ch = chans[pick(chans.size())];
  Core& core = *dev.core;
  std::uint64_t roll = rng_.uniform(0, 99);
  Result<OpId> r(Errc::invalid_argument, "no command");
  std::string kind;
  std::string sends_cid;
  bool keep = false;
  auto& mine = dev.sends[ch];
  std::vector<std::string> editable;
  for (const auto& cid : mine)
    if (dev.deleted.count(cid) == 0) editable.push_back(cid);
  if (roll < 45 || (roll < 68 && editable.empty())) {
    keep = chance(0.5);
    kind = "send";
    r = core.send_text(ch, (keep ? "keep " : "m ") + std::to_string(step));
  } else if (roll < 60) {
    const std::string& cid = editable[pick(editable.size())];
    kind = "edit";
    r = core.edit(MessageRef{ch, 0, cid},
                  (dev.keep.count(cid) ? "keep edited " : "m edited ") + std::to_string(step));
  } else if (roll < 68) {
    std::vector<std::string> deletable;
    for (const auto& cid : editable)
      if (dev.keep.count(cid) == 0) deletable.push_back(cid);
    if (deletable.empty()) return;
    const std::string cid = deletable[pick(deletable.size())];
    kind = "delete";
    r = core.remove(MessageRef{ch, 0, cid});
    if (r) dev.deleted.insert(cid);
  } else if (roll < 85) {
    // React to a message that can never be deleted: the server's own copy says "keep".
    std::vector<Message> targets;
    for (auto& m : core.latest_messages(ch, 50))
      if (m.seq != 0 && m.body.rfind("keep", 0) == 0) targets.push_back(m);
    if (targets.empty()) return;
    const Message& m = targets[pick(targets.size())];
    static const char* kEmoji[] = {"+1", "heart", "tada"};
    kind = "react";
    r = core.react(MessageRef{ch, m.seq, {}}, kEmoji[pick(3)], chance(0.7));
  } else if (roll < 95) {
    kind = "mark_read";
    r = core.mark_read(ch, 0);
  } else {  // scroll up: history from the cache or the server; no op
    trace(dev.name + " load_older " + ch);
    for (std::uint64_t k = rng_.uniform(1, 3); k > 0; --k)  // a fling: a page or three
      (void)core.load_older(ch);
    drain(d);
    return;
  }
  if (!r) {  // e.g. a channel this device has not synced yet: the app is told, nothing queued
    trace(dev.name + " " + kind + " " + ch + " refused: " + r.error().message);
    drain(d);
    return;
  }
  auto op = core.op(*r);
  std::string cid = op ? op->client_id : std::string();
  trace(dev.name + " " + kind + " " + ch + " " + cid);
  ++result_.stats.ops;
  dev.issued.push_back({*r, cid, kind, ch, dev.dying});
  if (kind == "send") {
    mine.push_back(cid);
    if (keep) dev.keep.insert(cid);
  }
  drain(d);
}

bool Sim::settled() const {
  for (const auto& [at, ev] : queue_) {  // heartbeats never stop: they do not count
    bool heartbeat =
        ev.bytes.rfind(R"({"type":"ping")", 0) == 0 || ev.bytes.rfind(R"({"type":"pong")", 0) == 0;
    if (!heartbeat) return false;
  }
  for (const auto& d : devices_) {
    if (!d.core) return false;
    if (d.core->state() != ConnectionState::live) return false;
    if (!const_cast<Core&>(*d.core).pending_ops().empty()) return false;
  }
  return true;
}

void Sim::check() {
  // Server side: every op once, nothing nobody issued.
  std::map<std::pair<std::string, std::string>, int> applied;
  for (const auto& a : server_.applied())
    ++applied[{a.user, a.client_id}];
  std::set<std::pair<std::string, std::string>> issued;
  std::map<std::pair<std::string, std::string>, proto::Seq> seq_of;
  for (const auto& a : server_.applied())
    if (a.kind == "send") seq_of[{a.user, a.client_id}] = a.seq;
  for (auto& dev : devices_) {
    for (const auto& op : dev.issued) {
      if (op.kind == "mark_read") continue;  // no client_id on the wire: checked by cursors
      issued.insert({dev.user, op.client_id});
      int n = applied[{dev.user, op.client_id}];
      if (n != 1 && !(op.maybe && n == 0))
        fail(dev.name + ": " + op.kind + " " + op.client_id + " in " + op.channel + " applied " +
             std::to_string(n) + " times");
    }
    for (const auto& p : dev.core->pending_ops())  // failed counts as open: nothing may fail
      fail(dev.name + ": op " + p.client_id + " still open (state " +
           std::to_string(static_cast<int>(p.state)) + ")");
    for (const auto& [ch, cids] : dev.sends) {
      proto::Seq prev = 0;
      for (const auto& cid : cids) {
        proto::Seq s = seq_of[{dev.user, cid}];
        if (s != 0 && s <= prev)
          fail(dev.name + ": send order broken in " + ch + ": " + cid + " got seq " +
               std::to_string(s) + " after seq " + std::to_string(prev));
        prev = std::max(prev, s);
      }
    }
  }
  for (const auto& a : server_.applied())
    if (issued.count({a.user, a.client_id}) == 0)
      fail("server applied an op nobody issued: " + a.user + " " + a.client_id + " " + a.kind);

  // Every device: cache == server for its channels; cursors and unread equal.
  for (auto& dev : devices_) {
    for (const auto& [id, c] : server_.channels()) {
      if (c.members.count(dev.user) == 0) continue;
      std::string where = dev.name + " " + id + ": ";
      auto msgs = dev.store->messages_from(id, 1);
      proto::Seq expect = msgs.empty() ? 1 : msgs.front().seq;
      if (c.info.last_seq <= 50 && expect != 1 && !c.messages.empty())
        fail(where + "cache starts at seq " + std::to_string(expect));
      for (const auto& m : msgs) {
        if (m.seq != expect) {
          fail(where + "cache has seq " + std::to_string(m.seq) + " where " +
               std::to_string(expect) + " belongs (duplicate, gap or disorder)");
          break;
        }
        ++expect;
        if (m.seq == 0 || m.seq > c.messages.size()) {
          fail(where + "cache has seq " + std::to_string(m.seq) + " the server never assigned");
          break;
        }
        const proto::Message& s = c.messages[m.seq - 1];
        // Reactions as a set (their order is not part of the protocol); * = mine.
        std::set<std::string> rs1, rs2;
        for (auto& x : m.reactions)
          rs1.insert(x.emoji + ":" + std::to_string(x.count) + (x.mine ? "*" : ""));
        for (auto& x : s.reactions) {
          auto who = c.reactors.find(std::to_string(s.seq) + "/" + x.emoji);
          bool mine = who != c.reactors.end() && who->second.count(dev.user) != 0;
          rs2.insert(x.emoji + ":" + std::to_string(x.count) + (mine ? "*" : ""));
        }
        std::string r1, r2;
        for (auto& x : rs1)
          r1 += x + " ";
        for (auto& x : rs2)
          r2 += x + " ";
        if (m.client_id != s.client_id || m.body != s.body || m.deleted != s.deleted ||
            m.version != s.version || m.sender != s.sender || r1 != r2)
          fail(where + "seq " + std::to_string(m.seq) + " differs: cache v" +
               std::to_string(m.version) + " '" + m.body + "' [" + r1 + "] server v" +
               std::to_string(s.version) + " '" + s.body + "' [" + r2 + "]");
      }
      if (!c.messages.empty() && expect != c.info.last_seq + 1)
        fail(where + "cache ends at seq " + std::to_string(expect - 1) + ", server at " +
             std::to_string(c.info.last_seq));
      if (dev.opened.count(id) == 0) fail(where + "timeline never opened");
      auto tl = dev.core->timeline(id);
      std::set<Seq> seen;
      Seq prev = 0;
      for (const auto& item : tl) {
        if (item.message.seq == 0) {
          fail(where + "timeline still shows an unconfirmed echo " + item.message.client_id);
          continue;
        }
        if (!seen.insert(item.message.seq).second)
          fail(where + "timeline shows seq " + std::to_string(item.message.seq) + " twice");
        if (item.message.seq < prev) fail(where + "timeline out of seq order");
        prev = item.message.seq;
      }
      if (dev.timelines[id] != tl)
        fail(where + "timeline built from diffs (" + std::to_string(dev.timelines[id].size()) +
             " items) differs from the core's (" + std::to_string(tl.size()) + ")");
      auto ch = dev.core->channel(id);
      if (!ch) {
        fail(where + "channel missing on the device");
        continue;
      }
      proto::Seq read = c.read_seq.at(dev.user);
      auto unread = static_cast<std::uint32_t>(c.info.last_seq - read);
      if (ch->read_seq != read || ch->unread != unread || ch->last_seq != c.info.last_seq)
        fail(where + "read/unread/last " + std::to_string(ch->read_seq) + "/" +
             std::to_string(ch->unread) + "/" + std::to_string(ch->last_seq) + ", server " +
             std::to_string(read) + "/" + std::to_string(unread) + "/" +
             std::to_string(c.info.last_seq));
    }
    std::vector<Channel> from_diffs;
    for (const auto& item : dev.channel_list)
      from_diffs.push_back(item.channel);
    if (from_diffs != dev.core->channels())
      fail(dev.name + ": channel list built from diffs differs from the cache's");
    if (o_.check)
      for (auto& f : o_.check(dev.name, *dev.core, *dev.store))
        fail(dev.name + ": " + f);
  }
}

SimResult Sim::run() {
  setup();
  std::int64_t t = now();
  for (int step = 0; step < o_.workload_steps && result_.failures.empty(); ++step) {
    t += static_cast<std::int64_t>(rng_.uniform(0, static_cast<std::uint64_t>(2 * o_.step_ms)));
    if (!step_until(t)) break;
    faults();
    workload_step(step);
  }
  // Quiesce: heal the network, bring every device back, let everything settle.
  faults_on_ = false;
  trace("quiesce");
  for (std::size_t d = 0; d < devices_.size(); ++d) {
    if (!devices_[d].core) boot(d);
    devices_[d].commits_left = -1;  // disarm crashes not yet reached
    devices_[d].batch_crash_after = 0;
  }
  std::int64_t limit = now() + kQuiesceLimitMs;
  std::int64_t calm_since = -1;
  while (result_.failures.empty() && now() < limit) {
    if (!step_until(now() + 1'000)) break;
    if (settled()) {
      if (calm_since < 0) calm_since = now();
      if (now() - calm_since >= kSettleMs) break;
    } else {
      calm_since = -1;
    }
  }
  if (result_.failures.empty() && !settled()) {
    std::ostringstream why;
    for (const auto& d : devices_)
      why << " " << d.name << ":state=" << static_cast<int>(d.core->state())
          << ",open_ops=" << d.core->pending_ops().size();
    fail("did not settle within " + std::to_string(kQuiesceLimitMs / 1000) +
         " s of calm network:" + why.str());
  }
  if (result_.failures.empty() || std::all_of(devices_.begin(), devices_.end(),
                                              [](const Device& d) { return d.core != nullptr; }))
    check();
  result_.stats.replays = server_.replays();
  result_.stats.virtual_ms = now();
  result_.trace_hash = hash_;
  for (auto& d : devices_) {
    d.core.reset();
    d.store.reset();
    for (const char* s : {"", "-wal", "-shm"})
      std::filesystem::remove(d.path + s);
  }
  return std::move(result_);
}

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  Sim sim(options);
  return sim.run();
}

std::optional<std::uint64_t> seed_from_env() {
  const char* s = std::getenv("CHATSDK_SIM_SEED");
  if (s == nullptr || *s == '\0') return std::nullopt;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0') return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

}  // namespace chatsdk::client::sim
