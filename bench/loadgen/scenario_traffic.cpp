// (b) pairs and (c) room: open-loop sending, latency, loss and CPU per op.
#include <cmath>
#include <iostream>

#include "clock.hpp"
#include "probes.hpp"
#include "scenarios.hpp"
#include "workers.hpp"

namespace chatsdk::bench {
namespace {

struct Integrity {
  std::uint64_t lost = 0, gaps = 0;
};

Integrity integrity(Bench& b) {
  Integrity in;
  for (const auto& room : b.rooms()) {
    const auto h = room.assigned.max();
    in.gaps += room.assigned.missing(h);
    for (auto ci : room.member_clients)
      in.lost += b.clients()[ci].seen.missing(h);
  }
  return in;
}

std::string errors_json(const std::map<std::string, std::uint64_t>& m) {
  std::string s = "{";
  for (const auto& [k, v] : m)
    s += (s.size() > 1 ? "," : "") + json_string(k) + ":" + std::to_string(v);
  return s + "}";
}

struct TrafficSpec {
  std::vector<std::uint32_t> order;    // clients this process connects
  std::vector<std::uint32_t> senders;  // candidate senders (must be local)
  std::function<double(std::size_t)> rate;
  bool per_msg = false;
  Workers* workers = nullptr;
};

int run_traffic(Bench& b, TrafficSpec spec) {
  const auto& o = b.opts();
  const double warmup = o.num("warmup", 5), duration = o.num("duration", 20),
               drain = o.num("drain", 5);
  Traffic& tr = b.traffic();
  tr.per_msg = spec.per_msg;
  b.assign_creators();
  auto& ramp =
      b.connect_all(spec.order, static_cast<std::uint32_t>(o.num("connect-concurrency", 200)),
                    o.num("max-time", 300) * 1000);
  const double connect_s = (now_ms() - ramp.t0) / 1000;
  std::uint64_t failed = ramp.failed;
  auto errors = ramp.errors;
  std::uint64_t conns = 0;
  for (const auto& c : b.clients())
    conns += c.phase == Phase::ready;
  if (spec.workers) {
    // workers join once the room exists (its creator is a local client)
    const auto w = spec.workers->connect(b);
    failed += w.failed;
    conns += w.conns;
  }
  std::vector<Client*> senders;
  for (auto i : spec.senders)
    if (b.clients()[i].phase == Phase::ready) senders.push_back(&b.clients()[i]);
  const double total_rate = spec.rate(senders.size());
  if (senders.empty() || !(total_rate > 0)) {
    report(b.ctx(),
           {{"status", "ERROR"}, {"error", "no senders"}, {"conns", conns}, {"failed", failed}},
           {{"errors", FieldValue::json(errors_json(errors))}});
    return 1;
  }
  b.loop().run_for(500);
  const double t0 = now_ms();
  tr.w_start = t0 + warmup * 1000;
  tr.w_end = tr.w_start + duration * 1000;
  if (spec.workers) spec.workers->set_window(tr.w_start, tr.w_end);

  std::optional<CpuWindow> cw;
  std::optional<CpuFigures> cpu;
  std::optional<RssSampler> rs;
  std::optional<std::uint64_t> rss_end, rss_peak;
  const auto total = static_cast<std::uint64_t>(std::floor((warmup + duration) * total_rate));
  const double per = 1000.0 / total_rate;
  std::uint64_t k = 0;
  b.tickers.push_back([&](double now) {
    if (!cw && now >= tr.w_start) {
      cw.emplace(b.server_pids(), b.worker_pids);
      rs.emplace(b.server_pids());
    }
    if (cw && !cpu && now >= tr.w_end) {
      cpu = cw->stop();
      rs->sample(now + 1000);
      rss_end = servers_rss_kb(b.server_pids());
      rss_peak = rs->peak_kb();
    }
    if (rs && !cpu) rs->sample(now);
    // open loop: message k is due k/rate seconds after t0, whatever the acks do
    const auto due = std::min<std::uint64_t>(
        total, static_cast<std::uint64_t>(std::floor((now - t0) / per)) + 1);
    while (k < due) {
      tr.lag.record(now_ms() - (t0 + static_cast<double>(k) * per));
      Client& c = *senders[k % senders.size()];
      b.send_message(c, c.rooms[0]);
      ++k;
    }
  });
  b.loop().max_wait_ms = 1;
  b.loop().run_until([&] { return k >= total && cpu.has_value(); },
                     (warmup + duration) * 1000 + 3000);
  b.loop().max_wait_ms = 10;
  if (!cpu) cpu = cw ? cw->stop() : CpuFigures{};

  // drain: outstanding acks and deliveries
  const double drain_start = now_ms();
  double last_check = 0;
  bool drained = b.loop().run_until(
      [&] {
        const double now = now_ms();
        if (now - last_check < 100) return false;
        last_check = now;
        return tr.pending == 0 && integrity(b).lost == 0;
      },
      drain * 1000);
  drained = tr.pending == 0 && integrity(b).lost == 0;
  auto integ = integrity(b);
  std::uint64_t disc = 0;
  for (const auto& c : b.clients())
    disc += c.disc;
  if (spec.workers) {
    const double left = std::max(500.0, drain * 1000 - (now_ms() - drain_start));
    const auto w = spec.workers->finish(b, left);
    integ.lost += w.lost;
    disc += w.disc;
    if (w.lost) drained = false;
  }
  // unacked: timed out, or still without an ack after the drain
  const std::uint64_t unacked = tr.ack_timeouts + tr.pending;
  Fields f{
      {"status",
       (failed || !drained || integ.lost || integ.gaps || unacked || tr.ack_errors || disc)
           ? "DEGRADED"
           : "OK"},
      {"conns", conns},
      {"failed", failed},
      {"connect_s", r2(connect_s)},
      {"offered_msgs_s", r1(total_rate)},
      {"sends_in_window", tr.sends_win},
      {"sent_msgs_s", r1(static_cast<double>(tr.sends_win) / duration)},
      {"delivered_msgs_s", r1(static_cast<double>(tr.deliv_win) / duration)},
  };
  lat_fields(f, "e2e", tr.lat);
  lat_fields(f, "ack", tr.ack);
  if (spec.per_msg) {
    Hist full;
    std::uint64_t incomplete = 0;
    for (const auto& room : b.rooms()) {
      const auto need = room.total_members() ? room.total_members() - 1 : 0;
      for (const auto& pm : room.per_msg) {
        if (!pm.in_window) continue;
        if (pm.cnt >= need)
          full.record(pm.max_ms);
        else
          ++incomplete;
      }
    }
    f.emplace_back("fanout_all_p50_ms", r2(full.pct(50)));
    f.emplace_back("fanout_all_p99_ms", r2(full.pct(99)));
    f.emplace_back("fanout_all_max_ms", full.count() ? r2(full.max()) : std::nullopt);
    f.emplace_back("fanout_incomplete", incomplete);
  }
  const double lag99 = tr.lag.pct(99).value_or(0);
  Fields tail{
      {"lost", integ.lost},
      {"duplicated", tr.dup_deliv},
      {"seq_gaps", integ.gaps},
      {"seq_reused", tr.assign_dup},
      {"unacked", unacked},
      {"send_errors", tr.ack_errors},
      {"unexpected_disconnects", disc},
      {"drained", drained},
      {"gen_lag_p99_ms", r2(tr.lag.pct(99))},
      {"gen_lag_max_ms", r2(tr.lag.max())},
      {"server_cpu_pct", r1(cpu->server_cpu_pct)},
      {"gen_cpu_pct", r1(cpu->gen_cpu_pct)},
      {"gen_procs", cpu->gen_procs},
      {"gen_max_proc_cpu_pct", r1(cpu->gen_max_proc_cpu_pct)},
      {"machine_busy_pct", r1(cpu->machine_busy_pct)},
      {"other_cpu_pct", r1(cpu->other_cpu_pct)},
      {"window_s", r2(cpu->window_s)},
      {"server_cpu_s", cpu->server_cpu_s
                           ? std::optional<double>(std::round(*cpu->server_cpu_s * 1000) / 1000)
                           : std::nullopt},
      {"gen_cpu_s", std::round(cpu->gen_cpu_s * 1000) / 1000},
      {"server_rss_mb", rss_end ? r1(static_cast<double>(*rss_end) / 1024) : std::nullopt},
      {"server_rss_peak_mb", rss_peak ? r1(static_cast<double>(*rss_peak) / 1024) : std::nullopt},
      {"server_cpu_us_per_msg", us_per(cpu->server_cpu_s, static_cast<double>(tr.sends_win))},
      {"server_cpu_us_per_delivery", us_per(cpu->server_cpu_s, static_cast<double>(tr.deliv_win))},
      {"gen_cpu_us_per_delivery", us_per(cpu->gen_cpu_s, static_cast<double>(tr.deliv_win))},
      {"gen_limited", cpu->gen_max_proc_cpu_pct > 70 || lag99 > 10},
  };
  f.insert(f.end(), tail.begin(), tail.end());
  Fields detail{{"errors", FieldValue::json(errors_json(errors))},
                {"send_errors", FieldValue::json(errors_json(tr.errors))},
                {"echoes", tr.echoes},
                {"sends_total", tr.sends},
                {"acked_total", tr.acked},
                {"already_applied", tr.ack_dup},
                {"late_acks", tr.ack_timeouts},
                {"never_acked", tr.pending},
                {"deliveries_total", tr.deliv},
                {"expected_deliveries", tr.expected},
                {"frames_out", b.loop().frames_out()},
                {"writes", b.loop().writes()},
                {"fast_scanned_frames", b.fast_frames},
                {"parsed_frames", b.dom_frames},
                {"ignored_event_frames", b.ignored_frames},
                {"lag_mean_ms", r2(tr.lag.mean())}};
  report(b.ctx(), f, detail);
  if (spec.workers) spec.workers->stop();
  for (auto& c : b.clients())
    if (c.conn) c.conn->close_normal();
  return f[0].second.s == "OK" ? 0 : 1;
}

}  // namespace

int scenario_pairs(Bench& b) {
  const auto& o = b.opts();
  auto C = static_cast<std::uint32_t>(o.num("conns", 2000));
  if (C % 2) ++C;
  const double rate = o.num("rate", 1);
  const std::string run = b.run_id();
  b.reserve_clients(C);
  b.spread_sources = C > b.source_spread;
  for (std::uint32_t r = 0; r < C / 2; ++r)
    b.add_room(run + "-pair-" + std::to_string(r));
  TrafficSpec spec;
  for (std::uint32_t i = 0; i < C; ++i)
    spec.order.push_back(b.add_client(run + "-p" + std::to_string(i), {i >> 1}, i));
  spec.senders = spec.order;
  spec.rate = [rate](std::size_t n) { return static_cast<double>(n) * rate; };
  return run_traffic(b, std::move(spec));
}

int scenario_room(Bench& b) {
  const auto& o = b.opts();
  const auto R = static_cast<std::uint32_t>(o.num("members", 1000));
  const auto S = static_cast<std::uint32_t>(o.num("senders", 10));
  const double X = o.num("total-rate", 50);
  const auto procs = static_cast<std::uint32_t>(std::max(1.0, o.num("procs", 1)));
  const std::string run = b.run_id();
  b.reserve_clients(R);
  b.spread_sources = R > b.source_spread;
  const auto room = b.add_room(run + "-room", o.str("room-kind", "large"));
  TrafficSpec spec;
  // With --procs N the passive receivers i (>= S, i % N != 0) live in N-1
  // forked worker processes; the senders always stay here.
  Workers workers(b, procs);
  for (std::uint32_t i = 0; i < R; ++i) {
    if (procs > 1 && i >= S && i % procs != 0) {
      workers.add_remote(i % procs - 1, run + "-r" + std::to_string(i), i);
      continue;
    }
    const auto idx = b.add_client(run + "-r" + std::to_string(i), {room}, i);
    spec.order.push_back(idx);
    if (i < S) spec.senders.push_back(idx);
  }
  spec.rate = [X](std::size_t) { return X; };
  spec.per_msg = true;
  if (procs > 1) {
    if (!workers.fork_all()) return 1;  // in a worker: fork_all ran the worker and exited
    spec.workers = &workers;
  }
  return run_traffic(b, std::move(spec));
}

}  // namespace chatsdk::bench
