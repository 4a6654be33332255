// Field visitor that writes a frame struct as compact JSON. Internal to the codec.
// Optional fields equal to their default value are omitted.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/protocol/types.hpp"

namespace chatsdk::proto::detail {

/// Appends straight into a std::string (no intermediate buffer copy).
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string& out) : out_(out) {}
  void Put(char c) { out_.push_back(c); }
  void Flush() {}

 private:
  std::string& out_;
};

using Writer = rapidjson::Writer<StringSink>;

template <class T>
bool is_default(const T& v) {
  if constexpr (std::is_same_v<T, JsonObject>) {
    return v.empty();
  } else if constexpr (requires { v.empty(); }) {
    return v.empty();
  } else if constexpr (requires { v.has_value(); }) {
    return !v.has_value();
  } else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
    return v == T{};
  } else {
    return false;
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(Writer& w) : w_(w) {}

  template <class T, class... C>
  void req(const char* name, T& value, C...) {
    w_.Key(name);
    write(value);
  }

  template <class T, class... C>
  void opt(const char* name, T& value, C...) {
    if (is_default(value)) return;
    w_.Key(name);
    write(value);
  }

  void write(const std::string& s) {
    w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
  void write(bool b) { w_.Bool(b); }
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) void write(I i) {
    if constexpr (std::is_signed_v<I>) {
      w_.Int64(static_cast<std::int64_t>(i));
    } else {
      w_.Uint64(static_cast<std::uint64_t>(i));
    }
  }
  template <class E>
  requires std::is_enum_v<E>
  void write(E e) {
    const auto name = enum_names(E{})[static_cast<std::size_t>(e)];
    w_.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  }
  void write(const JsonObject& o) {
    w_.RawValue(o.json.data(), o.json.size(), rapidjson::kObjectType);
  }
  template <class T>
  void write(const std::optional<T>& o) {
    write(*o);
  }
  template <class T>
  void write(const std::vector<T>& items) {
    w_.StartArray();
    for (const auto& item : items)
      write(item);
    w_.EndArray();
  }
  template <class T>
  requires requires(T& t, JsonWriter& jw) { t.fields(jw); }
  void write(const T& object) {
    w_.StartObject();
    // fields() is non-const because the reader shares it; the writer only reads.
    const_cast<T&>(object).fields(*this);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    w_.EndObject();
  }

 private:
  Writer& w_;
};

}  // namespace chatsdk::proto::detail
