// chatsdk_c.cpp: the C API (bindings/c/include/chatsdk/chatsdk.h) over the
// public C++ client. Only argument checks, conversion, status mapping and the
// tag bookkeeping the C API adds live here; behaviour belongs to chatsdk::Client.
//
// Handles: every chat_client is registered in a process-wide set while alive,
// and every call looks the pointer up before touching it, so a NULL, foreign
// or destroyed handle yields CHAT_E_MISUSE instead of a crash. A magic tag is
// checked as well (and poisoned on destroy) in case memory is reused.
//
// Tags: the C++ API identifies outbox ops by OpId and answers other requests
// by channel/user. The shim keeps tag maps and stamps each event with the tag
// of the command it completes. `tags_mu` is held across "issue the command +
// record its tag" and across "pull an event + look its tag up", so an event can
// never be pulled before its tag is recorded, whatever threads are involved.
#include "chatsdk/chatsdk.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "chatsdk/client.hpp"
#include "chatsdk/errc.hpp"
#include "chatsdk/version.hpp"  // redefining the version macros differently fails the build

namespace {

using namespace chatsdk;

constexpr std::uint32_t kClientMagic = 0xC4A7C11EU;
constexpr std::uint32_t kDeadMagic = 0xDEADC11EU;
constexpr std::uint32_t kEventMagic = 0xC4A7E7E7U;
constexpr std::uint32_t kListMagic = 0xC4A77157U;
constexpr std::size_t kMaxTrackedOps = 100000;

static_assert(CHATSDK_VERSION_NUMBER == CHATSDK_VERSION_MAJOR * 1000000 +
                                            CHATSDK_VERSION_MINOR * 1000 + CHATSDK_VERSION_PATCH);
static_assert(static_cast<int>(Errc::misuse) == CHAT_E_MISUSE);
static_assert(static_cast<int>(Errc::internal) == CHAT_E_INTERNAL);
static_assert(static_cast<int>(OpState::cancelled) == CHAT_OP_CANCELLED);
static_assert(static_cast<int>(OpKind::profile_set) == CHAT_OP_PROFILE_SET);
static_assert(static_cast<int>(OpKind::join) == CHAT_OP_JOIN);
static_assert(static_cast<int>(OpKind::member_role) == CHAT_OP_MEMBER_ROLE);
static_assert(static_cast<int>(ConnectionState::live) == CHAT_CONN_LIVE);
static_assert(static_cast<int>(DiffKind::remove) == CHAT_DIFF_REMOVE);
static_assert(static_cast<int>(ChannelKind::large) == CHAT_CHANNEL_LARGE);
static_assert(static_cast<int>(Role::owner) == CHAT_ROLE_OWNER);
static_assert(std::variant_size_v<Event> == CHAT_EVENT_MEMBERS_PAGE,
              "a new C++ event type needs a chat_event_type_t value");

// Detail of the last failure on this thread of a call without a valid client.
thread_local std::string tl_errmsg;
// True while this thread runs an app callback (token_fn) with SDK locks held.
thread_local bool tl_in_callback = false;

}  // namespace

struct chat_event {
  std::uint32_t magic = kEventMagic;
  Event ev;
  std::uint64_t tag = 0;
};

struct chat_list {
  std::uint32_t magic = kListMagic;
  std::variant<std::vector<Channel>, std::vector<Message>, std::vector<TimelineItem>,
               std::vector<Member>, std::vector<Op>, std::vector<std::string>>
      rows;
};

struct chat_client {
  std::uint32_t magic = kClientMagic;
  std::unique_ptr<Client> cpp;

  std::mutex err_mu;
  std::string err;

  std::mutex token_mu;
  std::string token;
  chat_token_fn token_fn = nullptr;
  void* token_user_data = nullptr;

  std::mutex tags_mu;
  std::unordered_map<OpId, std::uint64_t> op_tags;
  std::deque<OpId> op_order;  // insertion order, to bound op_tags
  std::map<std::string, std::deque<std::uint64_t>> history_tags;
  std::map<std::string, std::deque<std::uint64_t>> presence_tags;
  std::deque<std::uint64_t> profile_tags;
  std::map<std::string, std::deque<std::uint64_t>> members_tags;  // one page per request
  chat_event current;  // the borrowed event of the last next_event
};

namespace {

std::mutex g_registry_mu;
std::unordered_set<const chat_client*>& registry() {
  static auto* set =
      new std::unordered_set<const chat_client*>();  // never destroyed: usable at exit
  return *set;
}

bool live(const chat_client* c) {
  if (c == nullptr) return false;
  std::lock_guard<std::mutex> g(g_registry_mu);
  return registry().count(c) != 0 && c->magic == kClientMagic;
}

chat_status to_status(Errc e) {
  return static_cast<chat_status>(static_cast<int>(e));
}

void set_err(chat_client* c, std::string msg) {
  if (c == nullptr) {
    tl_errmsg = std::move(msg);
    return;
  }
  std::lock_guard<std::mutex> g(c->err_mu);
  c->err = std::move(msg);
}

chat_status misuse(const char* what) {
  tl_errmsg = what;
  return CHAT_E_MISUSE;
}

chat_status fail(chat_client* c, const Error& e) {
  set_err(c, std::string(errc_name(e.code)) + ": " + e.message);
  return to_status(e.code);
}

// Runs f(client) with the checks every entry point needs; f returns chat_status.
template <class F>
chat_status guarded(chat_client* c, F&& f) noexcept {
  try {
    if (tl_in_callback)
      return misuse(
          "called from inside a chatsdk callback (only chat_client_set_token is allowed)");
    if (!live(c)) return misuse("NULL or destroyed chat_client handle");
    set_err(c, {});
    return f(*c);
  } catch (const std::bad_alloc&) {
    try {
      set_err(c, "out of memory");
    } catch (...) {
    }
    return CHAT_E_INTERNAL;
  } catch (const std::exception& e) {
    try {
      set_err(c, std::string("internal: ") + e.what());
    } catch (...) {
    }
    return CHAT_E_INTERNAL;
  } catch (...) {
    return CHAT_E_INTERNAL;
  }
}

chat_status from_void(chat_client& c, const Result<void>& r) {
  return r ? CHAT_OK : fail(&c, r.error());
}

std::string str(const char* s) {
  return s ? std::string(s) : std::string();
}

bool require(chat_client& c, const char* s, const char* what) {
  if (s != nullptr) return true;
  set_err(&c, std::string("invalid_argument: ") + what + " must not be NULL");
  return false;
}

bool string_array(chat_client& c, const char* const* v, std::size_t n,
                  std::vector<std::string>& out) {
  if (n > 0 && v == nullptr) {
    set_err(&c, "invalid_argument: NULL array with a nonzero count");
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (v[i] == nullptr) {
      set_err(&c, "invalid_argument: NULL string in array");
      return false;
    }
    out.emplace_back(v[i]);
  }
  return true;
}

char* dup_string(const std::string& s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size() + 1);
  return p;
}

// Records `tag` for op `id` (caller holds tags_mu); bounded so a long-lived
// client that never sees an op finish does not grow without limit.
void remember_op(chat_client& c, OpId id, std::uint64_t tag) {
  if (tag == 0) return;
  if (c.op_tags.emplace(id, tag).second) {
    c.op_order.push_back(id);
  } else {
    c.op_tags[id] = tag;
  }
  while (c.op_order.size() > kMaxTrackedOps) {
    c.op_tags.erase(c.op_order.front());
    c.op_order.pop_front();
  }
}

