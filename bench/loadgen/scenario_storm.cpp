// (d) storm: every receiver drops at once, reconnects, re-joins and catches up
// through history paging while writers keep sending.
#include <cmath>
#include <iostream>

#include "clock.hpp"
#include "probes.hpp"
#include "scenarios.hpp"

namespace chatsdk::bench {

int scenario_storm(Bench& b) {
  const auto& o = b.opts();
  auto C = static_cast<std::uint32_t>(o.num("conns", 2000));
  if (C % 2) ++C;
  const auto K = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(o.num("writers", 4)));
  const double X = o.num("writer-rate", 500);
  const double steady_s = o.num("steady", 5), outage_ms = o.num("outage-ms", 2000),
               post_s = o.num("post", 3);
  const double storm_timeout_s = o.num("storm-timeout", 60), drain_s = o.num("drain", 5);
  const auto storm_conc = static_cast<std::uint32_t>(o.num("storm-concurrency", 0));
  const std::uint32_t n_rooms = C / 2;
  const std::string run = b.run_id();
  b.reserve_clients(C + K);
  b.spread_sources = C + K > b.source_spread;
  for (std::uint32_t r = 0; r < n_rooms; ++r)
    b.add_room(run + "-storm-" + std::to_string(r));
  std::vector<std::uint32_t> receivers, writer_ids;
  for (std::uint32_t i = 0; i < C; ++i)
    receivers.push_back(b.add_client(run + "-s" + std::to_string(i), {i >> 1}, i));
  for (std::uint32_t w = 0; w < K; ++w) {
    std::vector<std::uint32_t> rs;
    for (std::uint32_t r = w; r < n_rooms; r += K)
      rs.push_back(r);
    writer_ids.push_back(b.add_client(run + "-w" + std::to_string(w), rs, C + w));
  }
  b.assign_creators();  // receivers come first: they create the rooms
  const auto conc = static_cast<std::uint32_t>(o.num("connect-concurrency", 200));
  auto& ramp = b.connect_all(receivers, conc, o.num("max-time", 300) * 1000);
  const double connect_s = (now_ms() - ramp.t0) / 1000;
  const auto failed = ramp.failed;
  auto errors = ramp.errors;
  auto& wramp = b.connect_all(writer_ids, K, 60000);
  if (wramp.failed) {
    std::string why;
    for (const auto& [e, n] : wramp.errors)
      why += e + " x" + std::to_string(n) + "; ";
    report(b.ctx(), {{"status", "ERROR"}, {"error", "writer connect failed: " + why}}, {});
    return 1;
  }
  Traffic& tr = b.traffic();
  std::vector<Client*> writers;
  for (auto i : writer_ids)
    writers.push_back(&b.clients()[i]);

  // writers: open loop at X msgs/s round-robin over all rooms, until told to stop
  bool writing = true;
  std::uint64_t k = 0;
  const double w0 = now_ms();
  const double per = 1000.0 / X;
  b.tickers.push_back([&](double now) {
    if (!writing) return;
    const auto due = static_cast<std::uint64_t>(std::floor((now - w0) / per)) + 1;
    while (k < due) {
      tr.lag.record(now_ms() - (w0 + static_cast<double>(k) * per));
      const auto r = static_cast<std::uint32_t>(k % n_rooms);
      b.send_message(*writers[r % K], r);
      ++k;
    }
  });
  b.loop().max_wait_ms = 1;
  b.loop().run_for(steady_s * 1000);

  // ---- drop: every receiver closes its TCP connection, no close frame
  const double T0 = now_ms();
  std::uint64_t dropped = 0;
  for (auto i : receivers) {
    Client& c = b.clients()[i];
    c.caught_ms = c.reconn_ms = -1;
    c.recovered = c.sync_pages = 0;
    if (c.conn) {
      c.conn->terminate();
      b.loop().retire(std::move(c.conn));
      ++dropped;
    }
    c.phase = Phase::closed;
  }
  b.loop().run_for(std::max(0.0, outage_ms - (now_ms() - T0)));

  // ---- reconnect: all at once (or storm-concurrency at a time)
  const double T1 = now_ms();
  b.storm_t1 = T1;
  CpuWindow cw(b.server_pids(), b.worker_pids);
  RssSampler rs(b.server_pids());
  b.tickers.push_back([&](double now) { rs.sample(now); });
  b.on_ready = [&](Client& c) {
    if (c.idx >= C) return;
    c.reconn_ms = now_ms() - T1;
    b.reconn_hist.record(c.reconn_ms);
    // joined before syncing: anything committed later is pushed live
    b.send_sync(c, c.rooms[0], c.seen.contig());
  };
  b.connect_timeout_ms = storm_timeout_s * 1000;
  auto& sramp = b.connect_all(receivers, storm_conc > 0 ? storm_conc : C, storm_timeout_s * 1000);
  const auto reconnect_failed = sramp.failed;
  for (const auto& [e, n] : sramp.errors)
    errors["reconnect: " + e] += n;
  auto all_caught = [&] {
    for (auto i : receivers) {
      const Client& c = b.clients()[i];
      if (c.phase == Phase::ready && c.caught_ms == -1) return false;  // -2: sync failed
    }
    return true;
  };
  b.loop().run_until(all_caught, std::max(0.0, storm_timeout_s * 1000 - (now_ms() - T1)));
  std::uint64_t caught = 0;
  double all_ms = -1;
  bool everyone = true;
  for (auto i : receivers) {
    const Client& c = b.clients()[i];
    if (c.caught_ms >= 0) {
      ++caught;
      all_ms = std::max(all_ms, c.caught_ms);
    } else {
      everyone = false;
    }
  }
  const auto storm_cpu = cw.stop();
  rs.sample(now_ms() + 1000);
  const auto storm_rss = servers_rss_kb(b.server_pids());
  const auto storm_peak = rs.peak_kb();
  b.on_ready = nullptr;

