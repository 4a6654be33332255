// The 14-step functional check of load.js, on the chatsdk protocol.
#include <rapidjson/document.h>

#include <iostream>
#include <optional>

#include "clock.hpp"
#include "scenarios.hpp"
#include "token.hpp"

namespace chatsdk::bench {
namespace {

using Doc = rapidjson::Document;

struct Checker {
  int passed = 0, failed = 0;
  void check(const std::string& name, bool ok, const std::string& info = {}) {
    (ok ? passed : failed)++;
    std::cout << (ok ? "PASS " : "FAIL ") << name << (info.empty() ? "" : " (" + info + ")")
              << std::endl;
  }
};

std::optional<Doc> parse(const std::string& s) {
  Doc d;
  d.Parse(s.c_str(), s.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  return d;
}

std::string str(const rapidjson::Value& o, const char* k) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}
std::uint64_t u64(const rapidjson::Value& o, const char* k) {
  if (!o.IsObject()) return 0;
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}

/// Waits for the reply carrying request id `id` among c's captured frames.
std::optional<Doc> wait_reply(Bench& b, Client& c, std::uint64_t id, std::size_t from,
                              double max_ms = 10000) {
  std::optional<Doc> found;
  b.loop().run_until(
      [&] {
        for (; from < c.frames.size(); ++from) {
          const auto& f = c.frames[from];
          if (f.find("\"type\":\"message\"") != std::string::npos) continue;
          auto d = parse(f);
          if (d && u64(*d, "id") == id && str(*d, "type") != "message") {
            found = std::move(d);
            return true;
          }
        }
        return false;
      },
      max_ms);
  return found;
}

/// message{change: created} events captured by c, in arrival order.
std::vector<Doc> deliveries(const Client& c) {
  std::vector<Doc> out;
  for (const auto& f : c.frames) {
    auto d = parse(f);
    if (d && str(*d, "type") == "message" && str(*d, "change") == "created")
      out.push_back(std::move(*d));
  }
  return out;
}

/// Cheap count of message events (for waiting loops).
std::size_t count_messages(const Client& c) {
  std::size_t n = 0;
  for (const auto& f : c.frames)
    if (f.find("\"type\":\"message\"") != std::string::npos) ++n;
  return n;
}

std::string brief(const std::optional<Doc>& d) {
  if (!d) return "no reply";
  std::string t = str(*d, "type");
  if (t == "error") return "error " + str(*d, "code");
  auto info = d->FindMember("info");
  if (info != d->MemberEnd())
    return t + " last_seq=" + std::to_string(u64(info->value, "last_seq"));
  if (d->HasMember("seq")) return t + " seq=" + std::to_string(u64(*d, "seq"));
  return t;
}

}  // namespace

int scenario_check(Bench& b) {
  Checker ck;
  const std::string run = b.run_id();
  b.reserve_clients(16);
  b.connect_timeout_ms = 5000;
  auto make = [&](const std::string& user, std::uint32_t url_hint) -> Client& {
    const auto idx = b.add_client(user, {}, url_hint);
    Client& c = b.clients()[idx];
    c.capture = true;
    return c;
  };
  auto connect = [&](Client& c) {
    b.start_client(c.idx);
    b.loop().run_until([&] { return c.phase == Phase::ready || c.phase == Phase::failed; }, 5000);
    return c.phase == Phase::ready;
  };

  // 1. a connection without a valid token is refused: error{auth_failed} + close
  {
    Client& bad = make(run + "-u0", 0);
    bad.token =
        sign_token(bad.user, "not-the-server-secret", static_cast<std::int64_t>(now_ms() / 1000));
    b.start_client(bad.idx);
    b.loop().run_until([&] { return bad.phase == Phase::failed || bad.phase == Phase::ready; },
                       5000);
    bool auth_failed = false;
    for (const auto& f : bad.frames) {
      auto d = parse(f);
      if (d && str(*d, "type") == "error" && str(*d, "code") == "auth_failed") auth_failed = true;
    }
    const bool closed = bad.phase == Phase::failed && !bad.conn;
    ck.check("connect without a valid token is rejected (error auth_failed, then close)",
             auth_failed && closed, bad.fail_reason);
  }
  const std::string room = run + "-check";
  const auto r = b.add_room(room);
  Client& u1 = make(run + "-u1", 0);
  Client& u2 = make(run + "-u2", 1);  // second node when several URLs are given
  const bool c1 = connect(u1), c2 = connect(u2);
  ck.check("authenticated connect", c1 && c2, u1.fail_reason + u2.fail_reason);
  if (!c1 || !c2) {
    b.loop().run_for(100);
    report(b.ctx(), {{"status", "FAIL"}, {"passed", ck.passed}, {"failed", ck.failed + 12}}, {});
    return 1;
  }
  auto request = [&](Client& c, const std::string& body) {
    const auto from = c.frames.size();
    const auto id = b.send_request(c, ReqKind::other, [&](std::uint64_t rid) {
      return "{\"id\":" + std::to_string(rid) + "," + body + "}";
    });
    return wait_reply(b, c, id, from);
  };
  auto send = [&](Client& c, const std::string& channel, const std::string& client_id,
                  const std::string& text, const std::string& sent_at) {
    return request(c, R"("type":"send","channel":")" + channel + R"(","client_id":")" + client_id +
                          R"(","body":)" + json_string(text) + R"(,"metadata":{"sent_at":)" +
                          sent_at + "}");
  };
  auto history = [&](Client& c, std::uint64_t after) {
    return request(c, R"("type":"history","channel":")" + room + R"(","after":)" +
                          std::to_string(after) + R"(,"limit":500)");
  };
  auto seqs = [](const std::optional<Doc>& d) {
    std::vector<std::uint64_t> out;
    if (!d) return out;
    auto it = d->FindMember("messages");
    if (it != d->MemberEnd() && it->value.IsArray())
      for (const auto& m : it->value.GetArray())
        out.push_back(u64(m, "seq"));
    return out;
  };
  auto list = [](const std::vector<std::uint64_t>& v) {
    std::string o;
    for (std::size_t i = 0; i < v.size(); ++i)
      o += (i ? "," : "") + std::to_string(v[i]);
    return o;
  };

