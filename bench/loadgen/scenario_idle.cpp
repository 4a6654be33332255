// (a) idle: server memory per connection and the cost of connecting.
#include <iostream>

#include "clock.hpp"
#include "probes.hpp"
#include "scenarios.hpp"

namespace chatsdk::bench {

int scenario_idle(Bench& b) {
  const auto& o = b.opts();
  const auto C = static_cast<std::uint32_t>(o.num("conns", 5000));
  const auto room_size =
      std::max<std::uint32_t>(1, static_cast<std::uint32_t>(o.num("room-size", 2)));
  const double hold_s = o.num("hold", 10);
  const std::string run = b.run_id();
  b.reserve_clients(C);
  b.spread_sources = C > b.source_spread;
  for (std::uint32_t r = 0; r * room_size < C; ++r)
    b.add_room(run + "-idle-" + std::to_string(r));
  std::vector<std::uint32_t> order;
  for (std::uint32_t i = 0; i < C; ++i)
    order.push_back(b.add_client(run + "-i" + std::to_string(i), {i / room_size}, i));
  b.assign_creators();

  b.loop().run_for(500);
  const auto rss_base = servers_rss_kb(b.server_pids());
  const auto gen_rss0 = proc_rss_kb(getpid()).value_or(0);
  CpuWindow ramp_cpu_w(b.server_pids(), b.worker_pids);
  auto& ramp = b.connect_all(order, static_cast<std::uint32_t>(o.num("connect-concurrency", 200)),
                             o.num("max-time", 300) * 1000);
  const double connect_s = (now_ms() - ramp.t0) / 1000;
  const auto ramp_cpu = ramp_cpu_w.stop();
  const auto rss_after_connect = servers_rss_kb(b.server_pids());
  const auto failed = ramp.failed;
  std::uint32_t ok = 0;
  for (const auto& c : b.clients())
    ok += c.phase == Phase::ready;

  CpuWindow hold_w(b.server_pids(), b.worker_pids);
  RssSampler rs(b.server_pids());
  b.tickers.push_back([&](double now) { rs.sample(now); });
  b.loop().run_for(hold_s * 1000);
  const auto cpu = hold_w.stop();
  rs.sample(now_ms() + 1000);
  const auto rss_end = servers_rss_kb(b.server_pids());
  std::uint32_t dropped = 0;
  for (const auto& c : b.clients())
    dropped += c.disc > 0;
  const auto gen_rss = proc_rss_kb(getpid()).value_or(0);

  std::optional<double> per_conn;
  if (rss_base && rss_end && ok)
    per_conn = (static_cast<double>(*rss_end) - static_cast<double>(*rss_base)) / ok;
  auto mb = [](std::optional<std::uint64_t> kb) -> std::optional<double> {
    if (!kb) return std::nullopt;
    return r1(static_cast<double>(*kb) / 1024.0);
  };
  Fields f{
      {"status", failed || dropped ? "DEGRADED" : "OK"},
      {"conns", ok},
      {"failed", failed},
      {"dropped_during_hold", dropped},
      {"connect_s", r2(connect_s)},
      {"connects_per_s", r1(connect_s > 0 ? ok / connect_s : 0)},
      {"connect_join_p50_ms", r2(ramp.conn_hist.pct(50))},
      {"connect_join_p99_ms", r2(ramp.conn_hist.pct(99))},
      {"server_rss_base_mb", mb(rss_base)},
      {"server_rss_after_connect_mb", mb(rss_after_connect)},
      {"server_rss_mb", mb(rss_end)},
      {"server_rss_peak_mb", mb(rs.peak_kb())},
      {"server_kb_per_conn", r2(per_conn)},
      {"gen_rss_mb", r1(static_cast<double>(gen_rss) / 1024.0)},
      {"gen_kb_per_conn",
       ok ? r2((static_cast<double>(gen_rss) - static_cast<double>(gen_rss0)) / ok) : std::nullopt},
      {"ramp_server_cpu_pct", r1(ramp_cpu.server_cpu_pct)},
      {"ramp_gen_cpu_pct", r1(ramp_cpu.gen_cpu_pct)},
      {"ramp_other_cpu_pct", r1(ramp_cpu.other_cpu_pct)},
      {"server_cpu_us_per_connect", us_per(ramp_cpu.server_cpu_s, ok)},
      {"ramp_gen_limited", ramp_cpu.gen_max_proc_cpu_pct > 70},
      {"hold_s", hold_s},
      {"server_cpu_pct", r1(cpu.server_cpu_pct)},
      {"gen_cpu_pct", r1(cpu.gen_cpu_pct)},
      {"gen_procs", cpu.gen_procs},
      {"gen_max_proc_cpu_pct", r1(cpu.gen_max_proc_cpu_pct)},
      {"machine_busy_pct", r1(cpu.machine_busy_pct)},
      {"other_cpu_pct", r1(cpu.other_cpu_pct)},
      {"window_s", r2(cpu.window_s)},
  };
  std::string errs = "{";
  for (const auto& [k, v] : ramp.errors)
    errs += (errs.size() > 1 ? "," : "") + json_string(k) + ":" + std::to_string(v);
  errs += "}";
  report(b.ctx(), f, {{"errors", FieldValue::json(errs)}});
  for (auto& c : b.clients())
    if (c.conn) c.conn->close_normal();
  return failed ? 1 : 0;
}

}  // namespace chatsdk::bench
