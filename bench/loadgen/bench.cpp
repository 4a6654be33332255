#include "bench.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <rapidjson/document.h>

#include "clock.hpp"
#include "common/util/ids.hpp"
#include "fast_scan.hpp"
#include "token.hpp"

namespace chatsdk::bench {
namespace {

using rapidjson::Value;

std::uint64_t get_u64(const Value& o, const char* k) {
  if (!o.IsObject()) return 0;
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}
std::string_view get_str(const Value& o, const char* k) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsString()
             ? std::string_view(it->value.GetString(), it->value.GetStringLength())
             : std::string_view{};
}
bool get_bool(const Value& o, const char* k) {
  if (!o.IsObject()) return false;
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
const Value* get_obj(const Value& o, const char* k) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

}  // namespace

Bench::Bench(const Options& opts, ReportContext ctx)
    : opts_(opts), ctx_(std::move(ctx)), server_pids_(opts.pids("server-pid")), loop_(*this) {
  for (const auto& u : ctx_.urls) {
    Endpoint ep;
    std::string err;
    if (!parse_ws_url(u, ep, err)) {
      std::cerr << "bad --url " << u << ": " << err << "\n";
      std::exit(2);
    }
    endpoints_.push_back(ep);
  }
  secret_ = opts.str("secret", "chatsdk-bench-secret");
  ack_timeout_ms = opts.num("ack-timeout-ms", 10000);
  connect_timeout_ms = opts.num("connect-timeout-ms", 20000);
  body.assign(static_cast<std::size_t>(opts.num("body-bytes", 64)), 'x');
  ulid_client_ids = opts.str("client-ids", "ulid") != "counter";
  source_spread = static_cast<std::uint32_t>(opts.num("conns-per-source", 25000));
  fast_scan = !opts.has("no-fast-scan");
  loop_.on_tick = [this] { tick(); };
}

std::uint32_t Bench::add_room(const std::string& name, const std::string& kind) {
  const auto idx = static_cast<std::uint32_t>(rooms_.size());
  rooms_.emplace_back();
  rooms_.back().name = name;
  rooms_.back().kind = kind;
  room_by_name_[name] = idx;
  return idx;
}

std::uint32_t Bench::add_client(const std::string& user, std::vector<std::uint32_t> rooms,
                                std::uint32_t global_idx) {
  const auto idx = static_cast<std::uint32_t>(clients_.size());
  clients_.emplace_back();
  Client& c = clients_.back();
  c.idx = idx;
  c.global_idx = global_idx;
  c.user = user;
  c.rooms = std::move(rooms);
  c.url = static_cast<std::uint32_t>(global_idx % endpoints_.size());
  return idx;
}

void Bench::assign_creators() {
  for (auto& c : clients_)
    for (auto r : c.rooms)
      if (rooms_[r].creator == kNone && !rooms_[r].created) rooms_[r].creator = c.idx;
}

// ------------------------------------------------------------------ connecting

void Bench::start_client(std::uint32_t idx) {
  Client& c = clients_[idx];
  if (c.conn) loop_.retire(std::move(c.conn));
  if (c.token.empty())
    c.token = sign_token(c.user, secret_, static_cast<std::int64_t>(now_ms() / 1000));
  in_addr_t src = 0;
  if (spread_sources) src = htonl((127u << 24) | (2u + c.global_idx / std::max(1u, source_spread)));
  c.pending.clear();
  c.phase = Phase::connecting;
  c.t_start = now_ms();
  c.fail_reason.clear();
  c.conn = loop_.connect(endpoints_[c.url], idx, src);
  if (c.conn->state() == Conn::State::closed) fail_client(c, "socket/connect error");
}

void Bench::on_open(Conn& conn) {
  Client& c = clients_[conn.tag()];
  std::string f = R"({"type":"hello","id":1,"token":")" + c.token + R"(","protocol":1})";
  c.pending[1] = Pending{ReqKind::hello, kNone, 0};
  conn.send_text(f);
}

void Bench::fail_client(Client& c, const std::string& why) {
  if (c.conn) {
    c.conn->terminate();
    loop_.retire(std::move(c.conn));
  }
  const bool was_ready = c.phase == Phase::ready;
  c.phase = Phase::failed;
  c.fail_reason = why;
  if (!was_ready) client_done(c, false);
}

void Bench::client_done(Client& c, bool ok) {
  if (!ramp_.active) {
    if (ok && on_ready) on_ready(c);
    return;
  }
  if (ok) {
    ramp_.conn_hist.record(now_ms() - c.t_start);
  } else {
    ++ramp_.failed;
    ++ramp_.errors[c.fail_reason.substr(0, 60)];
  }
  if (ramp_.inflight) --ramp_.inflight;
  ++ramp_.done;
  if (ok && on_ready) on_ready(c);
  while (ramp_.inflight < ramp_.conc && ramp_.next < ramp_.order.size()) {
    ++ramp_.inflight;
    start_client(ramp_.order[ramp_.next++]);
  }
}

Ramp& Bench::connect_all(const std::vector<std::uint32_t>& order, std::uint32_t conc,
                         double max_ms) {
  ramp_ = Ramp{};
  ramp_.active = true;
  ramp_.order = order;
  ramp_.conc = std::max(1u, conc);
  ramp_.t0 = now_ms();
  while (ramp_.inflight < ramp_.conc && ramp_.next < ramp_.order.size()) {
    ++ramp_.inflight;
    start_client(ramp_.order[ramp_.next++]);
  }
  loop_.run_until([this] { return ramp_.done >= ramp_.order.size(); }, max_ms);
  ramp_.active = false;
  return ramp_;
}

void Bench::start_joins(Client& c) {
  c.phase = Phase::joining;
  c.joins_left = static_cast<std::uint32_t>(c.rooms.size());
  if (c.joins_left == 0) {
    c.phase = Phase::ready;
    client_done(c, true);
    return;
  }
  for (auto r : c.rooms) {
    Room& room = rooms_[r];
    if (room.created) {
      send_join(c, r);
    } else if (room.creator == c.idx && !room.create_sent) {
      room.create_sent = true;
      const std::string client_id = "mk." + room.name;
      send_request(c, ReqKind::create, [&](std::uint64_t id) {
        return R"({"type":"channel_create","id":)" + std::to_string(id) + R"(,"client_id":")" +
               client_id + R"(","kind":")" + room.kind + R"(","channel":")" + room.name +
               R"(","public":true})";
      });
      c.pending[c.next_id - 1].room = r;
    } else {
      room.waiting.push_back(c.idx);
    }
  }
}