// An outbox command: runs it with tags_mu held and records the tag of its op.
template <class F>
chat_status op_command(chat_client* c, std::uint64_t tag, std::int64_t* out_op, F&& f) noexcept {
  if (out_op) *out_op = 0;
  return guarded(c, [&](chat_client& cl) {
    std::lock_guard<std::mutex> g(cl.tags_mu);
    Result<OpId> r = f(cl);
    if (!r) return fail(&cl, r.error());
    remember_op(cl, *r, tag);
    if (out_op) *out_op = *r;
    return CHAT_OK;
  });
}

std::uint64_t pop_tag(std::deque<std::uint64_t>& q) {
  if (q.empty()) return 0;
  std::uint64_t t = q.front();
  q.pop_front();
  return t;
}

std::uint64_t pop_tag(std::map<std::string, std::deque<std::uint64_t>>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) return 0;
  std::uint64_t t = pop_tag(it->second);
  if (it->second.empty()) m.erase(it);
  return t;
}

// The tag an event carries (caller holds tags_mu).
std::uint64_t tag_of(chat_client& c, const Event& ev) {
  if (const auto* o = std::get_if<OpChanged>(&ev)) {
    auto it = c.op_tags.find(o->op.id);
    if (it == c.op_tags.end()) return 0;
    std::uint64_t t = it->second;
    // Nothing follows these states: forget the op (its id may be a stale
    // entry of op_order, harmlessly erased again later).
    if (o->op.state == OpState::cancelled || o->op.state == OpState::read) c.op_tags.erase(it);
    return t;
  }
  if (const auto* h = std::get_if<HistoryLoaded>(&ev)) return pop_tag(c.history_tags, h->channel);
  if (std::holds_alternative<ProfilesReceived>(ev)) return pop_tag(c.profile_tags);
  if (const auto* m = std::get_if<MembersPage>(&ev)) return pop_tag(c.members_tags, m->channel);
  if (const auto* p = std::get_if<PresenceChanged>(&ev))
    return pop_tag(c.presence_tags, p->presence.user);
  return 0;
}

// ---- borrowed views: the C handle types are the C++ values, reinterpreted ----

const Message* M(const chat_message* m) {
  return reinterpret_cast<const Message*>(m);
}
const Channel* CH(const chat_channel* ch) {
  return reinterpret_cast<const Channel*>(ch);
}
const Op* OP(const chat_op* op) {
  return reinterpret_cast<const Op*>(op);
}
const chat_message* to_c(const Message& m) {
  return reinterpret_cast<const chat_message*>(&m);
}
const chat_channel* to_c(const Channel& ch) {
  return reinterpret_cast<const chat_channel*>(&ch);
}
const chat_op* to_c(const Op& op) {
  return reinterpret_cast<const chat_op*>(&op);
}

const Event* E(const chat_event* ev) {
  if (ev == nullptr || ev->magic != kEventMagic) return nullptr;
  return &ev->ev;
}

template <class T>
const T* get(const chat_event* ev) {
  const Event* e = E(ev);
  return e ? std::get_if<T>(e) : nullptr;
}

const chat_list* L(const chat_list* l) {
  return (l != nullptr && l->magic == kListMagic) ? l : nullptr;
}

template <class T>
const T* row(const chat_list* l, std::size_t i) {
  if (!L(l)) return nullptr;
  const auto* v = std::get_if<std::vector<T>>(&l->rows);
  if (v == nullptr || i >= v->size()) return nullptr;
  return &(*v)[i];
}

// Diff ops of either diff event, as a uniform view.
struct DiffView {
  const std::vector<DiffOp<TimelineItem>>* timeline = nullptr;
  const std::vector<DiffOp<ChannelItem>>* channels = nullptr;
  std::size_t size() const { return timeline ? timeline->size() : channels ? channels->size() : 0; }
};

DiffView diffs(const chat_event* ev) {
  DiffView v;
  if (const auto* t = get<TimelineDiff>(ev)) v.timeline = &t->ops;
  if (const auto* c = get<ChannelListDiff>(ev)) v.channels = &c->ops;
  return v;
}

template <class T>
const T* diff_item(const std::vector<DiffOp<T>>* ops, std::size_t op, std::size_t item) {
  if (ops == nullptr || op >= ops->size()) return nullptr;
  const DiffOp<T>& d = (*ops)[op];
  switch (d.kind) {
    case DiffKind::reset:
      return item < d.items.size() ? &d.items[item] : nullptr;
    case DiffKind::insert:
    case DiffKind::update:
      return item == 0 ? &d.item : nullptr;
    case DiffKind::remove:
      return nullptr;
  }
  return nullptr;
}

const TimelineItem* timeline_item(const chat_event* ev, std::size_t op, std::size_t item) {
  return diff_item(diffs(ev).timeline, op, item);
}

// ---- JSON rendering ----------------------------------------------------------

using JsonOut = rapidjson::Writer<rapidjson::StringBuffer>;

const char* name(ConnectionState s) {
  static const char* const k[] = {"disconnected", "connecting", "authenticating", "syncing",
                                  "live"};
  return k[static_cast<int>(s)];
}
const char* name(DiffKind k) {
  static const char* const n[] = {"reset", "insert", "update", "remove"};
  return n[static_cast<int>(k)];
}
const char* name(OpState s) {
  static const char* const k[] = {"queued", "sending", "sent",     "delivered",
                                  "read",   "failed",  "cancelled"};
  return k[static_cast<int>(s)];
}
const char* name(OpKind s) {
  static constexpr const char* k[] = {
      "send",           "edit",        "delete",         "react",       "unreact", "mark_read",
      "channel_create", "members_add", "members_remove", "profile_set", "join",
      "channel_update", "member_role"};
  // A kind newer than this table must not read past it.
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(k) ? k[i] : "unknown";
}
const char* name(ChannelKind s) {
  static const char* const k[] = {"direct", "group", "large"};
  return k[static_cast<int>(s)];
}
const char* name(Role s) {
  static const char* const k[] = {"member", "moderator", "owner"};
  return k[static_cast<int>(s)];
}

