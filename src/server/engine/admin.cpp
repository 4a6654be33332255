// Admin HTTP API (JSON). The transport has already checked the bearer token.
//
//   PUT    /admin/users/{id}                      profile {display_name?, avatar_url?, metadata?}
//   POST   /admin/channels                        create {kind, channel?, name?, public?,
//                                                         members: [{user, role?}], metadata?}
//   GET    /admin/channels?after=&limit=          list
//   POST   /admin/channels/{id}/members           add {users: [..]} or {user}, role?
//   DELETE /admin/channels/{id}/members/{user}    remove
//   PUT    /admin/channels/{id}/members/{user}    role {role}
//   GET    /admin/channels/{id}/messages?before=&after=&limit=   history
//   DELETE /admin/channels/{id}/messages/{seq}    delete as admin
//
// Errors: {"error": "<errc name>", "message": "..."} with 400/403/404/409/
// 429/500/503. Mutations fan out exactly like their protocol counterparts.
#include <algorithm>
#include <charconv>
#include <optional>

#include <rapidjson/document.h>

#include "common/protocol/limits.hpp"
#include "common/util/ids.hpp"
#include "server/engine/engine_impl.hpp"
#include "server/engine/json_out.hpp"

namespace chatsdk::server {

namespace {

using Done = std::function<void(AdminResponse)>;
constexpr std::uint32_t kDefaultChannelsPage = 100;
constexpr std::uint32_t kMaxChannelsPage = 1000;

int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::malformed_frame:
    case Errc::unknown_type:
    case Errc::missing_field:
    case Errc::wrong_type:
    case Errc::invalid_utf8:
    case Errc::too_deep:
    case Errc::out_of_range:
    case Errc::body_too_large:
    case Errc::limit_exceeded:
    case Errc::message_deleted:
      return 400;
    case Errc::permission_denied:
      return 403;
    case Errc::not_found:
    case Errc::not_member:
      return 404;
    case Errc::already_exists:
      return 409;
    case Errc::rate_limited:
      return 429;
    case Errc::unavailable:
      return 503;
    default:
      return 500;
  }
}

AdminResponse error_response(Errc code, std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  const auto name = errc_name(code);
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return AdminResponse{http_status(code), std::string(buf.GetString(), buf.GetSize())};
}

AdminResponse ok_version(const std::string& channel, proto::Version version) {
  return AdminResponse{
      200, "{\"channel\":\"" + channel + "\",\"version\":" + std::to_string(version) + "}"};
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(percent_decode(part));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

/// Parses an unsigned query/path number; nullopt when absent, error when bad.
Result<std::uint64_t> parse_uint(const std::optional<std::string>& s, std::uint64_t dflt) {
  if (!s || s->empty()) return dflt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size() || v > proto::kMaxSafeInteger) {
    return Error{Errc::invalid_argument, "not a non-negative integer: " + *s};
  }
  return v;
}

template <class E>
std::optional<E> parse_enum(std::string_view name) {
  const auto names = enum_names(E{});
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

/// A JSON body as an object; error when it is not one.
Result<rapidjson::Document> parse_body(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.empty() ? "{}" : body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Error{Errc::invalid_argument, "body must be a JSON object"};
  }
  return doc;
}

/// The member `key` of a JSON object, or nullptr (absent or null).
const rapidjson::Value* member(const rapidjson::Value& obj, const char* key) {
  if (!obj.HasMember(key)) return nullptr;
  const rapidjson::Value& v = obj[key];
  return v.IsNull() ? nullptr : &v;
}

/// Optional string member; error when present with another type.
Result<std::optional<std::string>> get_string(const rapidjson::Value& obj, const char* key) {
  const rapidjson::Value* v = member(obj, key);
  if (v == nullptr) return std::optional<std::string>{};
  if (!v->IsString()) return Error{Errc::wrong_type, std::string(key) + " must be a string"};
  return std::optional<std::string>{std::string(v->GetString(), v->GetStringLength())};
}

Result<std::optional<bool>> get_bool(const rapidjson::Value& obj, const char* key) {
  const rapidjson::Value* v = member(obj, key);
  if (v == nullptr) return std::optional<bool>{};
  if (!v->IsBool()) return Error{Errc::wrong_type, std::string(key) + " must be a boolean"};
  return std::optional<bool>{v->GetBool()};
}

