// Test support for the SQLite store tests: a temp data dir, a LoopPoster the
// test thread pumps, and synchronous wrappers around write()/read().
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/store/sqlite_store.hpp"

namespace chatsdk::server::store::test {

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chatsdk-store-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// The first column of the first row of `sql` (counts, sums, pragmas).
inline std::int64_t query_i64(Db& db, const char* sql) {
  Query q(db, sql);
  REQUIRE_MESSAGE(q.step(), db.error());
  return q.i64(0);
}

/// Runs posted functions on the test thread when pumped.
class TestPoster final : public LoopPoster {
 public:
  void post(std::function<void()> fn) override {
    std::lock_guard lk(mu_);
    q_.push_back(std::move(fn));
    ++posts_;
    cv_.notify_all();
  }
  /// Runs what is queued now; returns how many ran.
  std::size_t pump() {
    std::deque<std::function<void()>> q;
    {
      std::lock_guard lk(mu_);
      q.swap(q_);
    }
    for (auto& f : q)
      f();
    return q.size();
  }
  /// Pumps until pred() holds (false after 20 s).
  bool pump_until(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
      if (pump() > 0) continue;
      std::unique_lock lk(mu_);
      if (!cv_.wait_until(lk, deadline, [&] { return !q_.empty(); })) return pred();
    }
    return true;
  }
  std::size_t posts() {
    std::lock_guard lk(mu_);
    return posts_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  std::size_t posts_ = 0;
};

inline constexpr TimeMs kNow = 1'700'000'000'000;

struct StoreFixture {
  TempDir dir;
  Config config;
  TestPoster poster;
  Metrics metrics;
  std::unique_ptr<SqliteStore> store;
  int client_ids = 0;

  StoreFixture() { config.data_dir = dir.path; }

  void open() {
    store = std::make_unique<SqliteStore>(config, poster, metrics);
    auto r = store->open();
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  void close() {
    bool done = false;
    store->close([&] { done = true; });
    REQUIRE(poster.pump_until([&] { return done; }));
    store.reset();
  }
  std::string cid() { return "c" + std::to_string(++client_ids); }

  WriteResult write(WriteOp op) {
    std::optional<WriteResult> out;
    store->write(std::move(op), [&](WriteResult r) { out = std::move(r); });
    REQUIRE(poster.pump_until([&] { return out.has_value(); }));
    return std::move(*out);
  }
  ReadResult read_raw(ReadOp op) {
    std::optional<ReadResult> out;
    store->read(std::move(op), [&](ReadResult r) { out.emplace(std::move(r)); });
    REQUIRE(poster.pump_until([&] { return out.has_value(); }));
    return std::move(*out);
  }
  template <class T>
  T read(ReadOp op) {
    auto r = read_raw(std::move(op));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    REQUIRE(std::holds_alternative<T>(*r));
    return std::get<T>(std::move(*r));
  }

  // ---- shorthands
  WriteResult create(const std::string& user, const std::string& channel,
                     const std::vector<std::string>& members, ChannelKind kind = ChannelKind::group,
                     bool is_public = false) {
    CreateChannelOp op;
    op.user = user;
    op.client_id = cid();
    op.kind = kind;
    op.channel = channel;
    op.name = channel;
    op.is_public = is_public;
    for (const auto& m : members)
      op.members.push_back(MemberRecord{m, Role::member});
    op.now = kNow;
    return write(std::move(op));
  }
  WriteResult send(const std::string& user, const std::string& channel, const std::string& body,
                   std::string client_id = {}, Seq reply_to = 0,
                   std::vector<std::string> mentions = {}) {
    SendOp op;
    op.user = user;
    op.channel = channel;
    op.client_id = client_id.empty() ? cid() : std::move(client_id);
    op.body = body;
    op.reply_to = reply_to;
    op.mentions = std::move(mentions);
    op.now = kNow;
    return write(std::move(op));
  }
  WriteResult react(const std::string& user, const std::string& channel, Seq seq,
                    const std::string& emoji, proto::ReactAction action = proto::ReactAction::add) {
    ReactOp op;
    op.user = user;
    op.channel = channel;
    op.client_id = cid();
    op.seq = seq;
    op.emoji = emoji;
    op.action = action;
    return write(std::move(op));
  }
  WriteResult add(const std::string& actor, const std::string& channel,
                  std::vector<std::string> users, Role role = Role::member) {
    AddMembersOp op;
    op.user = actor;
    op.channel = channel;
    op.client_id = cid();
    op.users = std::move(users);
    op.role = role;
    return write(std::move(op));
  }
  WriteResult remove(const std::string& actor, const std::string& channel,
                     std::vector<std::string> users) {
    RemoveMembersOp op;
    op.user = actor;
    op.channel = channel;
    op.client_id = cid();
    op.users = std::move(users);
    return write(std::move(op));
  }
  WriteResult set_role(const std::string& actor, const std::string& channel,
                       const std::string& target, Role role) {
    SetRoleOp op;
    op.user = actor;
    op.channel = channel;
    op.client_id = cid();
    op.target = target;
    op.role = role;
    return write(std::move(op));
  }
  /// before/after 0 = not given (these tests never page from seq 0).
  proto::HistoryPage history(const std::string& user, const std::string& channel, Seq before = 0,
                             Seq after = 0, std::uint32_t limit = 0) {
    HistoryQuery q{channel, user, {}, {}, limit};
    if (before != 0) q.before = before;
    if (after != 0) q.after = after;
    return read<proto::HistoryPage>(q);
  }
  /// One channel's entry of a sync reply (by value: the reply is a temporary).
  proto::ChannelSync sync_one(const std::string& user, std::vector<proto::ChannelCursor> cursors,
                              const std::string& channel) {
    auto r = sync(user, std::move(cursors));
    for (auto& c : r.channels) {
      if (c.channel == channel) return std::move(c);
    }
    FAIL("channel missing from the sync reply: " << channel);
    return {};
  }
  proto::SyncResult sync(const std::string& user, std::vector<proto::ChannelCursor> cursors,
                         std::uint32_t limit = 0) {
    return read<proto::SyncResult>(SyncQuery{user, std::move(cursors), limit});
  }
};

inline const proto::ChannelSync* find_channel(const proto::SyncResult& r, const std::string& ch) {
  for (const auto& c : r.channels) {
    if (c.channel == ch) return &c;
  }
  return nullptr;
}

}  // namespace chatsdk::server::store::test