void kv(JsonOut& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void kv(JsonOut& w, const char* k, const char* v) {
  w.Key(k);
  w.String(v);
}
void kv_u(JsonOut& w, const char* k, std::uint64_t v) {
  w.Key(k);
  w.Uint64(v);
}
void kv_i(JsonOut& w, const char* k, std::int64_t v) {
  w.Key(k);
  w.Int64(v);
}
void kv_b(JsonOut& w, const char* k, bool v) {
  w.Key(k);
  w.Bool(v);
}
void strings(JsonOut& w, const char* k, const std::vector<std::string>& v) {
  w.Key(k);
  w.StartArray();
  for (const auto& s : v)
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

void json(JsonOut& w, const Message& m) {
  w.StartObject();
  kv(w, "channel", m.channel);
  kv_u(w, "seq", m.seq);
  kv_u(w, "version", m.version);
  kv(w, "sender", m.sender);
  kv(w, "client_id", m.client_id);
  kv(w, "body", m.body);
  kv_i(w, "created_at", m.created_at);
  kv_i(w, "edited_at", m.edited_at);
  kv_b(w, "deleted", m.deleted);
  kv_u(w, "reply_to", m.reply_to);
  kv_u(w, "reply_count", m.reply_count);
  w.Key("reactions");
  w.StartArray();
  for (const auto& r : m.reactions) {
    w.StartObject();
    kv(w, "emoji", r.emoji);
    kv_u(w, "count", r.count);
    kv_b(w, "mine", r.mine);
    w.EndObject();
  }
  w.EndArray();
  strings(w, "mentions", m.mentions);
  kv(w, "metadata", m.metadata);
  w.EndObject();
}

void json(JsonOut& w, const Channel& c) {
  w.StartObject();
  kv(w, "id", c.id);
  kv(w, "kind", name(c.kind));
  kv(w, "name", c.name);
  kv_b(w, "is_public", c.is_public);
  kv(w, "created_by", c.created_by);
  kv_i(w, "created_at", c.created_at);
  kv_u(w, "member_count", c.member_count);
  kv(w, "role", name(c.role));
  kv(w, "metadata", c.metadata);
  kv_u(w, "last_seq", c.last_seq);
  kv_u(w, "read_seq", c.read_seq);
  kv_u(w, "delivered_seq", c.delivered_seq);
  kv_u(w, "unread", c.unread);
  kv_u(w, "mentions", c.mentions);
  w.Key("last_message");
  if (c.last_message) {
    json(w, *c.last_message);
  } else {
    w.Null();
  }
  kv_i(w, "last_activity", c.last_activity);
  w.EndObject();
}

void json(JsonOut& w, const Op& o) {
  w.StartObject();
  kv_i(w, "id", o.id);
  kv(w, "kind", name(o.kind));
  kv(w, "state", name(o.state));
  kv(w, "channel", o.channel);
  kv(w, "client_id", o.client_id);
  kv_u(w, "seq", o.seq);
  w.Key("failure");
  if (o.failure) {
    w.StartObject();
    kv(w, "code", std::string(errc_name(o.failure->code)));
    kv_i(w, "status", static_cast<int>(o.failure->code));
    kv_b(w, "retryable", o.failure->retryable);
    kv(w, "reason", o.failure->reason);
    w.EndObject();
  } else {
    w.Null();
  }
  kv_i(w, "created_at", o.created_at);
  w.EndObject();
}

void json(JsonOut& w, const TimelineItem& t) {
  w.StartObject();
  kv(w, "key", t.key);
  kv(w, "state", name(t.state));
  kv_i(w, "op", t.op.value_or(0));
  w.Key("message");
  json(w, t.message);
  w.EndObject();
}

void json(JsonOut& w, const ChannelItem& c) {
  w.StartObject();
  kv(w, "key", c.key);
  w.Key("channel");
  json(w, c.channel);
  w.EndObject();
}

void json(JsonOut& w, const Member& m) {
  w.StartObject();
  kv(w, "user", m.user);
  kv(w, "role", name(m.role));
  kv_u(w, "read_seq", m.read_seq);
  w.EndObject();
}

void json(JsonOut& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <class T>
void json_ops(JsonOut& w, const std::vector<DiffOp<T>>& ops) {
  w.Key("ops");
  w.StartArray();
  for (const auto& d : ops) {
    w.StartObject();
    kv(w, "kind", name(d.kind));
    kv_u(w, "index", d.index);
    kv(w, "key", d.key);
    w.Key("items");
    w.StartArray();
    if (d.kind == DiffKind::reset) {
      for (const auto& it : d.items)
        json(w, it);
    } else if (d.kind != DiffKind::remove) {
      json(w, d.item);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void json_status(JsonOut& w, Errc code, const std::string& detail) {
  kv(w, "code", std::string(errc_name(code)));
  kv_i(w, "status", static_cast<int>(code));
  kv(w, "detail", detail);
}

struct EventJson {
  JsonOut& w;
  void operator()(const ConnectionChanged& e) {
    kv(w, "type", "connection");
    kv(w, "state", name(e.state));
    json_status(w, e.reason, e.detail);
    kv_i(w, "retry_in_ms", e.retry_in_ms);
  }
  void operator()(const ChannelListDiff& e) {
    kv(w, "type", "channel_list_diff");
    json_ops(w, e.ops);
  }
  void operator()(const TimelineDiff& e) {
    kv(w, "type", "timeline_diff");
    kv(w, "channel", e.channel);
    json_ops(w, e.ops);
  }
  void operator()(const OpChanged& e) {
    kv(w, "type", "op");
    w.Key("op");
    json(w, e.op);
  }
  void operator()(const TypingChanged& e) {
    kv(w, "type", "typing");
    kv(w, "channel", e.channel);
    strings(w, "users", e.users);
  }
  void operator()(const PresenceChanged& e) {
    kv(w, "type", "presence");
    kv(w, "user", e.presence.user);
    kv_b(w, "online", e.presence.online);
    kv_i(w, "last_seen", e.presence.last_seen);
  }
  void operator()(const ReceiptChanged& e) {
    kv(w, "type", "receipt");
    kv(w, "channel", e.receipt.channel);
    kv(w, "user", e.receipt.user);
    kv_u(w, "read_seq", e.receipt.read_seq);
    kv_u(w, "delivered_seq", e.receipt.delivered_seq);
  }
  void operator()(const ProfilesReceived& e) {
    kv(w, "type", "profiles");
    w.Key("users");
    w.StartArray();
    for (const auto& u : e.users) {
      w.StartObject();
      kv(w, "id", u.id);
      kv(w, "display_name", u.display_name);
      kv(w, "avatar_url", u.avatar_url);
      kv(w, "metadata", u.metadata);
      w.EndObject();
    }
    w.EndArray();
  }
  void operator()(const CacheEvicted& e) {
    kv(w, "type", "cache_evicted");
    kv_u(w, "messages", e.messages);
    kv_u(w, "bytes_before", e.bytes_before);
    kv_u(w, "bytes_after", e.bytes_after);
  }
  void operator()(const HistoryLoaded& e) {
    kv(w, "type", "history_loaded");
    kv(w, "channel", e.channel);
    kv_u(w, "count", e.count);
    kv_b(w, "more_before", e.more_before);
    kv_b(w, "more_after", e.more_after);
  }
  void operator()(const ErrorEvent& e) {
    kv(w, "type", "error");
    json_status(w, e.code, e.detail);
  }
  void operator()(const MembersPage& e) {
    kv(w, "type", "members_page");
    kv(w, "channel", e.channel);
    w.Key("members");
    w.StartArray();
    for (const auto& m : e.members)
      json(w, m);
    w.EndArray();
    kv_b(w, "more", e.more);
    kv(w, "next_after", e.next_after);
    json_status(w, e.error, {});
  }
};

template <class F>
chat_status to_json_string(char** out, F&& write) noexcept {
  if (out == nullptr) return misuse("NULL out pointer");
  *out = nullptr;
  try {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    write(w);
    *out = dup_string(std::string(buf.GetString(), buf.GetSize()));
    return CHAT_OK;
  } catch (...) {
    tl_errmsg = "internal: JSON rendering failed";
    return CHAT_E_INTERNAL;
  }
}

const std::string& empty() {
  static const std::string e;
  return e;
}

// Accessor helpers: a missing view yields 0 / NULL, never a crash.
#define CHAT_FIELD(type, fn, view, conv, expr, dflt) \
  type fn(const conv* p) {                           \
    const auto* v = view(p);                         \
    if (v == nullptr) return dflt;                   \
    return (expr);                                   \
  }

}  // namespace

extern "C" {

// ---- versions and status -------------------------------------------------------

int chat_version_number(void) {
  return chatsdk::version_number();
}
const char* chat_version_string(void) {
  return chatsdk::version_string();
}

const char* chat_status_str(chat_status s) {
  const std::string_view n = errc_name(static_cast<Errc>(s));
  if (n == "unknown") return "Unknown status.";
  // errc_description returns views of string literals: NUL-terminated.
  return errc_description(static_cast<Errc>(s)).data();
}
const char* chat_status_name(chat_status s) {
  return errc_name(static_cast<Errc>(s)).data();
}
int chat_status_retryable(chat_status s) {
  return errc_retryable(static_cast<Errc>(s)) ? 1 : 0;
}

void chat_free(void* p) {
  std::free(p);
}

// ---- options ---------------------------------------------------------------------

chat_status chat_client_options_init(chat_client_options* o) {
  if (o == nullptr) return misuse("NULL options");
  const ClientOptions d;
  *o = chat_client_options{};
  o->struct_size = sizeof(chat_client_options);
  o->backoff_initial_ms = d.backoff.initial_ms;
  o->backoff_max_ms = d.backoff.max_ms;
  o->backoff_factor = d.backoff.factor;
  o->heartbeat_ms = d.heartbeat_ms;
  o->cache_cap_bytes = d.cache_cap_bytes;
  o->history_page = d.history_page;
  o->failed_op_blocks_channel = d.failed_op_blocks_channel ? 1 : 0;
  o->max_auto_retries = d.max_auto_retries;
  o->random_seed = d.random_seed;
  return CHAT_OK;
}

chat_status chat_send_options_init(chat_send_options* o) {
  if (o == nullptr) return misuse("NULL options");
  *o = chat_send_options{};
  o->struct_size = sizeof(chat_send_options);
  return CHAT_OK;
}

// ---- lifecycle -------------------------------------------------------------------

chat_status chat_client_create(const chat_client_options* o, chat_client** out) {
  try {
    if (out == nullptr) return misuse("NULL out pointer");
    *out = nullptr;
    if (tl_in_callback) return misuse("called from inside a chatsdk callback");
    if (o == nullptr) return misuse("NULL options");
    // Version 0.1 has one layout; a later library accepts this size too.
    if (o->struct_size != sizeof(chat_client_options))
      return misuse(
          "options.struct_size is not sizeof(chat_client_options): call chat_client_options_init");
    tl_errmsg.clear();

    auto c = std::make_unique<chat_client>();
    c->token = str(o->token);
    c->token_fn = o->token_fn;
    c->token_user_data = o->token_user_data;

    ClientOptions co;
    co.server_url = str(o->server_url);
    co.database_path = str(o->database_path);
    co.device_id = str(o->device_id);
    co.backoff.initial_ms = o->backoff_initial_ms;
    co.backoff.max_ms = o->backoff_max_ms;
    co.backoff.factor = o->backoff_factor;
    co.heartbeat_ms = o->heartbeat_ms;
    co.cache_cap_bytes = o->cache_cap_bytes;
    co.history_page = o->history_page;
    co.failed_op_blocks_channel = o->failed_op_blocks_channel != 0;
    co.max_auto_retries = o->max_auto_retries;
    co.random_seed = o->random_seed;
    chat_client* raw = c.get();
    co.token_provider = [raw]() -> std::string {
      if (raw->token_fn != nullptr) {
        tl_in_callback = true;
        try {
          raw->token_fn(raw->token_user_data, raw);
        } catch (...) {  // a C++ app's callback threw: keep the stored token
        }
        tl_in_callback = false;
      }
      std::lock_guard<std::mutex> g(raw->token_mu);
      return raw->token;
    };

    auto r = Client::create(std::move(co));
    if (!r) {
      tl_errmsg = std::string(errc_name(r.error().code)) + ": " + r.error().message;
      return to_status(r.error().code);
    }
    c->cpp = std::move(*r);
    {
      std::lock_guard<std::mutex> g(g_registry_mu);
      registry().insert(raw);
    }
    *out = c.release();
    return CHAT_OK;
  } catch (const std::bad_alloc&) {
    tl_errmsg = "out of memory";
    return CHAT_E_INTERNAL;
  } catch (...) {
    tl_errmsg = "internal: unexpected exception in chat_client_create";
    return CHAT_E_INTERNAL;
  }
}

void chat_client_destroy(chat_client* c) {
  if (c == nullptr || tl_in_callback) return;
  {
    std::lock_guard<std::mutex> g(g_registry_mu);
    if (registry().erase(c) == 0) return;  // not ours, or already destroyed
    c->magic = kDeadMagic;
  }
  try {
    c->cpp.reset();  // stops run()'s thread, closes the connection and the cache
  } catch (...) {
  }
  delete c;
}

const char* chat_client_errmsg(chat_client* c) {
  if (c == nullptr || !live(c)) return tl_errmsg.c_str();
  std::lock_guard<std::mutex> g(c->err_mu);
  return c->err.c_str();
}

chat_status chat_client_set_token(chat_client* c, const char* jwt) {
  // Allowed inside token_fn (which runs with the client's lock held), so it
  // touches only token_mu.
  try {
    if (!live(c)) return misuse("NULL or destroyed chat_client handle");
    std::string t = str(jwt);
    std::lock_guard<std::mutex> g(c->token_mu);
    c->token = std::move(t);
    return CHAT_OK;
  } catch (...) {
    return CHAT_E_INTERNAL;
  }
}

chat_status chat_client_connect(chat_client* c) {
  return guarded(c, [](chat_client& cl) {
    cl.cpp->connect();
    return CHAT_OK;
  });
}
chat_status chat_client_disconnect(chat_client* c) {
  return guarded(c, [](chat_client& cl) {
    cl.cpp->disconnect();
    return CHAT_OK;
  });
}
chat_status chat_client_suspend(chat_client* c) {
  return guarded(c, [](chat_client& cl) {
    cl.cpp->prepare_suspend();
    return CHAT_OK;
  });
}
chat_status chat_client_resume(chat_client* c) {
  return guarded(c, [](chat_client& cl) {
    cl.cpp->resume();
    return CHAT_OK;
  });
}

chat_connection_state chat_client_state(chat_client* c) {
  chat_connection_state s = CHAT_CONN_DISCONNECTED;
  (void)guarded(c, [&](chat_client& cl) {
    s = static_cast<chat_connection_state>(static_cast<int>(cl.cpp->state()));
    return CHAT_OK;
  });
  return s;
}

chat_status chat_client_user_id(chat_client* c, char** out) {
  if (out == nullptr) return misuse("NULL out pointer");
  *out = nullptr;
  return guarded(c, [&](chat_client& cl) {
    *out = dup_string(cl.cpp->user_id());
    return CHAT_OK;
  });
}

// ---- loop ------------------------------------------------------------------------

chat_status chat_client_poll(chat_client* c, int timeout_ms) {
  return guarded(c, [&](chat_client& cl) { return from_void(cl, cl.cpp->poll(timeout_ms)); });
}

chat_status chat_client_wakeup(chat_client* c) {
  // Any thread, also while another thread polls: no lock beyond the registry.
  if (!live(c)) return misuse("NULL or destroyed chat_client handle");
  c->cpp->wakeup();
  return CHAT_OK;
}

chat_status chat_client_run(chat_client* c) {
  return guarded(c, [](chat_client& cl) { return from_void(cl, cl.cpp->run()); });
}
chat_status chat_client_stop(chat_client* c) {
  return guarded(c, [](chat_client& cl) {
    cl.cpp->stop();
    return CHAT_OK;
  });
}

chat_status chat_client_next_event(chat_client* c, const chat_event** out) {
  if (out == nullptr) return misuse("NULL out pointer");
  *out = nullptr;
  return guarded(c, [&](chat_client& cl) {
    std::lock_guard<std::mutex> g(cl.tags_mu);
    auto ev = cl.cpp->next_event();
    if (!ev) return CHAT_OK;
    cl.current.tag = tag_of(cl, *ev);
    cl.current.ev = std::move(*ev);
    *out = &cl.current;
    return CHAT_OK;
  });
}

// ---- outbox commands -----------------------------------------------------------

chat_status chat_client_send_text(chat_client* c, const char* channel, const char* body,
                                  const chat_send_options* opts, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (!require(cl, channel, "channel") || !require(cl, body, "body"))
      return Error{Errc::invalid_argument, "NULL argument"};
    SendOptions so;
    if (opts != nullptr) {
      if (opts->struct_size != sizeof(chat_send_options))
        return Error{Errc::misuse, "send options struct_size is not sizeof(chat_send_options)"};
      so.reply_to = opts->reply_to;
      if (!string_array(cl, opts->mentions, opts->mention_count, so.mentions))
        return Error{Errc::invalid_argument, "bad mentions"};
      so.metadata = str(opts->metadata);
    }
    return cl.cpp->send_text(channel, body, so);
  });
}

chat_status chat_client_reply(chat_client* c, const char* channel, uint64_t parent_seq,
                              const char* body, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (!require(cl, channel, "channel") || !require(cl, body, "body"))
      return Error{Errc::invalid_argument, "NULL argument"};
    if (parent_seq == 0) return Error{Errc::invalid_argument, "parent_seq must be nonzero"};
    SendOptions so;
    so.reply_to = parent_seq;
    return cl.cpp->send_text(channel, body, so);
  });
}

}  // extern "C"

namespace {
Result<MessageRef> message_ref(const char* channel, uint64_t seq, const char* client_id) {
  if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
  if (seq == 0 && (client_id == nullptr || *client_id == '\0'))
    return Error{Errc::invalid_argument, "name the message by seq or by client_id"};
  return MessageRef{channel, seq, str(client_id)};
}
}  // namespace

extern "C" {

chat_status chat_client_edit(chat_client* c, const char* channel, uint64_t seq,
                             const char* client_id, const char* body, const char* metadata,
                             uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    auto ref = message_ref(channel, seq, client_id);
    if (!ref) return ref.error();
    if (body == nullptr) return Error{Errc::invalid_argument, "body must not be NULL"};
    return cl.cpp->edit(*ref, body, str(metadata));
  });
}