Result<std::optional<proto::JsonObject>> get_object(const rapidjson::Value& obj, const char* key,
                                                    std::size_t max_bytes) {
  const rapidjson::Value* v = member(obj, key);
  if (v == nullptr) return std::optional<proto::JsonObject>{};
  if (!v->IsObject()) return Error{Errc::wrong_type, std::string(key) + " must be an object"};
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v->Accept(w);
  if (buf.GetSize() > max_bytes)
    return Error{Errc::body_too_large, std::string(key) + " too large"};
  return std::optional<proto::JsonObject>{
      proto::JsonObject{std::string(buf.GetString(), buf.GetSize())}};
}

Result<proto::Role> get_role(const rapidjson::Value& obj, proto::Role dflt) {
  auto s = get_string(obj, "role");
  if (!s) return s.error();
  if (!*s) return dflt;
  auto role = parse_enum<proto::Role>(**s);
  if (!role) return Error{Errc::invalid_argument, "role must be member, moderator or owner"};
  return *role;
}

}  // namespace

void Engine::admin(AdminRequest request, std::function<void(AdminResponse)> done) {
  admin_route(request, done);
}

void Engine::admin_route(AdminRequest& req, Done& done) {
  const auto parts = split_path(req.path);
  const auto fail = [&](Errc code, std::string_view message) {
    done(error_response(code, message));
  };
  const auto fail_with = [&](const Error& e) { done(error_response(e.code, e.message)); };
  if (parts.size() < 2 || parts[0] != "admin") return fail(Errc::not_found, "no such endpoint");
  if (draining_) return fail(Errc::unavailable, "server shutting down");
  for (std::size_t i = 2; i < parts.size(); ++i) {
    if (i == 3 || i == 5) continue;  // resource names / seq checked below
    if (!is_valid_id(parts[i])) return fail(Errc::invalid_argument, "invalid id in path");
  }
  const std::int64_t now = clock_.now_ms();

  // ---- PUT /admin/users/{id}
  if (parts[1] == "users" && parts.size() == 3) {
    if (req.method != "PUT") return fail(Errc::invalid_argument, "method not allowed");
    auto body = parse_body(req.body);
    if (!body) return fail_with(body.error());
    store::SetProfileOp op;
    op.user = parts[2];
    auto name = get_string(*body, "display_name");
    auto avatar = get_string(*body, "avatar_url");
    auto meta = get_object(*body, "metadata", config_.max_metadata_bytes);
    if (!name) return fail_with(name.error());
    if (!avatar) return fail_with(avatar.error());
    if (!meta) return fail_with(meta.error());
    if (*name && (*name)->size() > proto::kMaxNameBytes)
      return fail(Errc::out_of_range, "display_name too long");
    if (*avatar && (*avatar)->size() > proto::kMaxUrlBytes)
      return fail(Errc::out_of_range, "avatar_url too long");
    op.display_name = std::move(*name);
    op.avatar_url = std::move(*avatar);
    op.metadata = std::move(*meta);
    op.now = now;
    write(std::move(op), [done = std::move(done), user = parts[2]](store::WriteResult& r) {
      if (!r.ok()) return done(error_response(r.error.code, r.error.message));
      proto::UserProfile p = r.profile ? *r.profile : proto::UserProfile{user, {}, {}, 0, {}};
      done(AdminResponse{200, engine::to_json(std::move(p))});
    });
    return;
  }
  if (parts[1] != "channels") return fail(Errc::not_found, "no such endpoint");

  // ---- /admin/channels
  if (parts.size() == 2) {
    if (req.method == "GET") {
      store::ChannelsQuery q;
      q.after = query_param(req.query, "after").value_or("");
      auto limit = parse_uint(query_param(req.query, "limit"), kDefaultChannelsPage);
      if (!limit) return fail_with(limit.error());
      q.limit = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(*limit, 1, kMaxChannelsPage));
      const std::uint32_t limit_n = q.limit;
      read(std::move(q), [done = std::move(done), limit = limit_n](store::ReadResult& r) {
        if (!r) return done(error_response(r.error().code, r.error().message));
        auto* list = std::get_if<std::vector<proto::ChannelInfo>>(&*r);
        if (list == nullptr) return done(error_response(Errc::internal, "unexpected read result"));
        std::string out = "{\"channels\":[";
        for (std::size_t i = 0; i < list->size(); ++i) {
          if (i) out += ',';
          out += engine::to_json((*list)[i]);
        }
        out += ']';
        if (list->size() >= limit && !list->empty()) {
          out += ",\"next\":\"" + list->back().channel + "\"";
        }
        out += '}';
        done(AdminResponse{200, std::move(out)});
      });
      return;
    }
    if (req.method != "POST") return fail(Errc::invalid_argument, "method not allowed");
    auto body = parse_body(req.body);
    if (!body) return fail_with(body.error());
    store::CreateChannelOp op;
    op.now = now;
    auto kind = get_string(*body, "kind");
    if (!kind) return fail_with(kind.error());
    if (*kind) {
      auto k = parse_enum<proto::ChannelKind>(**kind);
      if (!k) return fail(Errc::invalid_argument, "kind must be direct, group or large");
      op.kind = *k;
    }
    auto channel = get_string(*body, "channel");
    auto name = get_string(*body, "name");
    auto is_public = get_bool(*body, "public");
    auto client_id = get_string(*body, "client_id");
    auto meta = get_object(*body, "metadata", config_.max_metadata_bytes);
    if (!channel) return fail_with(channel.error());
    if (!name) return fail_with(name.error());
    if (!is_public) return fail_with(is_public.error());
    if (!client_id) return fail_with(client_id.error());
    if (!meta) return fail_with(meta.error());
    if (*channel && !is_valid_id(**channel)) return fail(Errc::out_of_range, "invalid channel id");
    if (*client_id && !is_valid_id(**client_id))
      return fail(Errc::out_of_range, "invalid client_id");
    if (*name && (*name)->size() > proto::kMaxNameBytes)
      return fail(Errc::out_of_range, "name too long");
    op.channel = channel->value_or("");
    op.name = name->value_or("");
    op.is_public = is_public->value_or(false);
    op.client_id = client_id->value_or("");
    if (*meta) op.metadata = std::move(**meta);
    if (const rapidjson::Value* members = member(*body, "members")) {
      if (!members->IsArray()) return fail(Errc::wrong_type, "members must be an array");
      if (members->Size() > config_.max_members)
        return fail(Errc::limit_exceeded, "too many members");
      for (const auto& m : members->GetArray()) {
        store::MemberRecord rec;
        if (m.IsString()) {
          rec.user.assign(m.GetString(), m.GetStringLength());
        } else if (m.IsObject()) {
          auto user = get_string(m, "user");
          if (!user) return fail_with(user.error());
          auto role = get_role(m, proto::Role::member);
          if (!role) return fail_with(role.error());
          rec.user = user->value_or("");
          rec.role = *role;
        } else {
          return fail(Errc::wrong_type, "members[] must be objects {user, role}");
        }
        if (!is_valid_id(rec.user)) return fail(Errc::out_of_range, "invalid member user id");
        op.members.push_back(std::move(rec));
      }
    }
    write(std::move(op), [this, done = std::move(done)](store::WriteResult& r) {
      if (!r.ok()) return done(error_response(r.error.code, r.error.message));
      const bool existed = r.channel_state && find_channel(r.channel_state->info.channel);
      Channel* ch = r.already_applied ? find_channel(r.channel) : apply_to_cache(r);
      if (ch == nullptr) return done(error_response(Errc::internal, "channel state missing"));
      done(AdminResponse{r.already_applied || existed ? 200 : 201, engine::to_json(ch->info)});
      if (!r.already_applied && !existed) fanout_channel_added(*ch, {}, 0);
    });
    return;
  }

  const std::string& channel = parts[2];
  Channel* ch = find_channel(channel);
  if (ch == nullptr) return fail(Errc::not_found, "no such channel");
  const std::string resource = parts.size() > 3 ? parts[3] : std::string();

  // ---- /admin/channels/{id}/members[/{user}]
  if (resource == "members" && parts.size() == 4) {
    if (req.method != "POST") return fail(Errc::invalid_argument, "method not allowed");
    auto body = parse_body(req.body);
    if (!body) return fail_with(body.error());
    store::AddMembersOp op;
    op.channel = channel;
    op.as_admin = true;
    op.now = now;
    auto role = get_role(*body, proto::Role::member);
    if (!role) return fail_with(role.error());
    op.role = *role;
    auto user = get_string(*body, "user");
    if (!user) return fail_with(user.error());
    if (*user) op.users.push_back(**user);
    if (const rapidjson::Value* users = member(*body, "users")) {
      if (!users->IsArray()) return fail(Errc::wrong_type, "users must be an array of ids");
      for (const auto& u : users->GetArray()) {
        if (!u.IsString()) return fail(Errc::wrong_type, "users must be an array of ids");
        op.users.emplace_back(u.GetString(), u.GetStringLength());
      }
    }
    if (op.users.empty()) return fail(Errc::missing_field, "user or users is required");
    for (const auto& u : op.users) {
      if (!is_valid_id(u)) return fail(Errc::out_of_range, "invalid user id");
    }
    write(std::move(op), [this, done = std::move(done), channel](store::WriteResult& r) {
      if (!r.ok()) return done(error_response(r.error.code, r.error.message));
      Channel* c = r.already_applied ? nullptr : apply_to_cache(r);
      done(ok_version(channel, r.version));
      if (c != nullptr) fanout_members(*c, r, {}, 0);
    });
    return;
  }
  if (resource == "members" && parts.size() == 5) {
    const std::string& target = parts[4];
    if (req.method == "DELETE") {
      store::RemoveMembersOp op;
      op.channel = channel;
      op.users = {target};
      op.as_admin = true;
      op.now = now;
      write(std::move(op), [this, done = std::move(done), channel](store::WriteResult& r) {
        if (!r.ok()) return done(error_response(r.error.code, r.error.message));
        Channel* c = r.already_applied ? nullptr : apply_to_cache(r);
        done(ok_version(channel, r.version));
        if (c != nullptr) fanout_members(*c, r, {}, 0);
      });
      return;
    }
    if (req.method == "PUT") {
      auto body = parse_body(req.body);
      if (!body) return fail_with(body.error());
      if (!body->HasMember("role")) return fail(Errc::missing_field, "role is required");
      auto role = get_role(*body, proto::Role::member);
      if (!role) return fail_with(role.error());
      store::SetRoleOp op;
      op.channel = channel;
      op.target = target;
      op.role = *role;
      op.as_admin = true;
      op.now = now;
      write(std::move(op), [this, done = std::move(done), channel](store::WriteResult& r) {
        if (!r.ok()) return done(error_response(r.error.code, r.error.message));
        Channel* c = r.already_applied ? nullptr : apply_to_cache(r);
        done(ok_version(channel, r.version));
        if (c != nullptr) fanout_members(*c, r, {}, 0);
      });
      return;
    }
    return fail(Errc::invalid_argument, "method not allowed");
  }

  // ---- /admin/channels/{id}/messages[/{seq}]
  if (resource == "messages" && parts.size() == 4) {
    if (req.method != "GET") return fail(Errc::invalid_argument, "method not allowed");
    const auto before_param = query_param(req.query, "before");
    const auto after_param = query_param(req.query, "after");
    auto before = parse_uint(before_param, 0);
    auto after = parse_uint(after_param, 0);
    auto limit = parse_uint(query_param(req.query, "limit"), 50);
    if (!before) return fail_with(before.error());
    if (!after) return fail_with(after.error());
    if (!limit) return fail_with(limit.error());
    if (before_param && after_param) {
      return fail(Errc::invalid_argument, "give at most one of before and after");
    }
    store::HistoryQuery q;
    q.channel = channel;
    if (before_param) q.before = *before;
    if (after_param) q.after = *after;
    q.limit = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(*limit, 1, config_.history_max));
    read(std::move(q), [done = std::move(done)](store::ReadResult& r) {
      if (!r) return done(error_response(r.error().code, r.error().message));
      auto* page = std::get_if<proto::HistoryPage>(&*r);
      if (page == nullptr) return done(error_response(Errc::internal, "unexpected read result"));
      std::string out = "{\"channel\":\"" + page->channel + "\",\"messages\":[";
      for (std::size_t i = 0; i < page->messages.size(); ++i) {
        if (i) out += ',';
        out += engine::to_json(page->messages[i]);
      }
      out += "],\"more_before\":";
      out += page->more_before ? "true" : "false";
      out += ",\"more_after\":";
      out += page->more_after ? "true" : "false";
      out += '}';
      done(AdminResponse{200, std::move(out)});
    });
    return;
  }
  if (resource == "messages" && parts.size() == 5) {
    if (req.method != "DELETE") return fail(Errc::invalid_argument, "method not allowed");
    auto seq = parse_uint(parts[4], 0);
    if (!seq || *seq == 0) return fail(Errc::invalid_argument, "seq must be a positive integer");
    store::DeleteOp op;
    op.channel = channel;
    op.seq = *seq;
    op.as_admin = true;
    op.now = now;
    write(std::move(op), [this, done = std::move(done), channel](store::WriteResult& r) {
      if (!r.ok()) return done(error_response(r.error.code, r.error.message));
      if (!r.already_applied) apply_to_cache(r);
      done(AdminResponse{200, "{\"channel\":\"" + channel + "\",\"seq\":" + std::to_string(r.seq) +
                                  ",\"version\":" + std::to_string(r.version) + "}"});
      if (!r.already_applied) fanout_messages(r, proto::MessageChange::deleted, {}, 0);
    });
    return;
  }
  fail(Errc::not_found, "no such endpoint");
}

}  // namespace chatsdk::server