  // 3. the room is created by u1 (public), then both join: ok with head seq 0
  auto cr =
      request(u1, R"("type":"channel_create","client_id":"mk-check","kind":"group","channel":")" +
                      room + R"(","public":true)");
  auto j1 = request(u1, R"("type":"join","channel":")" + room + "\"");
  auto j2 = request(u2, R"("type":"join","channel":")" + room + "\"");
  auto head = [](const std::optional<Doc>& d) -> std::int64_t {
    if (!d || str(*d, "type") != "channel") return -1;
    auto it = d->FindMember("info");
    return it == d->MemberEnd() ? -1 : static_cast<std::int64_t>(u64(it->value, "last_seq"));
  };
  ck.check("join returns ok and head_seq 0 for a new room",
           head(cr) == 0 && head(j1) == 0 && head(j2) == 0,
           brief(cr) + " / " + brief(j1) + " / " + brief(j2));
  (void)r;

  // 4-5. first send: seq 1, pushed to the other member with sender, body, sent_at
  const std::string at1 = b.sent_at_text(now_ms());
  auto a1 = send(u1, room, "a", "hello", at1);
  ck.check("first send acked with seq 1", a1 && str(*a1, "type") == "sent" && u64(*a1, "seq") == 1,
           brief(a1));
  b.loop().run_until([&] { return count_messages(u2) > 0; }, 2000);
  {
    auto ds = deliveries(u2);
    bool ok = false;
    std::string info = "no delivery";
    if (!ds.empty()) {
      const auto& m = ds[0]["message"];
      double sent_at = -1;
      if (m.HasMember("metadata") && m["metadata"].IsObject() &&
          m["metadata"].HasMember("sent_at") && m["metadata"]["sent_at"].IsNumber())
        sent_at = m["metadata"]["sent_at"].GetDouble();
      ok = str(m, "channel") == room && u64(m, "seq") == 1 && str(m, "sender") == u1.user &&
           str(m, "body") == "hello" && sent_at == std::strtod(at1.c_str(), nullptr);
      info = "channel=" + str(m, "channel") + " seq=" + std::to_string(u64(m, "seq")) +
             " sender=" + str(m, "sender") + " body=" + str(m, "body");
    }
    ck.check("other member receives {room, seq, sender, body, sent_at}", ok, info);
  }
  // 6-7. a retry returns the original seq and is not pushed again
  auto a1b = send(u1, room, "a", "hello", at1);
  b.loop().run_for(300);
  ck.check("retry with same client_msg_id returns the same seq",
           a1b && (str(*a1b, "type") == "already_applied" || str(*a1b, "type") == "sent") &&
               u64(*a1b, "seq") == 1,
           brief(a1b));
  ck.check("retry is not delivered again", deliveries(u2).size() == 1,
           "deliveries=" + std::to_string(deliveries(u2).size()));
  // 8. next send
  auto a2 = send(u1, room, "b", "second", b.sent_at_text(now_ms()));
  ck.check("next send gets seq 2", a2 && str(*a2, "type") == "sent" && u64(*a2, "seq") == 2,
           brief(a2));
  // 9. client ids are scoped per sender
  auto a3 = send(u2, room, "a", "from u2", b.sent_at_text(now_ms()));
  ck.check("client_msg_id is scoped per sender (u2 \"a\" gets seq 3)",
           a3 && str(*a3, "type") == "sent" && u64(*a3, "seq") == 3, brief(a3));
  // 10-11. sync (history after a seq)
  auto y0 = history(u2, 0);
  ck.check("sync after 0 returns seqs 1..3 in order",
           y0 && str(*y0, "type") == "history_page" && list(seqs(y0)) == "1,2,3" &&
               !(y0->HasMember("more_after") && (*y0)["more_after"].IsTrue()),
           brief(y0) + " seqs=" + list(seqs(y0)));
  auto y1 = history(u2, 2);
  ck.check("sync after 2 returns seq 3 only", y1 && list(seqs(y1)) == "3",
           "seqs=" + list(seqs(y1)));
  // 12. sending to a room the sender has not joined is refused (u2's room)
  const std::string other = run + "-not-joined";
  request(u2, R"("type":"channel_create","client_id":"mk-other","kind":"group","channel":")" +
                  other + R"(","public":true)");
  auto bad = send(u1, other, "z", "x", b.sent_at_text(now_ms()));
  ck.check("send to a room not joined is refused", bad && str(*bad, "type") == "error", brief(bad));
  // 13. no echo to the sending session
  {
    std::size_t echoes = 0;
    for (const auto& d : deliveries(u1))
      if (str(d["message"], "sender") == u1.user) ++echoes;
    ck.check("sender does not get its own message back (informational)", echoes == 0,
             "echoes=" + std::to_string(echoes));
  }
  // 14. 501 more messages -> pages of 500 with more_after, then 4. Spread over
  // six senders so no one exceeds the server's per-user send burst (100).
  {
    std::vector<Client*> bulk{&u1};
    for (int i = 0; i < 5; ++i) {
      Client& s = make(run + "-b" + std::to_string(i), 0);
      if (connect(s)) {
        request(s, R"("type":"join","channel":")" + room + "\"");
        bulk.push_back(&s);
      }
    }
    const std::size_t before = count_messages(u2);
    for (int i = 0; i < 501; ++i) {
      Client& s = *bulk[static_cast<std::size_t>(i) % bulk.size()];
      b.send_request(s, ReqKind::other, [&](std::uint64_t rid) {
        return "{\"id\":" + std::to_string(rid) + R"(,"type":"send","channel":")" + room +
               R"(","client_id":"bulk-)" + std::to_string(i) +
               R"(","body":"b","metadata":{"sent_at":)" + b.sent_at_text(now_ms()) + "}}";
      });
    }
    b.loop().run_until([&] { return count_messages(u2) >= before + 501; }, 10000);
    auto p1 = history(u2, 0);
    const auto s1 = seqs(p1);
    auto p2 = history(u2, s1.empty() ? 0 : s1.back());
    const auto s2 = seqs(p2);
    auto more = [](const std::optional<Doc>& d) {
      return d && d->HasMember("more_after") && (*d)["more_after"].IsTrue();
    };
    ck.check("sync pages are 500 long and flag more",
             s1.size() == 500 && more(p1) && s2.size() == 4 && !more(p2),
             "p1=" + std::to_string(s1.size()) + "/" + (more(p1) ? "true" : "false") +
                 (s1.empty() ? ""
                             : " (seqs " + std::to_string(s1.front()) + ".." +
                                   std::to_string(s1.back()) + ")") +
                 " p2=" + std::to_string(s2.size()) + "/" + (more(p2) ? "true" : "false") +
                 " delivered=" + std::to_string(count_messages(u2) - before));
  }
  for (auto& c : b.clients())
    if (c.conn) c.conn->close_normal();
  b.loop().run_for(50);
  std::cout << ck.passed << " passed, " << ck.failed << " failed" << std::endl;
  report(b.ctx(),
         {{"status", ck.failed ? "FAIL" : "OK"}, {"passed", ck.passed}, {"failed", ck.failed}}, {});
  return ck.failed ? 1 : 0;
}

}  // namespace chatsdk::bench