void Bench::send_join(Client& c, std::uint32_t r) {
  const Room& room = rooms_[r];
  send_request(c, ReqKind::join, [&](std::uint64_t id) {
    return R"({"type":"join","id":)" + std::to_string(id) + R"(,"channel":")" + room.name + R"("})";
  });
  c.pending[c.next_id - 1].room = r;
}

void Bench::room_created(std::uint32_t r) {
  Room& room = rooms_[r];
  if (room.created) return;
  room.created = true;
  std::vector<std::uint32_t> waiting;
  waiting.swap(room.waiting);
  for (auto idx : waiting) {
    Client& w = clients_[idx];
    if (w.phase == Phase::joining && w.conn && w.conn->state() == Conn::State::open)
      send_join(w, r);
  }
}

void Bench::joined(Client& c, std::uint32_t r, double now) {
  (void)now;
  Room& room = rooms_[r];
  if (std::find(room.member_clients.begin(), room.member_clients.end(), c.idx) ==
      room.member_clients.end()) {
    room.member_clients.push_back(c.idx);
    ++room.members;
  }
  if (c.joins_left && --c.joins_left == 0 && c.phase == Phase::joining) {
    c.phase = Phase::ready;
    client_done(c, true);
  }
}

void Bench::on_closed(Conn& conn, int code, const char* why) {
  Client& c = clients_[conn.tag()];
  if (c.conn.get() != &conn) return;  // an older connection of this client
  ++close_codes[code];
  if (c.phase == Phase::ready) {
    ++c.disc;
    c.phase = Phase::closed;
    loop_.retire(std::move(c.conn));
    if (on_lost) on_lost(c);
    return;
  }
  if (c.phase == Phase::connecting || c.phase == Phase::joining) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s (close %d)", why, code);
    fail_client(c, c.fail_reason.empty() ? buf : c.fail_reason);
    return;
  }
  loop_.retire(std::move(c.conn));
}