chat_status chat_client_delete(chat_client* c, const char* channel, uint64_t seq,
                               const char* client_id, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    auto ref = message_ref(channel, seq, client_id);
    if (!ref) return ref.error();
    return cl.cpp->delete_message(*ref);
  });
}

chat_status chat_client_react(chat_client* c, const char* channel, uint64_t seq,
                              const char* client_id, const char* emoji, int add, uint64_t tag,
                              int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    auto ref = message_ref(channel, seq, client_id);
    if (!ref) return ref.error();
    if (emoji == nullptr) return Error{Errc::invalid_argument, "emoji must not be NULL"};
    return add ? cl.cpp->react(*ref, emoji) : cl.cpp->unreact(*ref, emoji);
  });
}

chat_status chat_client_mark_read(chat_client* c, const char* channel, uint64_t seq, uint64_t tag,
                                  int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
    return cl.cpp->mark_read(channel, seq);
  });
}

chat_status chat_client_create_group(chat_client* c, const char* channel_id, const char* name_,
                                     const char* const* members, size_t member_count, int is_public,
                                     uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    std::vector<std::string> m;
    if (!string_array(cl, members, member_count, m))
      return Error{Errc::invalid_argument, "bad members"};
    return cl.cpp->create_group(str(channel_id), str(name_), m, is_public != 0);
  });
}

