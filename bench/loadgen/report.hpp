// RESULT lines and JSON records with the same field names and rounding as the
// Socket.IO peer's load.js, so both line up column by column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "hist.hpp"

namespace chatsdk::bench {

/// A field value: null, number, bool, string, or raw JSON text.
struct FieldValue {
  enum class Kind { null, number, boolean, string, json } kind = Kind::null;
  double num = 0;
  bool b = false;
  std::string s;

  FieldValue() = default;
  FieldValue(double v) : kind(Kind::number), num(v) {}                              // NOLINT
  FieldValue(int v) : kind(Kind::number), num(v) {}                                 // NOLINT
  FieldValue(std::uint32_t v) : kind(Kind::number), num(v) {}                       // NOLINT
  FieldValue(std::int64_t v) : kind(Kind::number), num(static_cast<double>(v)) {}   // NOLINT
  FieldValue(std::uint64_t v) : kind(Kind::number), num(static_cast<double>(v)) {}  // NOLINT
  FieldValue(bool v) : kind(Kind::boolean), b(v) {}                                 // NOLINT
  FieldValue(const char* v) : kind(Kind::string), s(v) {}                           // NOLINT
  FieldValue(std::string v) : kind(Kind::string), s(std::move(v)) {}                // NOLINT
  FieldValue(std::optional<double> v) {                                             // NOLINT
    if (v) {
      kind = Kind::number;
      num = *v;
    }
  }
  static FieldValue json(std::string text) {
    FieldValue f;
    f.kind = Kind::json;
    f.s = std::move(text);
    return f;
  }
};

using Fields = std::vector<std::pair<std::string, FieldValue>>;

std::optional<double> r1(std::optional<double> x);
std::optional<double> r2(std::optional<double> x);
/// CPU microseconds per operation.
std::optional<double> us_per(std::optional<double> cpu_s, double n);
/// `<prefix>_p50_ms`, p95, p99, max.
void lat_fields(Fields& f, const std::string& prefix, const Hist& h);
std::string json_string(std::string_view s);

struct ReportContext {
  std::string scenario, run_id, label, json_out;
  std::vector<std::string> urls;
};

/// Prints `RESULT <scenario> k=v ...` and appends a JSON record to json_out.
void report(const ReportContext& ctx, const Fields& fields, const Fields& detail);

}  // namespace chatsdk::bench