// ------------------------------------------------------------------ requests

std::uint64_t Bench::send_request(Client& c, ReqKind kind,
                                  const std::function<std::string(std::uint64_t)>& build) {
  const std::uint64_t id = c.next_id++;
  c.pending[id] = Pending{kind, kNone, 0};
  if (c.conn) c.conn->send_text(build(id));
  return id;
}

std::string Bench::sent_at_text(double t) const {
  char b[40];
  std::snprintf(b, sizeof b, "%.3f", t);
  return b;
}

void Bench::send_message(Client& c, std::uint32_t r) {
  if (!c.conn || c.conn->state() != Conn::State::open) return;
  const double sent_at = now_ms();
  const std::uint64_t id = c.next_id++;
  const Room& room = rooms_[r];
  char num[64];
  std::string f;
  f.reserve(160 + body.size() + room.name.size() + c.user.size());
  f += R"({"type":"send","id":)";
  std::snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(id));
  f += num;
  f += R"(,"channel":")";
  f += room.name;
  f += R"(","client_id":")";
  ++c.sent;
  if (ulid_client_ids) {
    f += new_client_id(id_rng, static_cast<std::int64_t>(sent_at));
  } else {
    f += c.user;
    std::snprintf(num, sizeof num, "-%llu", static_cast<unsigned long long>(c.sent));
    f += num;
  }
  f += R"(","body":")";
  f += body;
  f += R"(","metadata":{"sent_at":)";
  std::snprintf(num, sizeof num, "%.3f", sent_at);
  f += num;
  f += "}}";
  // the value the receivers will see, after the same decimal round trip
  const double stamped = std::strtod(num, nullptr);
  c.pending[id] = Pending{ReqKind::send, r, stamped};
  ++tr_.sends;
  ++tr_.pending;
  if (stamped >= tr_.w_start && stamped < tr_.w_end) ++tr_.sends_win;
  c.conn->send_text(f);
}

std::uint64_t Bench::send_history(Client& c, std::uint32_t r, std::uint64_t after,
                                  std::uint32_t limit) {
  const Room& room = rooms_[r];
  const auto id = send_request(c, ReqKind::history, [&](std::uint64_t rid) {
    return R"({"type":"history","id":)" + std::to_string(rid) + R"(,"channel":")" + room.name +
           R"(","after":)" + std::to_string(after) + R"(,"limit":)" + std::to_string(limit) + "}";
  });
  c.pending[id].room = r;
  return id;
}

std::uint64_t Bench::send_sync(Client& c, std::uint32_t r, std::uint64_t after) {
  if (after > 0) return send_history(c, r, after);
  const Room& room = rooms_[r];
  const auto id = send_request(c, ReqKind::history, [&](std::uint64_t rid) {
    return R"({"type":"history","id":)" + std::to_string(rid) + R"(,"channel":")" + room.name +
           R"(","before":)" + std::to_string(kPageLimit + 1) + R"(,"limit":)" +
           std::to_string(kPageLimit) + "}";
  });
  c.pending[id].room = r;
  return id;
}

// ------------------------------------------------------------------ receiving

void Bench::on_message(Conn& conn, char* data, std::size_t len) {
  Client& c = clients_[conn.tag()];
  if (c.conn.get() != &conn) return;
  const double now = now_ms();
  // one WebSocket message may carry several frames, one per line
  std::size_t start = 0;
  while (start < len) {
    char* nl = static_cast<char*>(std::memchr(data + start, '\n', len - start));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - data) : len;
    if (end > start) {
      data[end] = '\0';
      handle_frame(c, data + start, end - start, now);
      if (c.conn.get() != &conn || conn.state() == Conn::State::closed) return;
    }
    start = end + 1;
  }
}