chat_status chat_client_create_direct(chat_client* c, const char* other, uint64_t tag,
                                      int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (other == nullptr) return Error{Errc::invalid_argument, "other_user must not be NULL"};
    return cl.cpp->create_direct(other);
  });
}

chat_status chat_client_join(chat_client* c, const char* channel, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
    return cl.cpp->join(channel);
  });
}

chat_status chat_client_invite(chat_client* c, const char* channel, const char* const* users,
                               size_t n, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
    std::vector<std::string> u;
    if (!string_array(cl, users, n, u)) return Error{Errc::invalid_argument, "bad users"};
    return cl.cpp->invite(channel, u);
  });
}

chat_status chat_client_remove_members(chat_client* c, const char* channel,
                                       const char* const* users, size_t n, uint64_t tag,
                                       int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
    std::vector<std::string> u;
    if (!string_array(cl, users, n, u)) return Error{Errc::invalid_argument, "bad users"};
    return cl.cpp->remove_members(channel, u);
  });
}

chat_status chat_client_leave(chat_client* c, const char* channel, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
    return cl.cpp->leave(channel);
  });
}

chat_status chat_client_update_channel(chat_client* c, const char* channel, const char* name,
                                       int is_public, const char* metadata, uint64_t tag,
                                       int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr) return Error{Errc::invalid_argument, "channel must not be NULL"};
    std::optional<std::string> n, m;
    std::optional<bool> p;
    if (name) n = name;
    if (metadata) m = metadata;
    if (is_public >= 0) p = is_public != 0;
    return cl.cpp->update_channel(channel, std::move(n), p, std::move(m));
  });
}

chat_status chat_client_set_role(chat_client* c, const char* channel, const char* user,
                                 chat_role role, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    if (channel == nullptr || user == nullptr)
      return Error{Errc::invalid_argument, "channel and user must not be NULL"};
    if (role != CHAT_ROLE_MEMBER && role != CHAT_ROLE_MODERATOR && role != CHAT_ROLE_OWNER)
      return Error{Errc::invalid_argument, "unknown role"};
    return cl.cpp->set_role(channel, user, static_cast<Role>(static_cast<int>(role)));
  });
}

chat_status chat_client_set_profile(chat_client* c, const char* display_name,
                                    const char* avatar_url, uint64_t tag, int64_t* out_op) {
  return op_command(c, tag, out_op, [&](chat_client& cl) -> Result<OpId> {
    std::optional<std::string> n, a;
    if (display_name) n = display_name;
    if (avatar_url) a = avatar_url;
    return cl.cpp->set_profile(std::move(n), std::move(a));
  });
}

chat_status chat_client_retry(chat_client* c, int64_t op, uint64_t tag) {
  return guarded(c, [&](chat_client& cl) {
    std::lock_guard<std::mutex> g(cl.tags_mu);
    auto r = cl.cpp->retry(op);
    if (!r) return fail(&cl, r.error());
    remember_op(cl, op, tag);
    return CHAT_OK;
  });
}

chat_status chat_client_cancel(chat_client* c, int64_t op) {
  return guarded(c, [&](chat_client& cl) { return from_void(cl, cl.cpp->cancel(op)); });
}

// ---- ephemeral ---------------------------------------------------------------------

chat_status chat_client_typing(chat_client* c, const char* channel) {
  return guarded(c, [&](chat_client& cl) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    cl.cpp->typing(channel);
    return CHAT_OK;
  });
}

chat_status chat_client_typing_stop(chat_client* c, const char* channel) {
  return guarded(c, [&](chat_client& cl) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    cl.cpp->typing_stop(channel);
    return CHAT_OK;
  });
}

chat_status chat_client_query_presence(chat_client* c, const char* const* users, size_t n,
                                       uint64_t tag) {
  return guarded(c, [&](chat_client& cl) {
    std::vector<std::string> u;
    if (!string_array(cl, users, n, u)) return CHAT_E_INVALID_ARGUMENT;
    std::lock_guard<std::mutex> g(cl.tags_mu);
    auto r = cl.cpp->query_presence(u);
    if (!r) return fail(&cl, r.error());
    if (tag != 0)
      for (const auto& user : u)
        cl.presence_tags[user].push_back(tag);
    return CHAT_OK;
  });
}

