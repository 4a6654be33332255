// Writes protocol value types (anything with `fields(V&)`) as plain JSON
// objects for the admin API, with the same field names and omission rules as
// the wire codec (optional fields at their default are left out).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/protocol/types.hpp"

namespace chatsdk::server::engine {

class JsonOut {
 public:
  using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
  explicit JsonOut(Writer& w) : w_(w) {}

  template <class T, class... C>
  void req(std::string_view name, T& value, C...) {
    key(name);
    put(value);
  }
  template <class T, class... C>
  void opt(std::string_view name, T& value, C...) {
    if (is_default(value)) return;
    key(name);
    put(value);
  }

  template <class T>
  void put(T& value) {
    if constexpr (std::is_same_v<T, std::string>) {
      w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    } else if constexpr (std::is_same_v<T, bool>) {
      w_.Bool(value);
    } else if constexpr (std::is_enum_v<T>) {
      const auto names = enum_names(value);
      const auto i = static_cast<std::size_t>(value);
      const std::string_view n = i < names.size() ? names[i] : std::string_view("unknown");
      w_.String(n.data(), static_cast<rapidjson::SizeType>(n.size()));
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      w_.Int64(static_cast<std::int64_t>(value));
    } else if constexpr (std::is_integral_v<T>) {
      w_.Uint64(static_cast<std::uint64_t>(value));
    } else if constexpr (std::is_same_v<T, proto::JsonObject>) {
      if (value.empty()) {
        w_.StartObject();
        w_.EndObject();
      } else {
        w_.RawValue(value.json.data(), value.json.size(), rapidjson::kObjectType);
      }
    } else if constexpr (is_vector<T>::value) {
      w_.StartArray();
      for (auto& item : value)
        put(item);
      w_.EndArray();
    } else if constexpr (is_optional<T>::value) {
      if (value) {
        put(*value);
      } else {
        w_.Null();
      }
    } else {
      w_.StartObject();
      value.fields(*this);
      w_.EndObject();
    }
  }

 private:
  template <class T>
  struct is_vector : std::false_type {};
  template <class T>
  struct is_vector<std::vector<T>> : std::true_type {};
  template <class T>
  struct is_optional : std::false_type {};
  template <class T>
  struct is_optional<std::optional<T>> : std::true_type {};

  template <class T>
  static bool is_default(const T& value) {
    if constexpr (is_vector<T>::value || std::is_same_v<T, proto::JsonObject> ||
                  std::is_same_v<T, std::string>) {
      return value.empty();
    } else if constexpr (is_optional<T>::value) {
      return !value.has_value();
    } else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
      return value == T{};
    } else {
      return false;
    }
  }

  void key(std::string_view name) {
    w_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  }

  Writer& w_;
};

/// `value` as a compact JSON object.
template <class T>
std::string to_json(T value) {
  rapidjson::StringBuffer buf;
  JsonOut::Writer w(buf);
  JsonOut out(w);
  out.put(value);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace chatsdk::server::engine
