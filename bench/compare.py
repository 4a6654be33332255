#!/usr/bin/env python3
"""Side-by-side table of chatsdk vs the Socket.IO peer (WORKLOAD.md metrics).

    compare.py --ours a/results.jsonl b/... --peer c/results.jsonl ... [--floor floor.txt]

Each file holds the JSON records written by the load generators (--json-out).
Prints, per scenario, the median [min..max] over runs of each headline figure
for both servers, the ratio ours/peer, and for per-operation CPU the ratio to
the floor measured by chatsdk-floor (bare loopback writes, same socket count).
"""
import argparse, json, statistics, sys

FIELDS = {
    "check": ["status", "passed", "failed"],
    "idle": ["conns", "failed", "dropped_during_hold", "server_kb_per_conn", "server_rss_base_mb", "server_rss_mb",
             "server_cpu_us_per_connect", "connects_per_s", "connect_join_p50_ms", "connect_join_p99_ms",
             "ramp_server_cpu_pct", "ramp_gen_cpu_pct", "ramp_other_cpu_pct", "ramp_gen_limited", "server_cpu_pct"],
    "pairs": ["conns", "offered_msgs_s", "delivered_msgs_s", "server_cpu_us_per_msg", "server_cpu_us_per_delivery",
              "e2e_p50_ms", "e2e_p95_ms", "e2e_p99_ms", "e2e_max_ms", "ack_p50_ms", "ack_p99_ms", "lost", "duplicated",
              "seq_gaps", "seq_reused", "unacked", "send_errors", "server_cpu_pct", "gen_cpu_pct", "other_cpu_pct",
              "server_rss_mb", "gen_lag_p99_ms", "gen_limited"],
    "room": ["conns", "offered_msgs_s", "delivered_msgs_s", "server_cpu_us_per_delivery", "e2e_p50_ms", "e2e_p95_ms",
             "e2e_p99_ms", "e2e_max_ms", "fanout_all_p50_ms", "fanout_all_p99_ms", "fanout_incomplete", "ack_p50_ms",
             "ack_p99_ms", "lost", "duplicated", "seq_gaps", "unacked", "server_cpu_pct", "gen_cpu_pct",
             "other_cpu_pct", "server_rss_mb", "gen_lag_p99_ms", "gen_limited"],
    "storm": ["conns", "outage_ms", "writer_msgs_s", "server_cpu_us_per_reconnect", "reconnect_p50_ms",
              "reconnect_p99_ms", "caught_up_p50_ms", "caught_up_p99_ms", "all_caught_up_ms",
              "all_caught_up_from_drop_ms", "recovered_by_sync", "missed", "seq_gaps", "reconnect_failed",
              "sync_failed", "server_cpu_pct", "gen_cpu_pct", "other_cpu_pct", "server_rss_peak_mb", "gen_limited"],
}


def load(files):
    recs = []
    for f in files:
        try:
            with open(f) as fh:
                recs += [json.loads(l) for l in fh if l.strip()]
        except FileNotFoundError:
            print(f"(missing {f})", file=sys.stderr)
    return recs


def load_floor(path):
    out = {}
    if not path:
        return out
    try:
        for line in open(path):
            if line.startswith("RESULT floor"):
                kv = dict(p.split("=", 1) for p in line.split()[2:])
                out[int(kv["conns"])] = {k: float(v) for k, v in kv.items()}
    except FileNotFoundError:
        pass
    return out


def fmt(x):
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}" if abs(x) < 1 else f"{x:.2f}".rstrip("0").rstrip(".")


def cell(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, "not measured"
    if isinstance(vals[0], bool):
        return None, f"{sum(vals)}/{len(vals)} true"
    if isinstance(vals[0], str):
        return None, ",".join(vals)
    med = statistics.median(vals)
    rng = f" [{fmt(min(vals))}..{fmt(max(vals))}]" if len(vals) > 1 else ""
    return med, fmt(med) + rng


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", nargs="*", default=[])
    ap.add_argument("--peer", nargs="*", default=[])
    ap.add_argument("--floor")
    a = ap.parse_args()
    ours, peer, floor = load(a.ours), load(a.peer), load_floor(a.floor)
    for scen, fields in FIELDS.items():
        o = [r for r in ours if r.get("scenario") == scen]
        p = [r for r in peer if r.get("scenario") == scen]
        if not o and not p:
            continue
        print(f"\n### {scen}  (chatsdk: {len(o)} run(s), status {','.join(str(r.get('status')) for r in o) or '–'}; "
              f"Socket.IO peer: {len(p)} run(s), status {','.join(str(r.get('status')) for r in p) or '–'})\n")
        print("| metric | chatsdk median [min..max] | Socket.IO peer median [min..max] | chatsdk / peer |")
        print("|---|---|---|---|")
        for k in fields:
            mo, so = cell([r.get(k) for r in o])
            mp, sp = cell([r.get(k) for r in p])
            ratio = f"{mo / mp:.3g}" if isinstance(mo, (int, float)) and isinstance(mp, (int, float)) and mp else ""
            print(f"| {k} | {so} | {sp} | {ratio} |")
        # floor ratios: server CPU per frame written vs bare writes to as many sockets
        conns = int(statistics.median([r.get("conns") or 0 for r in o + p] or [0]))
        fl = floor.get(conns) or (floor[min(floor, key=lambda c: abs(c - conns))] if floor else None)
        if fl and scen in ("pairs", "room"):
            key = "server_cpu_us_per_msg" if scen == "pairs" else "server_cpu_us_per_delivery"
            # pairs: every message costs the server two frames (ack + delivery); room: one per delivery
            frames = 2 if scen == "pairs" else 1
            single, coal = fl["single_write_us_per_frame"] * frames, fl["coalesced_write_us_per_frame"] * frames
            mo, _ = cell([r.get(key) for r in o])
            mp, _ = cell([r.get(key) for r in p])
            print(f"\nFloor ({int(fl['conns'])} loopback sockets, {frames} frame(s) of {int(fl['frame_bytes'])} B per "
                  f"operation): {single:.2f} µs one write per frame, {coal:.2f} µs coalesced ×{int(fl['batch'])}.\n")
            print(f"| {key} as a multiple of the floor | one write per frame | coalesced |")
            print("|---|---|---|")
            for name, m in (("chatsdk", mo), ("Socket.IO peer", mp)):
                if isinstance(m, (int, float)):
                    print(f"| {name} | {m / single:.1f}× | {m / coal:.1f}× |")
                else:
                    print(f"| {name} | not measured | not measured |")


if __name__ == "__main__":
    main()