chat_status chat_client_fetch_profiles(chat_client* c, const char* const* users, size_t n,
                                       uint64_t tag) {
  return guarded(c, [&](chat_client& cl) {
    std::vector<std::string> u;
    if (!string_array(cl, users, n, u)) return CHAT_E_INVALID_ARGUMENT;
    std::lock_guard<std::mutex> g(cl.tags_mu);
    auto r = cl.cpp->fetch_profiles(u);
    if (!r) return fail(&cl, r.error());
    cl.profile_tags.push_back(tag);  // one answer per request, tag 0 included
    return CHAT_OK;
  });
}

chat_status chat_client_list_members(chat_client* c, const char* channel, const char* after,
                                     uint32_t limit, uint64_t tag) {
  return guarded(c, [&](chat_client& cl) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    std::lock_guard<std::mutex> g(cl.tags_mu);
    auto r = cl.cpp->list_members(channel, after ? after : "", limit);
    if (!r) return fail(&cl, r.error());
    cl.members_tags[channel].push_back(tag);  // one page per request, tag 0 included
    return CHAT_OK;
  });
}

// ---- view-models -------------------------------------------------------------------

chat_status chat_client_open_timeline(chat_client* c, const char* channel) {
  return guarded(c, [&](chat_client& cl) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    return from_void(cl, cl.cpp->open_timeline(channel));
  });
}

chat_status chat_client_close_timeline(chat_client* c, const char* channel) {
  return guarded(c, [&](chat_client& cl) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    cl.cpp->close_timeline(channel);
    return CHAT_OK;
  });
}

}  // extern "C"

namespace {
chat_status load_page(chat_client* c, const char* channel, uint64_t tag, bool older) noexcept {
  return guarded(c, [&](chat_client& cl) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    std::lock_guard<std::mutex> g(cl.tags_mu);
    auto r = older ? cl.cpp->load_older(channel) : cl.cpp->load_newer(channel);
    if (!r) return fail(&cl, r.error());
    cl.history_tags[channel].push_back(tag);  // one HistoryLoaded per request
    return CHAT_OK;
  });
}
}  // namespace

extern "C" {

chat_status chat_client_load_older(chat_client* c, const char* channel, uint64_t tag) {
  return load_page(c, channel, tag, true);
}
chat_status chat_client_load_newer(chat_client* c, const char* channel, uint64_t tag) {
  return load_page(c, channel, tag, false);
}

// ---- queries -----------------------------------------------------------------------

}  // extern "C"

namespace {
template <class F>
chat_status query(chat_client* c, chat_list** out, F&& f) noexcept {
  if (out == nullptr) return misuse("NULL out pointer");
  *out = nullptr;
  return guarded(c, [&](chat_client& cl) {
    auto l = std::make_unique<chat_list>();
    chat_status s = f(cl, *l);
    if (s == CHAT_OK) *out = l.release();
    return s;
  });
}
}  // namespace

extern "C" {

chat_status chat_client_channels(chat_client* c, chat_list** out) {
  return query(c, out, [](chat_client& cl, chat_list& l) {
    l.rows = cl.cpp->channels();
    return CHAT_OK;
  });
}

chat_status chat_client_messages(chat_client* c, const char* channel, size_t newest,
                                 chat_list** out) {
  return query(c, out, [&](chat_client& cl, chat_list& l) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    l.rows = cl.cpp->messages(channel, newest);
    return CHAT_OK;
  });
}

chat_status chat_client_timeline(chat_client* c, const char* channel, chat_list** out) {
  return query(c, out, [&](chat_client& cl, chat_list& l) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    l.rows = cl.cpp->timeline(channel);
    return CHAT_OK;
  });
}

chat_status chat_client_members(chat_client* c, const char* channel, chat_list** out) {
  return query(c, out, [&](chat_client& cl, chat_list& l) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    l.rows = cl.cpp->members(channel);
    return CHAT_OK;
  });
}

chat_status chat_client_pending_ops(chat_client* c, chat_list** out) {
  return query(c, out, [](chat_client& cl, chat_list& l) {
    l.rows = cl.cpp->pending_ops();
    return CHAT_OK;
  });
}

chat_status chat_client_typing_users(chat_client* c, const char* channel, chat_list** out) {
  return query(c, out, [&](chat_client& cl, chat_list& l) {
    if (!require(cl, channel, "channel")) return CHAT_E_INVALID_ARGUMENT;
    l.rows = cl.cpp->typing_users(channel);
    return CHAT_OK;
  });
}

size_t chat_list_count(const chat_list* l) {
  if (!L(l)) return 0;
  return std::visit([](const auto& v) { return v.size(); }, l->rows);
}

const chat_channel* chat_list_channel(const chat_list* l, size_t i) {
  const auto* r = row<Channel>(l, i);
  return r ? to_c(*r) : nullptr;
}

const chat_message* chat_list_message(const chat_list* l, size_t i) {
  if (const auto* m = row<Message>(l, i)) return to_c(*m);
  if (const auto* t = row<TimelineItem>(l, i)) return to_c(t->message);
  return nullptr;
}

const chat_op* chat_list_op(const chat_list* l, size_t i) {
  const auto* r = row<Op>(l, i);
  return r ? to_c(*r) : nullptr;
}

const char* chat_list_string(const chat_list* l, size_t i) {
  if (const auto* s = row<std::string>(l, i)) return s->c_str();
  if (const auto* m = row<Member>(l, i)) return m->user.c_str();
  return nullptr;
}

const char* chat_list_item_key(const chat_list* l, size_t i) {
  const auto* t = row<TimelineItem>(l, i);
  return t ? t->key.c_str() : nullptr;
}

chat_op_state chat_list_item_state(const chat_list* l, size_t i) {
  const auto* t = row<TimelineItem>(l, i);
  return t ? static_cast<chat_op_state>(static_cast<int>(t->state)) : CHAT_OP_SENT;
}

int64_t chat_list_item_op(const chat_list* l, size_t i) {
  const auto* t = row<TimelineItem>(l, i);
  return t ? t->op.value_or(0) : 0;
}

chat_role chat_list_member_role(const chat_list* l, size_t i) {
  const auto* m = row<Member>(l, i);
  return m ? static_cast<chat_role>(static_cast<int>(m->role)) : CHAT_ROLE_MEMBER;
}

uint64_t chat_list_member_read_seq(const chat_list* l, size_t i) {
  const auto* m = row<Member>(l, i);
  return m ? m->read_seq : 0;
}

chat_status chat_list_to_json(const chat_list* l, char** out) {
  if (!L(l)) {
    if (out) *out = nullptr;
    return misuse("NULL or destroyed chat_list");
  }
  return to_json_string(out, [&](JsonOut& w) {
    w.StartArray();
    std::visit(
        [&](const auto& v) {
          for (const auto& x : v)
            json(w, x);
        },
        l->rows);
    w.EndArray();
  });
}

void chat_list_destroy(chat_list* l) {
  if (!L(l)) return;
  l->magic = kDeadMagic;
  delete l;
}

// ---- event accessors --------------------------------------------------------------

chat_event_type_t chat_event_type(const chat_event* ev) {
  const Event* e = E(ev);
  return e ? static_cast<chat_event_type_t>(e->index() + 1) : CHAT_EVENT_NONE;
}

uint64_t chat_event_tag(const chat_event* ev) {
  return E(ev) ? ev->tag : 0;
}

const char* chat_event_channel(const chat_event* ev) {
  if (const auto* t = get<TimelineDiff>(ev)) return t->channel.c_str();
  if (const auto* t = get<TypingChanged>(ev)) return t->channel.c_str();
  if (const auto* r = get<ReceiptChanged>(ev)) return r->receipt.channel.c_str();
  if (const auto* h = get<HistoryLoaded>(ev)) return h->channel.c_str();
  if (const auto* m = get<MembersPage>(ev)) return m->channel.c_str();
  return nullptr;
}

