// Seeded deterministic simulation of many chatsdk clients against a model
// server, for the SDK's own tests and for apps built on the client core.
//
// One seed drives everything: a virtual clock; a model server (in memory,
// protocol-faithful, restartable with durable state kept); N users x M
// devices, each a real client Core over a real SQLite file; a network that
// carries encoded frames (the real codec both ways), delays them, cuts
// connections (frames in flight lost, or a prefix of the client's frames
// reaching the server with the replies lost), refuses connects, replays
// earlier mutation frames to the server (stale resends), interleaves
// connections in any order and lets frames of a dead connection reach the
// client late (it must ignore them); frames that arrive close together are
// fed as one poll batch (one cache transaction); client process crashes,
// between two inputs, between two inputs of a batch before it commits, or
// inside one right after its N-th SQLite commit (later commits roll
// back, none of its frames leave), after which the Core and Store are dropped
// and the same file reopened; and a random workload of sends, edits, deletes,
// reactions, mark_read and load_older. After the
// workload the network heals and everything settles; then the invariants are
// checked (see SimResult::failures). The same seed gives the same trace hash.
//
// Usage:
//   chatsdk::client::sim::SimOptions o;
//   o.seed = 7;
//   auto r = chatsdk::client::sim::run_simulation(o);
//   if (!r.ok()) for (auto& f : r.failures) std::cerr << f << "\n";
//
// Apps can hook their own logic in through SimOptions::on_event (every event
// every device emits, in order) and SimOptions::check (extra invariants run
// on each device after the network settled).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chatsdk/events.hpp"
#include "client/core/core.hpp"

namespace chatsdk::client::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  int users = 3;
  int devices_per_user = 2;
  int channels = 3;            // each user is in every channel but one (channel 0: everyone)
  int workload_steps = 60;     // app commands issued across all devices
  std::int64_t step_ms = 250;  // mean virtual time between commands

  // Fault rates (per workload step unless noted).
  double p_cut = 0.06;    // cut a random live connection
  double p_crash = 0.03;  // crash a random device
  double p_server_restart = 0.01;
  double p_connect_fail = 0.15;     // per connect attempt
  double p_replay = 0.05;           // per connect: the network replays an old mutation frame
  double p_silent_cut = 0.3;        // a cut the client only learns of from heartbeats/timeouts
  std::int64_t max_delay_ms = 120;  // one-way frame delay: uniform 1..max
  std::uint32_t sync_limit = 3;
  /// A device reads every frame that reaches it within this many ms in one
  /// poll: one begin_batch()/end_batch(), i.e. one cache transaction, like
  /// Client::poll. Crashes then also strike between two inputs of a batch
  /// (before its commit: the whole batch rolls back). 0 = one frame per input.
  std::int64_t poll_batch_ms = 20;
  int preload = 0;  // messages already in channel 0 before the history starts     // server's
                    // changes per channel per sync page (paging)

  /// Directory for the devices' SQLite files ("" = /dev/shm when present, else the temp dir).
  std::string dir;
  /// Self-test of the harness: the model server forgets its dedupe table on
  /// restart (a real server bug class); the invariants must then fail.
  bool break_server_dedupe = false;
  /// Keep a readable trace (one line per network/fault step) in SimResult::trace.
  bool keep_trace = false;

  /// Every event of every device, in emission order (device = "user/devN").
  std::function<void(const std::string& device, const Event&)> on_event;
  /// Extra invariants after quiescence; return failure descriptions (empty = fine).
  std::function<std::vector<std::string>(const std::string& device, Core& core, Store& store)>
      check;
};

struct SimStats {
  std::uint64_t frames = 0;
  std::uint64_t cuts = 0;
  std::uint64_t crashes = 0;
  std::uint64_t mid_input_crashes = 0;  // of those, inside one input (after its N-th commit)
  std::uint64_t mid_batch_crashes = 0;  // of those, inside a poll batch before its commit
  std::uint64_t batches = 0;            // polls that fed more than one frame
  std::uint64_t server_restarts = 0;
  std::uint64_t replays = 0;  // already_applied answers the server gave
  std::uint64_t ops = 0;
  std::int64_t virtual_ms = 0;
};

struct SimResult {
  std::uint64_t seed = 0;
  std::uint64_t trace_hash = 0;       // FNV-1a over every delivered frame and fault, in order
  std::vector<std::string> failures;  // broken invariants; empty = the history passed
  std::vector<std::string> trace;     // when SimOptions::keep_trace
  SimStats stats;
  bool ok() const { return failures.empty(); }
};

/// Runs one seeded history to quiescence and checks the invariants:
/// - every op each device issued was applied by the server exactly once and
///   ended `sent` (or later) on its device; the server applied no op nobody issued;
/// - per channel, each device's sends got increasing seqs in call order;
/// - every device's cache holds each message exactly once, in seq order, gapless
///   up to the head, each at the server's latest version (body, deleted, reactions);
/// - every device's read cursor and unread count equal the server's;
/// - the timelines and channel list rebuilt from the diff events alone equal the core's.
SimResult run_simulation(const SimOptions& options);

/// The seed from CHATSDK_SIM_SEED, if set (to replay one failing history).
std::optional<std::uint64_t> seed_from_env();

}  // namespace chatsdk::client::sim