void Bench::on_delivery(Client& c, std::uint64_t seq, std::string_view sender, bool has_sent_at,
                        double sent_at, double now) {
  if (sender == c.user) {
    ++tr_.echoes;  // not a delivery (WORKLOAD.md: echoes to the sender are ignored)
    return;
  }
  ++tr_.deliv;
  if (!c.seen.add(seq)) ++tr_.dup_deliv;
  if (now >= tr_.w_start && now < tr_.w_end) ++tr_.deliv_win;
  if (!has_sent_at || !(sent_at >= tr_.w_start && sent_at < tr_.w_end)) return;
  const double l = now - sent_at;
  tr_.lat.record(l);
  if (tr_.per_msg && !c.rooms.empty() && seq < (1u << 26)) {
    Room& room = rooms_[c.rooms[0]];
    if (seq >= room.per_msg.size())
      room.per_msg.resize(std::max<std::size_t>(seq + 1, room.per_msg.size() * 2));
    PerMsg& pm = room.per_msg[seq];
    ++pm.cnt;
    pm.in_window = true;
    if (static_cast<float>(l) > pm.max_ms) pm.max_ms = static_cast<float>(l);
  }
}

void Bench::handle_frame(Client& c, char* frame, std::size_t len, double now) {
  if (c.capture) c.frames.emplace_back(frame, len);
  if (fast_scan) {
    // events nothing here measures (member joins fan out to every member: a
    // large room's ramp sends R^2/2 of them) are dropped unparsed
    static constexpr std::string_view kIgnored[] = {
        R"({"type":"member",)", R"({"type":"receipt",)", R"({"type":"presence",)",
        R"({"type":"typing",)", R"({"type":"channel_added",)"};
    const std::string_view fv(frame, len);
    for (auto prefix : kIgnored) {
      if (fv.substr(0, prefix.size()) == prefix) {
        ++ignored_frames;
        return;
      }
    }
    MessageFields mf;
    if (scan_message_event(std::string_view(frame, len), mf)) {
      ++fast_frames;
      if (mf.created) on_delivery(c, mf.seq, mf.sender, mf.has_sent_at, mf.sent_at, now);
      return;
    }
  }
  char stack[16384];
  rapidjson::MemoryPoolAllocator<> alloc(stack, sizeof stack);
  rapidjson::Document doc(&alloc);
  doc.ParseInsitu(frame);
  if (doc.HasParseError() || !doc.IsObject()) {
    ++tr_.errors["unparseable frame"];
    return;
  }
  ++dom_frames;
  const auto type = get_str(doc, "type");
  if (type == "message") {
    if (get_str(doc, "change") != "created") return;
    const Value* m = get_obj(doc, "message");
    if (!m) return;
    double sent_at = 0;
    bool has = false;
    if (const Value* md = get_obj(*m, "metadata")) {
      auto it = md->FindMember("sent_at");
      if (it != md->MemberEnd() && it->value.IsNumber()) {
        sent_at = it->value.GetDouble();
        has = true;
      }
    }
    on_delivery(c, get_u64(*m, "seq"), get_str(*m, "sender"), has, sent_at, now);
    return;
  }
  const std::uint64_t id = get_u64(doc, "id");
  auto pit = id ? c.pending.find(id) : c.pending.end();
  if (pit == c.pending.end()) {
    if (type == "notice") ++notices;
    return;  // events we do not measure: member, channel_added, receipt, presence, pong...
  }
  const Pending p = pit->second;
  c.pending.erase(pit);
  const bool is_error = type == "error";
  const std::string code = is_error ? std::string(get_str(doc, "code")) : std::string();
  switch (p.kind) {
    case ReqKind::hello:
      if (type == "welcome") {
        if (const auto hb = get_u64(doc, "heartbeat_ms")) heartbeat_ms_ = static_cast<double>(hb);
        start_joins(c);
      } else if (c.capture) {
        // the check wants to see the server close the connection itself
        c.fail_reason = "hello refused: " + code;
      } else {
        fail_client(c, "hello refused: " + code);
      }
      return;
    case ReqKind::create:
      if (type == "channel" || code == "already_exists") {
        room_created(p.room);
        if (type == "channel") {
          joined(c, p.room, now);
        } else {
          send_join(c, p.room);
        }
      } else {
        fail_client(c, "channel_create refused: " + code);
      }
      return;
    case ReqKind::join:
      if (type == "channel") {
        joined(c, p.room, now);
      } else {
        fail_client(c, "join refused: " + code);
      }
      return;
    case ReqKind::send: {
      if (tr_.pending) --tr_.pending;
      if (now - p.sent_at > ack_timeout_ms) {
        ++tr_.ack_timeouts;
        return;
      }
      if (type != "sent" && type != "already_applied") {
        ++tr_.ack_errors;
        ++tr_.errors["send: " + (is_error ? code : std::string(type))];
        return;
      }
      if (type == "already_applied") ++tr_.ack_dup;
      ++tr_.acked;
      const auto seq = get_u64(doc, "seq");
      if (!c.rooms.empty() && p.room == c.rooms[0]) c.seen.add(seq);
      Room& room = rooms_[p.room];
      if (!room.assigned.add(seq)) ++tr_.assign_dup;
      tr_.expected += room.total_members() ? room.total_members() - 1 : 0;
      if (p.sent_at >= tr_.w_start && p.sent_at < tr_.w_end) {
        tr_.ack.record(now - p.sent_at);
        if (tr_.per_msg && seq < (1u << 26)) {
          if (seq >= room.per_msg.size())
            room.per_msg.resize(std::max<std::size_t>(seq + 1, room.per_msg.size() * 2));
          room.per_msg[seq].in_window = true;
        }
      }
      return;
    }
    case ReqKind::history: {
      if (type != "history_page") {
        ++sync_failed;
        c.caught_ms = -2;
        ++tr_.errors["history: " + code];
        return;
      }
      ++c.sync_pages;
      std::uint64_t after = 0;
      const Value& root = doc;
      auto mit = root.FindMember("messages");
      if (mit != root.MemberEnd() && mit->value.IsArray()) {
        for (const auto& m : mit->value.GetArray()) {
          const auto seq = get_u64(m, "seq");
          if (c.seen.add(seq))
            ++c.recovered;
          else
            ++sync_dup;
          after = std::max(after, seq);
        }
      }
      if (get_bool(doc, "more_after")) {
        send_sync(c, p.room, std::max(after, c.seen.contig()));
      } else {
        c.caught_ms = now - storm_t1;
        caught_hist.record(c.caught_ms);
      }
      return;
    }
    case ReqKind::other:
      return;
  }
}