chat_status chat_event_status(const chat_event* ev) {
  if (const auto* c = get<ConnectionChanged>(ev)) return to_status(c->reason);
  if (const auto* e = get<ErrorEvent>(ev)) return to_status(e->code);
  if (const auto* o = get<OpChanged>(ev))
    return o->op.failure ? to_status(o->op.failure->code) : CHAT_OK;
  if (const auto* m = get<MembersPage>(ev)) return to_status(m->error);
  return CHAT_OK;
}

const char* chat_event_detail(const chat_event* ev) {
  if (const auto* c = get<ConnectionChanged>(ev)) return c->detail.c_str();
  if (const auto* e = get<ErrorEvent>(ev)) return e->detail.c_str();
  if (const auto* o = get<OpChanged>(ev)) return o->op.failure ? o->op.failure->reason.c_str() : "";
  return E(ev) ? "" : nullptr;
}

chat_connection_state chat_event_connection_state(const chat_event* ev) {
  const auto* c = get<ConnectionChanged>(ev);
  return c ? static_cast<chat_connection_state>(static_cast<int>(c->state))
           : CHAT_CONN_DISCONNECTED;
}

int64_t chat_event_retry_in_ms(const chat_event* ev) {
  const auto* c = get<ConnectionChanged>(ev);
  return c ? c->retry_in_ms : -1;
}

size_t chat_event_diff_count(const chat_event* ev) {
  return diffs(ev).size();
}

chat_diff_kind chat_event_diff_kind(const chat_event* ev, size_t op) {
  DiffView v = diffs(ev);
  if (op >= v.size()) return CHAT_DIFF_RESET;
  DiffKind k = v.timeline ? (*v.timeline)[op].kind : (*v.channels)[op].kind;
  return static_cast<chat_diff_kind>(static_cast<int>(k));
}

size_t chat_event_diff_index(const chat_event* ev, size_t op) {
  DiffView v = diffs(ev);
  if (op >= v.size()) return 0;
  return v.timeline ? (*v.timeline)[op].index : (*v.channels)[op].index;
}

const char* chat_event_diff_key(const chat_event* ev, size_t op) {
  DiffView v = diffs(ev);
  if (op >= v.size()) return nullptr;
  return v.timeline ? (*v.timeline)[op].key.c_str() : (*v.channels)[op].key.c_str();
}

size_t chat_event_diff_item_count(const chat_event* ev, size_t op) {
  DiffView v = diffs(ev);
  if (op >= v.size()) return 0;
  DiffKind k = v.timeline ? (*v.timeline)[op].kind : (*v.channels)[op].kind;
  switch (k) {
    case DiffKind::reset:
      return v.timeline ? (*v.timeline)[op].items.size() : (*v.channels)[op].items.size();
    case DiffKind::insert:
    case DiffKind::update:
      return 1;
    case DiffKind::remove:
      return 0;
  }
  return 0;
}

const chat_message* chat_event_diff_message(const chat_event* ev, size_t op, size_t item) {
  const auto* t = timeline_item(ev, op, item);
  return t ? to_c(t->message) : nullptr;
}

const chat_channel* chat_event_diff_channel(const chat_event* ev, size_t op, size_t item) {
  const auto* c = diff_item(diffs(ev).channels, op, item);
  return c ? to_c(c->channel) : nullptr;
}

const char* chat_event_diff_item_key(const chat_event* ev, size_t op, size_t item) {
  if (const auto* t = timeline_item(ev, op, item)) return t->key.c_str();
  if (const auto* c = diff_item(diffs(ev).channels, op, item)) return c->key.c_str();
  return nullptr;
}

chat_op_state chat_event_diff_item_state(const chat_event* ev, size_t op, size_t item) {
  const auto* t = timeline_item(ev, op, item);
  return t ? static_cast<chat_op_state>(static_cast<int>(t->state)) : CHAT_OP_SENT;
}

int64_t chat_event_diff_item_op(const chat_event* ev, size_t op, size_t item) {
  const auto* t = timeline_item(ev, op, item);
  return t ? t->op.value_or(0) : 0;
}

const chat_op* chat_event_op(const chat_event* ev) {
  const auto* o = get<OpChanged>(ev);
  return o ? to_c(o->op) : nullptr;
}

size_t chat_event_user_count(const chat_event* ev) {
  if (const auto* t = get<TypingChanged>(ev)) return t->users.size();
  if (const auto* p = get<ProfilesReceived>(ev)) return p->users.size();
  if (get<PresenceChanged>(ev) || get<ReceiptChanged>(ev)) return 1;
  if (const auto* m = get<MembersPage>(ev)) return m->members.size();
  return 0;
}

const char* chat_event_user(const chat_event* ev, size_t i) {
  if (const auto* t = get<TypingChanged>(ev))
    return i < t->users.size() ? t->users[i].c_str() : nullptr;
  if (const auto* p = get<ProfilesReceived>(ev))
    return i < p->users.size() ? p->users[i].id.c_str() : nullptr;
  if (const auto* p = get<PresenceChanged>(ev)) return i == 0 ? p->presence.user.c_str() : nullptr;
  if (const auto* r = get<ReceiptChanged>(ev)) return i == 0 ? r->receipt.user.c_str() : nullptr;
  if (const auto* m = get<MembersPage>(ev))
    return i < m->members.size() ? m->members[i].user.c_str() : nullptr;
  return nullptr;
}

}  // extern "C"

namespace {
const User* profile(const chat_event* ev, size_t i) {
  const auto* p = get<ProfilesReceived>(ev);
  return (p && i < p->users.size()) ? &p->users[i] : nullptr;
}
}  // namespace

