// Field visitor that writes a frame struct as compact JSON. Internal to the codec.
// Optional fields equal to their default value are omitted.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/protocol/types.hpp"

namespace chatsdk::proto::detail {

/// Appends to a std::string through a raw cursor into spare room it keeps at
/// the string's end, and honours rapidjson's PutReserve/PutUnsafe (overloads
/// below), so a string's bytes are copied without a capacity check each
/// (push_back per byte made an encode twice as slow). rapidjson reserves its
/// worst case, 6 bytes per string byte, so the codec gives it a reused scratch
/// string rather than the frame's own. The destructor cuts the string to what
/// was written.
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string& out) : out_(out) {
    const std::size_t used = out_.size();
    // Not up to the capacity: resize zero-fills, and a reused string may have
    // kept a large one.
    out_.resize(used + 256);
    cur_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }
  ~StringSink() { out_.resize(static_cast<std::size_t>(cur_ - out_.data())); }
  StringSink(const StringSink&) = delete;
  StringSink& operator=(const StringSink&) = delete;

  void Put(char c) {
    if (cur_ == end_) grow(1);
    *cur_++ = c;
  }
  void PutUnsafe(char c) { *cur_++ = c; }
  void Reserve(std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) grow(n);
  }
  void Flush() {}

 private:
  void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(cur_ - out_.data());
    out_.resize(std::max(out_.size() * 2, used + n));
    cur_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
};

// Found by argument-dependent lookup from rapidjson::Writer, and preferred to
// rapidjson's generic templates (which reserve nothing and Put each byte).
inline void PutReserve(StringSink& sink, std::size_t n) {
  sink.Reserve(n);
}
inline void PutUnsafe(StringSink& sink, char c) {
  sink.PutUnsafe(c);
}

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