// ------------------------------------------------------------------ ticking

void Bench::heartbeat(double now) {
  // the server closes a session that sent nothing for 2.5 heartbeats
  if (now - last_hb_ < 1000) return;
  last_hb_ = now;
  const double quiet = heartbeat_ms_ * 0.5;
  for (auto& c : clients_)
    if (c.phase == Phase::ready && c.conn && now - c.conn->last_tx_ms() > quiet)
      c.conn->send_text(R"({"type":"ping"})");
}

void Bench::tick() {
  const double now = now_ms();
  if (ramp_.active && now - last_timeout_scan_ > 250) {
    last_timeout_scan_ = now;
    for (std::size_t i = 0; i < ramp_.next; ++i) {
      Client& c = clients_[ramp_.order[i]];
      if ((c.phase == Phase::connecting || c.phase == Phase::joining) &&
          now - c.t_start > connect_timeout_ms)
        fail_client(c, "connect timeout");
    }
  }
  if (ramp_.active && now - last_progress_ > 5000) {
    // long ramps (large scenarios) report progress on stderr; RESULT stays on stdout
    if (last_progress_ > 0)
      std::fprintf(stderr, "ramp: %u/%zu done, %u failed, %.1f s\n", ramp_.done, ramp_.order.size(),
                   ramp_.failed, (now - ramp_.t0) / 1000);
    last_progress_ = now;
  }
  heartbeat(now);
  for (auto& t : tickers)
    t(now);
}

}  // namespace chatsdk::bench