extern "C" {

const char* chat_event_profile_display_name(const chat_event* ev, size_t i) {
  const auto* u = profile(ev, i);
  return u ? u->display_name.c_str() : nullptr;
}
const char* chat_event_profile_avatar_url(const chat_event* ev, size_t i) {
  const auto* u = profile(ev, i);
  return u ? u->avatar_url.c_str() : nullptr;
}
const char* chat_event_profile_metadata(const chat_event* ev, size_t i) {
  const auto* u = profile(ev, i);
  return u ? u->metadata.c_str() : nullptr;
}

int chat_event_presence_online(const chat_event* ev) {
  const auto* p = get<PresenceChanged>(ev);
  return (p && p->presence.online) ? 1 : 0;
}
int64_t chat_event_presence_last_seen(const chat_event* ev) {
  const auto* p = get<PresenceChanged>(ev);
  return p ? p->presence.last_seen : 0;
}
uint64_t chat_event_receipt_read_seq(const chat_event* ev) {
  const auto* r = get<ReceiptChanged>(ev);
  return r ? r->receipt.read_seq : 0;
}
uint64_t chat_event_receipt_delivered_seq(const chat_event* ev) {
  const auto* r = get<ReceiptChanged>(ev);
  return r ? r->receipt.delivered_seq : 0;
}
size_t chat_event_history_count(const chat_event* ev) {
  const auto* h = get<HistoryLoaded>(ev);
  return h ? h->count : 0;
}
int chat_event_history_more_before(const chat_event* ev) {
  const auto* h = get<HistoryLoaded>(ev);
  return (h && h->more_before) ? 1 : 0;
}
int chat_event_history_more_after(const chat_event* ev) {
  const auto* h = get<HistoryLoaded>(ev);
  return (h && h->more_after) ? 1 : 0;
}
chat_role chat_event_member_role(const chat_event* ev, size_t i) {
  const auto* m = get<MembersPage>(ev);
  return (m && i < m->members.size())
             ? static_cast<chat_role>(static_cast<int>(m->members[i].role))
             : CHAT_ROLE_MEMBER;
}
uint64_t chat_event_member_read_seq(const chat_event* ev, size_t i) {
  const auto* m = get<MembersPage>(ev);
  return (m && i < m->members.size()) ? m->members[i].read_seq : 0;
}
int chat_event_members_more(const chat_event* ev) {
  const auto* m = get<MembersPage>(ev);
  return (m && m->more) ? 1 : 0;
}
const char* chat_event_members_next_after(const chat_event* ev) {
  const auto* m = get<MembersPage>(ev);
  return m ? m->next_after.c_str() : nullptr;
}
uint64_t chat_event_evicted_messages(const chat_event* ev) {
  const auto* e = get<CacheEvicted>(ev);
  return e ? e->messages : 0;
}
uint64_t chat_event_evicted_bytes_before(const chat_event* ev) {
  const auto* e = get<CacheEvicted>(ev);
  return e ? e->bytes_before : 0;
}
uint64_t chat_event_evicted_bytes_after(const chat_event* ev) {
  const auto* e = get<CacheEvicted>(ev);
  return e ? e->bytes_after : 0;
}

chat_status chat_event_to_json(const chat_event* ev, char** out) {
  const Event* e = E(ev);
  if (e == nullptr) {
    if (out) *out = nullptr;
    return misuse("NULL or invalid chat_event");
  }
  return to_json_string(out, [&](JsonOut& w) {
    w.StartObject();
    std::visit(EventJson{w}, *e);
    kv_u(w, "tag", ev->tag);
    w.EndObject();
  });
}

// ---- message / channel / op views ------------------------------------------------

CHAT_FIELD(const char*, chat_message_channel, M, chat_message, v->channel.c_str(), nullptr)
CHAT_FIELD(uint64_t, chat_message_seq, M, chat_message, v->seq, 0)
CHAT_FIELD(uint64_t, chat_message_version, M, chat_message, v->version, 0)
CHAT_FIELD(const char*, chat_message_sender, M, chat_message, v->sender.c_str(), nullptr)
CHAT_FIELD(const char*, chat_message_client_id, M, chat_message, v->client_id.c_str(), nullptr)
CHAT_FIELD(const char*, chat_message_body, M, chat_message, v->body.c_str(), nullptr)
CHAT_FIELD(int64_t, chat_message_created_at, M, chat_message, v->created_at, 0)
CHAT_FIELD(int64_t, chat_message_edited_at, M, chat_message, v->edited_at, 0)
CHAT_FIELD(int, chat_message_deleted, M, chat_message, v->deleted ? 1 : 0, 0)
CHAT_FIELD(uint64_t, chat_message_reply_to, M, chat_message, v->reply_to, 0)
CHAT_FIELD(uint32_t, chat_message_reply_count, M, chat_message, v->reply_count, 0)
CHAT_FIELD(const char*, chat_message_metadata, M, chat_message, v->metadata.c_str(), nullptr)
CHAT_FIELD(size_t, chat_message_reaction_count, M, chat_message, v->reactions.size(), 0)
CHAT_FIELD(size_t, chat_message_mention_count, M, chat_message, v->mentions.size(), 0)

const char* chat_message_reaction_emoji(const chat_message* m, size_t i) {
  const Message* v = M(m);
  return (v && i < v->reactions.size()) ? v->reactions[i].emoji.c_str() : nullptr;
}
uint32_t chat_message_reaction_users(const chat_message* m, size_t i) {
  const Message* v = M(m);
  return (v && i < v->reactions.size()) ? v->reactions[i].count : 0;
}
int chat_message_reaction_mine(const chat_message* m, size_t i) {
  const Message* v = M(m);
  return (v && i < v->reactions.size() && v->reactions[i].mine) ? 1 : 0;
}
const char* chat_message_mention(const chat_message* m, size_t i) {
  const Message* v = M(m);
  return (v && i < v->mentions.size()) ? v->mentions[i].c_str() : nullptr;
}

CHAT_FIELD(const char*, chat_channel_id, CH, chat_channel, v->id.c_str(), nullptr)
CHAT_FIELD(chat_channel_kind, chat_channel_get_kind, CH, chat_channel,
           static_cast<chat_channel_kind>(static_cast<int>(v->kind)), CHAT_CHANNEL_GROUP)
CHAT_FIELD(const char*, chat_channel_name, CH, chat_channel, v->name.c_str(), nullptr)
CHAT_FIELD(int, chat_channel_is_public, CH, chat_channel, v->is_public ? 1 : 0, 0)
CHAT_FIELD(const char*, chat_channel_created_by, CH, chat_channel, v->created_by.c_str(), nullptr)
CHAT_FIELD(int64_t, chat_channel_created_at, CH, chat_channel, v->created_at, 0)
CHAT_FIELD(uint32_t, chat_channel_member_count, CH, chat_channel, v->member_count, 0)
CHAT_FIELD(chat_role, chat_channel_role, CH, chat_channel,
           static_cast<chat_role>(static_cast<int>(v->role)), CHAT_ROLE_MEMBER)
CHAT_FIELD(const char*, chat_channel_metadata, CH, chat_channel, v->metadata.c_str(), nullptr)
CHAT_FIELD(uint64_t, chat_channel_last_seq, CH, chat_channel, v->last_seq, 0)
CHAT_FIELD(uint64_t, chat_channel_read_seq, CH, chat_channel, v->read_seq, 0)
CHAT_FIELD(uint64_t, chat_channel_delivered_seq, CH, chat_channel, v->delivered_seq, 0)
CHAT_FIELD(uint32_t, chat_channel_unread, CH, chat_channel, v->unread, 0)
CHAT_FIELD(uint32_t, chat_channel_mentions, CH, chat_channel, v->mentions, 0)
CHAT_FIELD(const chat_message*, chat_channel_last_message, CH, chat_channel,
           v->last_message ? to_c(*v->last_message) : nullptr, nullptr)
CHAT_FIELD(int64_t, chat_channel_last_activity, CH, chat_channel, v->last_activity, 0)

CHAT_FIELD(int64_t, chat_op_id, OP, chat_op, v->id, 0)
CHAT_FIELD(chat_op_kind, chat_op_get_kind, OP, chat_op,
           static_cast<chat_op_kind>(static_cast<int>(v->kind)), CHAT_OP_SEND)
CHAT_FIELD(chat_op_state, chat_op_get_state, OP, chat_op,
           static_cast<chat_op_state>(static_cast<int>(v->state)), CHAT_OP_QUEUED)
CHAT_FIELD(const char*, chat_op_channel, OP, chat_op, v->channel.c_str(), nullptr)
CHAT_FIELD(const char*, chat_op_client_id, OP, chat_op, v->client_id.c_str(), nullptr)
CHAT_FIELD(uint64_t, chat_op_seq, OP, chat_op, v->seq, 0)
CHAT_FIELD(chat_status, chat_op_failure, OP, chat_op,
           v->failure ? to_status(v->failure->code) : CHAT_OK, CHAT_OK)
CHAT_FIELD(int, chat_op_failure_retryable, OP, chat_op,
           (v->failure && v->failure->retryable) ? 1 : 0, 0)
CHAT_FIELD(const char*, chat_op_failure_reason, OP, chat_op,
           v->failure ? v->failure->reason.c_str() : empty().c_str(), nullptr)
CHAT_FIELD(int64_t, chat_op_created_at, OP, chat_op, v->created_at, 0)

}  // extern "C"
