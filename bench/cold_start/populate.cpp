// Builds a realistic client cache through chatsdk::client::Store, so the file
// has exactly the schema and encodings the client itself writes.
//
// Shape (deterministic for a seed): channel activity is skewed (Zipf-like:
// a few busy channels hold most messages, most are quiet), messages arrive in
// global time order over ~90 days, bodies are 20-200 bytes of words, ~5% have
// reactions, ~3% are edited, ~1% deleted, ~5% replies, ~3% mentions; large
// channels hold only their recent history (with the older part recorded as a
// gap); the newest own sends are in the outbox as sent/delivered ops, as after
// a real session. Written in a few big transactions.
#include <unistd.h>
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "client/store/store.hpp"
#include "cold_start.hpp"

namespace chatsdk::bench {
namespace {

using client::ChannelRow;
using client::Store;
using client::Transaction;

constexpr std::uint32_t kUsers = 200;
constexpr const char* kMe = "u-me";
constexpr TimeMs kNow = 1'764'000'000'000;  // fixed: files are reproducible
constexpr TimeMs kSpanMs = 90LL * 24 * 3600 * 1000;
constexpr std::size_t kBatch = 25'000;  // messages per transaction
constexpr std::size_t kOutboxSends = 300;

const char* const kWords[] = {
    "the",    "meeting", "is",     "moved",  "to",    "tomorrow", "ok",    "thanks",
    "can",    "you",     "review", "my",     "PR",    "please",   "lunch", "at",
    "noon",   "sounds",  "good",   "deploy", "done",  "looks",    "like",  "the",
    "build",  "broke",   "again",  "I'll",   "take",  "a",        "look",  "after",
    "coffee", "did",     "anyone", "see",    "the",   "alert",    "from",  "prod",
    "yes",    "no",      "maybe",  "later",  "today", "weekend",  "plans", "release",
    "notes",  "are",     "up",     "on",     "wiki",  "ping",     "me",    "when",
    "ready",  "great",   "work",   "team",   "nice",  "catch",    "fixed", "in"};
const char* const kEmoji[] = {"👍", "❤️", "😂", "🎉", "👀", "🙏"};

std::string user_id(std::uint32_t i) {
  char b[16];
  std::snprintf(b, sizeof b, "u-%04u", i);
  return b;
}

std::string channel_id(std::uint32_t i) {
  char b[16];
  std::snprintf(b, sizeof b, "ch-%05u", i);
  return b;
}

template <class T, std::size_t N>
constexpr std::size_t count_of(const T (&)[N]) {
  return N;
}

struct Gen {
  std::mt19937_64 rng;
  explicit Gen(std::uint64_t seed) : rng(seed) {}
  std::uint64_t below(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

  std::string body() {
    auto len = static_cast<std::size_t>(20 + below(181));  // 20..200 bytes
    std::string s;
    while (s.size() < len) {
      if (!s.empty()) s += ' ';
      s += kWords[below(count_of(kWords))];
    }
    s.resize(len);
    return s;
  }
};

struct ChannelState {
  ChannelRow row;
  Seq first_seq = 1;  // large channels: older history not cached
  Seq seq = 0;
  Version version = 0;
  std::vector<std::string> members;
};

bool check(Store& st, const char* what) {
  if (st.last_error().code == Errc::ok) return true;
  std::fprintf(stderr, "populate: %s: %s\n", what, st.last_error().message.c_str());
  return false;
}

}  // namespace

int populate(const PopulateOptions& o) {
  // Start from an empty file: populate is for fresh caches only.
  for (const char* suffix : {"", "-wal", "-shm"})
    ::unlink((o.db + suffix).c_str());
  auto opened = Store::open(o.db);
  if (!opened) {
    std::fprintf(stderr, "populate: open %s: %s\n", o.db.c_str(), opened.error().message.c_str());
    return 1;
  }
  Store& st = **opened;
  Gen g(o.seed);

  // ---- channels: kinds, members, skewed activity weights -------------------------
  std::vector<ChannelState> chans(o.channels);
  std::vector<double> weight(o.channels);
  std::vector<std::uint32_t> rank(o.channels);
  for (std::uint32_t i = 0; i < o.channels; ++i)
    rank[i] = i;
  std::shuffle(rank.begin(), rank.end(), g.rng);
  for (std::uint32_t i = 0; i < o.channels; ++i) {
    ChannelState& cs = chans[i];
    Channel& c = cs.row.channel;
    c.id = channel_id(i);
    auto roll = g.below(100);
    c.kind = roll < 35 ? ChannelKind::direct : roll < 97 ? ChannelKind::group : ChannelKind::large;
    c.created_at = kNow - kSpanMs - static_cast<TimeMs>(g.below(30LL * 24 * 3600 * 1000));
    c.created_by = g.chance(0.2) ? kMe : user_id(static_cast<std::uint32_t>(g.below(kUsers)));
    c.role = c.created_by == kMe ? Role::owner : g.chance(0.05) ? Role::moderator : Role::member;
    cs.members.push_back(kMe);
    if (c.kind == ChannelKind::direct) {
      auto other = user_id(static_cast<std::uint32_t>(g.below(kUsers)));
      cs.members.push_back(other);
      c.name = "";
      c.member_count = 2;
    } else {
      auto n = c.kind == ChannelKind::large ? 30 : 2 + g.below(12);
      for (std::uint64_t k = 0; k < n; ++k)
        cs.members.push_back(user_id(static_cast<std::uint32_t>(g.below(kUsers))));
      // Keep kMe first (senders other than me are picked from index 1 on).
      std::sort(cs.members.begin() + 1, cs.members.end());
      cs.members.erase(std::unique(cs.members.begin() + 1, cs.members.end()), cs.members.end());
      c.name = (c.kind == ChannelKind::large ? "announce-" : "team-") + std::to_string(i);
      c.member_count = c.kind == ChannelKind::large
                           ? static_cast<std::uint32_t>(500 + g.below(20000))
                           : static_cast<std::uint32_t>(cs.members.size());
      c.is_public = c.kind == ChannelKind::large || g.chance(0.2);
      if (g.chance(0.3)) c.metadata = R"({"topic":")" + g.body().substr(0, 30) + R"("})";
    }
    if (c.kind == ChannelKind::large) cs.first_seq = 1 + 500 + g.below(5000);
    cs.seq = cs.first_seq - 1;
    c.last_activity = c.created_at;
    // Zipf-like (s = 1.1) over a random ranking of channels.
    weight[i] = 1.0 / std::pow(static_cast<double>(rank[i] + 1), 1.1);
  }

  // ---- messages, in global time order ------------------------------------------
  std::discrete_distribution<std::uint32_t> pick(weight.begin(), weight.end());
  struct Pending {
    Message m;
    bool mentions_me;
  };
  std::vector<Pending> batch;
  batch.reserve(kBatch);
  struct OwnSend {
    std::string channel;
    std::string client_id;
    Seq seq;
    TimeMs at;
  };
  std::vector<OwnSend> own;
  std::uint64_t own_counter = 0;

  auto flush = [&]() -> bool {
    Transaction tx(st);
    for (auto& p : batch)
      st.upsert_message(p.m, p.mentions_me);
    if (!check(st, "insert messages")) return false;
    if (auto r = tx.commit(); !r) {
      std::fprintf(stderr, "populate: commit: %s\n", r.error().message.c_str());
      return false;
    }
    batch.clear();
    return true;
  };

  for (std::uint64_t k = 0; k < o.messages; ++k) {
    ChannelState& cs = chans[pick(g.rng)];
    Channel& c = cs.row.channel;
    Message m;
    m.channel = c.id;
    m.seq = ++cs.seq;
    m.version = ++cs.version;
    TimeMs t = kNow - kSpanMs +
               static_cast<TimeMs>((static_cast<double>(k) + 0.5) /
                                   static_cast<double>(o.messages) * static_cast<double>(kSpanMs));
    m.created_at = std::max(t, c.created_at + 1);
    bool mine = g.chance(0.1);
    m.sender = mine ? kMe : cs.members[1 + g.below(cs.members.size() - 1)];
    if (mine) {
      char b[40];
      std::snprintf(b, sizeof b, "cid-%016" PRIx64,
                    static_cast<std::uint64_t>(own_counter++ * 0x9E3779B97F4A7C15ULL));
      m.client_id = b;
    }
    m.body = g.body();
    if (m.seq > cs.first_seq && g.chance(0.05))
      m.reply_to = cs.first_seq + g.below(m.seq - cs.first_seq);
    bool mentions_me = false;
    if (g.chance(0.03)) {
      m.mentions.push_back(cs.members[g.below(cs.members.size())]);
      mentions_me = m.mentions.back() == kMe && !mine;
    }
    if (g.chance(0.02)) m.metadata = R"({"client":"ios","fmt":"md"})";
    if (g.chance(0.05)) {
      auto n = 1 + g.below(3);
      for (std::uint64_t r = 0; r < n; ++r) {
        Reaction re;
        re.emoji = kEmoji[(r + g.below(count_of(kEmoji))) % count_of(kEmoji)];
        if (std::any_of(m.reactions.begin(), m.reactions.end(),
                        [&](const Reaction& x) { return x.emoji == re.emoji; }))
          continue;
        re.count =
            static_cast<std::uint32_t>(1 + g.below(std::min<std::size_t>(cs.members.size(), 9)));
        re.mine = g.chance(0.3);
        m.reactions.push_back(re);
      }
      m.version = ++cs.version;  // a reaction is a later change
    }
    if (g.chance(0.01)) {
      m.deleted = true;
      m.body.clear();
      m.reactions.clear();
      m.version = ++cs.version;
    } else if (g.chance(0.03)) {
      m.edited_at = m.created_at + static_cast<TimeMs>(1000 + g.below(600'000));
      m.body = g.body();
      m.version = ++cs.version;
    }
    c.last_activity = m.created_at;
    if (mentions_me) ++c.mentions;  // cleared below for channels read up to the end
    if (mine) own.push_back({c.id, m.client_id, m.seq, m.created_at});
    batch.push_back({std::move(m), mentions_me});
    if (batch.size() == kBatch && !flush()) return 1;
  }
  if (!batch.empty() && !flush()) return 1;

  // ---- channel rows (cursors, unread), members, gaps, profiles, outbox ------------
  {
    Transaction tx(st);
    for (ChannelState& cs : chans) {
      Channel& c = cs.row.channel;
      c.last_seq = cs.seq;
      Seq held = cs.seq + 1 - cs.first_seq;  // messages of this channel in the cache
      // Most channels are read up to the end; some have a few unread.
      Seq unread = g.chance(0.2) && held > 0 ? 1 + g.below(std::min<Seq>(held, 60)) : 0;
      c.read_seq = c.last_seq - unread;
      c.delivered_seq = c.last_seq;
      c.unread = static_cast<std::uint32_t>(unread);
      if (unread == 0) c.mentions = 0;
      c.mentions = std::min(c.mentions, c.unread);
      cs.row.cursor = cs.version;
      st.upsert_channel(cs.row);
      for (const std::string& u : cs.members) {
        Member mem;
        mem.user = u;
        mem.role = u == kMe ? c.role : Role::member;
        mem.read_seq = u == kMe ? c.read_seq : c.last_seq - std::min<Seq>(c.last_seq, g.below(5));
        st.upsert_member(c.id, mem);
      }
      if (cs.first_seq > 1) st.add_gap(c.id, {1, cs.first_seq - 1});
    }
    for (std::uint32_t i = 0; i < kUsers; ++i) {
      User u;
      u.id = user_id(i);
      u.display_name = "User " + std::to_string(i);
      if (i % 3 == 0) u.avatar_url = "https://cdn.example.com/a/" + u.id + ".png";
      st.upsert_profile(u);
    }
    std::size_t from = own.size() > kOutboxSends ? own.size() - kOutboxSends : 0;
    for (std::size_t i = from; i < own.size(); ++i) {
      client::OpRow op;
      op.op.kind = OpKind::send;
      op.op.state = i + 20 < own.size() ? OpState::delivered : OpState::sent;
      op.op.channel = own[i].channel;
      op.op.client_id = own[i].client_id;
      op.op.seq = own[i].seq;
      op.op.created_at = own[i].at;
      op.lane = own[i].channel;
      if (auto r = st.insert_op(op); !r) {
        std::fprintf(stderr, "populate: outbox: %s\n", r.error().message.c_str());
        return 1;
      }
    }
    st.set_meta("user", kMe);
    if (!check(st, "channels")) return 1;
    if (auto r = tx.commit(); !r) {
      std::fprintf(stderr, "populate: commit: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  std::uint64_t count = st.message_count();
  std::printf("populated %s: channels=%u messages=%" PRIu64 " outbox=%" PRIu64 " bytes=%" PRIu64
              "\n",
              o.db.c_str(), o.channels, count, st.op_count(), st.used_bytes());
  return count == o.messages ? 0 : 1;
}

}  // namespace chatsdk::bench