  b.loop().run_for(post_s * 1000);
  writing = false;
  b.loop().max_wait_ms = 10;
  // drain: acks first, then every receiver must hold 1..head of its room
  b.loop().run_until([&] { return tr.pending == 0; }, drain_s * 1000);
  auto holes = [&] {
    std::uint64_t m = 0;
    for (auto i : receivers) {
      const Client& c = b.clients()[i];
      m += c.seen.missing(b.rooms()[c.rooms[0]].assigned.max());
    }
    return m;
  };
  double last = 0;
  b.loop().run_until(
      [&] {
        const double now = now_ms();
        if (now - last < 100) return false;
        last = now;
        return holes() == 0;
      },
      drain_s * 1000);
  const auto missed = holes();
  std::uint64_t gaps = 0, recovered = 0, pages = 0;
  for (const auto& room : b.rooms())
    gaps += room.assigned.missing(room.assigned.max());
  for (auto i : receivers) {
    recovered += b.clients()[i].recovered;
    pages += b.clients()[i].sync_pages;
  }
  const std::optional<double> all_caught_ms =
      everyone ? std::optional<double>(all_ms) : std::nullopt;
  const std::uint64_t writer_unacked = tr.ack_timeouts + tr.pending;
  Fields f{
      {"status", (failed || reconnect_failed || b.sync_failed || missed || gaps || !all_caught_ms)
                     ? "DEGRADED"
                     : "OK"},
      {"conns", static_cast<std::uint64_t>(C) - failed},
      {"failed", failed},
      {"connect_s", r2(connect_s)},
      {"dropped", dropped},
      {"outage_ms", outage_ms},
      {"writer_msgs_s", X},
      {"writer_sent", tr.sends},
      {"all_caught_up_ms", r1(all_caught_ms)},
      {"all_caught_up_from_drop_ms", all_caught_ms ? r1(*all_caught_ms + (T1 - T0)) : std::nullopt},
      {"caught_up", caught},
      {"reconnect_p50_ms", r2(b.reconn_hist.pct(50))},
      {"reconnect_p99_ms", r2(b.reconn_hist.pct(99))},
      {"reconnect_max_ms", b.reconn_hist.count() ? r2(b.reconn_hist.max()) : std::nullopt},
      {"caught_up_p50_ms", r2(b.caught_hist.pct(50))},
      {"caught_up_p99_ms", r2(b.caught_hist.pct(99))},
      {"recovered_by_sync", recovered},
      {"sync_pages", pages},
      {"sync_overlap_dups", b.sync_dup},
      {"live_dups", tr.dup_deliv},
      {"missed", missed},
      {"seq_gaps", gaps},
      {"reconnect_failed", reconnect_failed},
      {"sync_failed", b.sync_failed},
      {"writer_unacked", writer_unacked},
      {"writer_errors", tr.ack_errors},
      {"server_cpu_pct", r1(storm_cpu.server_cpu_pct)},
      {"gen_cpu_pct", r1(storm_cpu.gen_cpu_pct)},
      {"gen_procs", storm_cpu.gen_procs},
      {"gen_max_proc_cpu_pct", r1(storm_cpu.gen_max_proc_cpu_pct)},
      {"machine_busy_pct", r1(storm_cpu.machine_busy_pct)},
      {"other_cpu_pct", r1(storm_cpu.other_cpu_pct)},
      {"window_s", r2(storm_cpu.window_s)},
      {"server_cpu_s",
       storm_cpu.server_cpu_s
           ? std::optional<double>(std::round(*storm_cpu.server_cpu_s * 1000) / 1000)
           : std::nullopt},
      {"gen_cpu_s", std::round(storm_cpu.gen_cpu_s * 1000) / 1000},
      {"server_rss_mb", storm_rss ? r1(static_cast<double>(*storm_rss) / 1024) : std::nullopt},
      {"server_rss_peak_mb",
       storm_peak ? r1(static_cast<double>(*storm_peak) / 1024) : std::nullopt},
      {"server_cpu_us_per_reconnect", us_per(storm_cpu.server_cpu_s, static_cast<double>(caught))},
      {"gen_limited", storm_cpu.gen_max_proc_cpu_pct > 70},
  };
  std::string errs = "{", serrs = "{";
  for (const auto& [e, n] : errors)
    errs += (errs.size() > 1 ? "," : "") + json_string(e) + ":" + std::to_string(n);
  for (const auto& [e, n] : tr.errors)
    serrs += (serrs.size() > 1 ? "," : "") + json_string(e) + ":" + std::to_string(n);
  report(b.ctx(), f,
         {{"errors", FieldValue::json(errs + "}")},
          {"writer_errors", FieldValue::json(serrs + "}")},
          {"live_deliveries", tr.deliv},
          {"writer_late_acks", tr.ack_timeouts},
          {"writer_never_acked", tr.pending},
          {"gen_lag_p99_ms", r2(tr.lag.pct(99))}});
  for (auto& c : b.clients())
    if (c.conn) c.conn->close_normal();
  return f[0].second.s == "OK" ? 0 : 1;
}

}  // namespace chatsdk::bench
