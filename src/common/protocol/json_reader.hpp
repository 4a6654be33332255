// Field visitor that reads a frame struct out of a RapidJSON object.
// Internal to the codec.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "chatsdk/result.hpp"
#include "common/protocol/limits.hpp"
#include "common/protocol/string_rules.hpp"
#include "common/protocol/types.hpp"

namespace chatsdk::proto::detail {

template <class T>
concept Enum = std::is_enum_v<T>;

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

/// The member's value, or nullptr. (Avoids comparing RapidJSON 1.1 iterators
/// with ==, which C++20's rewritten operators make ambiguous.)
inline const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() ? &it->value : nullptr;
}

class JsonReader {
 public:
  explicit JsonReader(const rapidjson::Value& object) : obj_(object) {}

  template <class T, class... C>
  void req(const char* name, T& out, C... constraint) {
    if (failed()) return;
    const rapidjson::Value* v = find_member(obj_, name);
    if (v == nullptr || v->IsNull()) {
      fail(Errc::missing_field, name, "is required");
      return;
    }
    read(name, *v, out, constraint...);
  }

  template <class T, class... C>
  void opt(const char* name, T& out, C... constraint) {
    if (failed()) return;
    const rapidjson::Value* v = find_member(obj_, name);
    if (v == nullptr || v->IsNull()) return;
    read(name, *v, out, constraint...);
  }

  bool failed() const { return error_.code != Errc::ok; }
  const Error& error() const { return error_; }
  void fail(Errc code, std::string_view field, std::string_view what) {
    if (failed()) return;
    error_.code = code;
    error_.message = "field '";
    error_.message += field;
    error_.message += "' ";
    error_.message += what;
  }
  /// Propagates a nested reader's error, prefixing the field path.
  void fail_nested(std::string_view field, const Error& inner) {
    if (failed()) return;
    error_.code = inner.code;
    error_.message = std::string(field) + "." + inner.message.substr(inner.message.find('\'') + 1);
    error_.message.insert(0, "field '");
  }

 private:
  void read(const char* name, const rapidjson::Value& v, std::string& out, Str rule) {
    if (!v.IsString()) return fail(Errc::wrong_type, name, "must be a string");
    const std::string_view s(v.GetString(), v.GetStringLength());
    const Errc code = check_string(s, rule);
    if (code != Errc::ok) return fail(code, name, string_rule_message(rule));
    out.assign(s);
  }

  void read(const char* name, const rapidjson::Value& v, bool& out) {
    if (!v.IsBool()) return fail(Errc::wrong_type, name, "must be a boolean");
    out = v.GetBool();
  }

  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) void read(const char* name,
                                                                        const rapidjson::Value& v,
                                                                        I& out) {
    if (!v.IsNumber() || v.IsDouble()) return fail(Errc::wrong_type, name, "must be an integer");
    if constexpr (std::is_unsigned_v<I>) {
      if (!v.IsUint64()) return fail(Errc::out_of_range, name, "must not be negative");
      const std::uint64_t x = v.GetUint64();
      if (x > kMaxSafeInteger || x > std::numeric_limits<I>::max()) {
        return fail(Errc::out_of_range, name, "is too large");
      }
      out = static_cast<I>(x);
    } else {
      if (!v.IsInt64()) return fail(Errc::out_of_range, name, "is too large");
      const std::int64_t x = v.GetInt64();
      const auto limit = static_cast<std::int64_t>(kMaxSafeInteger);
      if (x > limit || x < -limit || x > std::numeric_limits<I>::max() ||
          x < std::numeric_limits<I>::min()) {
        return fail(Errc::out_of_range, name, "is out of range");
      }
      out = static_cast<I>(x);
    }
  }

  template <Enum E>
  void read(const char* name, const rapidjson::Value& v, E& out) {
    if (!v.IsString()) return fail(Errc::wrong_type, name, "must be a string");
    const std::string_view s(v.GetString(), v.GetStringLength());
    const auto names = enum_names(E{});
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == s) {
        out = static_cast<E>(i);
        return;
      }
    }
    fail(Errc::out_of_range, name, "has an unknown value");
  }

  void read(const char* name, const rapidjson::Value& v, JsonObject& out) {
    if (!v.IsObject()) return fail(Errc::wrong_type, name, "must be an object");
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    if (buffer.GetSize() > kMaxMetadataBytes) {
      return fail(Errc::body_too_large, name, "exceeds the metadata size limit");
    }
    out.json.assign(buffer.GetString(), buffer.GetSize());
  }

  template <class T, class... C>
  void read(const char* name, const rapidjson::Value& v, std::optional<T>& out, C... c) {
    T value{};
    read(name, v, value, c...);
    if (!failed()) out = std::move(value);
  }

  template <class T, class... C>
  void read(const char* name, const rapidjson::Value& v, std::vector<T>& out, C... c) {
    if (!v.IsArray()) return fail(Errc::wrong_type, name, "must be an array");
    // Id lists in requests (users, mentions) are small; pages of objects may be larger.
    const std::size_t max_items = std::is_same_v<T, std::string> ? kMaxListItems : kMaxPageItems;
    if (v.Size() > max_items) return fail(Errc::out_of_range, name, "has too many items");
    out.clear();
    out.reserve(v.Size());
    for (const auto& item : v.GetArray()) {
      T value{};
      read(name, item, value, c...);
      if (failed()) return;
      out.push_back(std::move(value));
    }
  }

  template <class T>
  requires(!std::is_arithmetic_v<T> && !Enum<T> && !std::is_same_v<T, std::string> &&
           !std::is_same_v<T, JsonObject> && !IsVector<T>::value &&
           !IsOptional<T>::value) void read(const char* name, const rapidjson::Value& v, T& out) {
    if (!v.IsObject()) return fail(Errc::wrong_type, name, "must be an object");
    JsonReader nested(v);
    out.fields(nested);
    if (nested.failed()) fail_nested(name, nested.error());
  }

  const rapidjson::Value& obj_;
  Error error_{Errc::ok, {}};
};

}  // namespace chatsdk::proto::detail
