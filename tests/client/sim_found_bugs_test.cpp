// Core regressions the seeded simulation found, pinned as unit tests.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {

std::vector<proto::Reaction> reactions(std::initializer_list<std::pair<const char*, int>> rs,
                                       const char* mine = nullptr) {
  std::vector<proto::Reaction> out;
  for (auto& [e, n] : rs)
    out.push_back({e, static_cast<std::uint32_t>(n), mine != nullptr && std::string(mine) == e});
  return out;
}

bool mine(Store& store, const char* emoji) {
  auto m = store.message("g", 1);
  REQUIRE(m.has_value());
  for (auto& r : m->reactions)
    if (r.emoji == emoji) return r.mine;
  return false;
}

}  // namespace

// sim seed 88: fanned-out events carry no `mine`; applying them verbatim
// cleared this user's own reaction flags.
TEST_CASE("sim regressions: a reaction event keeps and sets this user's mine flags") {
  CoreFixture f;
  auto m = msg("g", 1, 2, "bob", "hi");
  m.reactions = reactions({{"heart", 1}}, "heart");  // per-user copy: mine
  f.go_live({CoreFixture::joined("g", {m}, 2)});
  REQUIRE(mine(*f.store, "heart"));

  proto::MessageEvent e;  // bob reacts: the event has no `mine`
  e.change = proto::MessageChange::reaction;
  e.actor = "bob";
  e.emoji = "+1";
  e.message = msg("g", 1, 3, "bob", "hi");
  e.message.reactions = reactions({{"+1", 1}, {"heart", 1}});
  f.frame(e);
  CHECK(mine(*f.store, "heart"));
  CHECK_FALSE(mine(*f.store, "+1"));

  e.actor = "alice";  // this user's other device reacts
  e.emoji = "tada";
  e.message.version = 4;
  e.message.reactions = reactions({{"+1", 1}, {"heart", 1}, {"tada", 1}});
  f.frame(e);
  CHECK(mine(*f.store, "heart"));
  CHECK(mine(*f.store, "tada"));
}

// sim seed 88: an event at version v arriving before a per-user copy of the
// same version left `mine` wrong for good (equal versions were ignored).
TEST_CASE("sim regressions: a per-user copy at the same version corrects mine") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g", {msg("g", 1, 2, "bob", "hi")}, 2)});
  proto::MessageEvent e;  // we missed our own reaction (v3); bob's (v4) arrives first
  e.change = proto::MessageChange::reaction;
  e.actor = "bob";
  e.emoji = "+1";
  e.message = msg("g", 1, 4, "bob", "hi");
  e.message.reactions = reactions({{"+1", 1}, {"tada", 1}});
  f.frame(e);
  CHECK_FALSE(mine(*f.store, "tada"));

  // The version jump (2 -> 4) makes the core sync; the reply is a per-user copy.
  auto sync = f.last_sent<proto::Sync>();
  REQUIRE(sync.has_value());
  proto::SyncResult r;
  r.id = sync->id;
  proto::ChannelSync cs;
  cs.channel = "g";
  cs.status = proto::SyncStatus::delta;
  auto copy = e.message;
  copy.reactions = reactions({{"+1", 1}, {"tada", 1}}, "tada");
  cs.messages = {copy};
  cs.version = 4;
  cs.head_version = 4;
  cs.last_seq = 1;
  cs.read_seq = 1;
  r.channels = {cs};
  f.frame(r);
  CHECK(mine(*f.store, "tada"));
  CHECK_FALSE(mine(*f.store, "+1"));
}

// sim seed 134: mark_read committed the local read cursor and its outbox op
// separately; a crash in between left the badge at zero while the server
// (and every other device) still counted the message unread, for good.
TEST_CASE("sim regressions: mark_read's cursor and op survive a crash together or not at all") {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("chatsdk_sim_mark_read_" + std::to_string(::getpid()) + ".db"))
                         .string();
  for (const char* s : {"", "-wal", "-shm"})
    std::filesystem::remove(path + s);
  {
    CoreFixture f(path);
    f.go_live(
        {CoreFixture::joined("g", {msg("g", 1, 2, "bob", "a"), msg("g", 2, 3, "bob", "b")}, 3)});
    f.core->disconnect();  // keep the op in the outbox
    f.pump();
    // The process dies right after the first commit of mark_read: later commits roll back.
    static int commits = 0;
    commits = 0;
    sqlite3_commit_hook(
        f.store->db().handle(), [](void*) -> int { return ++commits > 1 ? 1 : 0; }, nullptr);
    (void)f.core->mark_read("g", 0);
    sqlite3_commit_hook(f.store->db().handle(), nullptr, nullptr);
  }
  CoreFixture g(path);  // reopen after the "crash"
  auto ch = g.core->channel("g");
  REQUIRE(ch.has_value());
  bool op_stored = false;
  for (auto& o : g.core->pending_ops())
    op_stored = op_stored || o.kind == OpKind::mark_read;
  CHECK(op_stored == (ch->read_seq == 2));  // both or neither
  g.core.reset();
  g.store.reset();
  for (const char* s : {"", "-wal", "-shm"})
    std::filesystem::remove(path + s);
}
