#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

namespace chatsdk::bench {

std::optional<double> r1(std::optional<double> x) {
  if (!x || std::isnan(*x)) return std::nullopt;
  return std::round(*x * 10) / 10;
}
std::optional<double> r2(std::optional<double> x) {
  if (!x || std::isnan(*x)) return std::nullopt;
  return std::round(*x * 100) / 100;
}
std::optional<double> us_per(std::optional<double> cpu_s, double n) {
  if (!cpu_s || n <= 0) return std::nullopt;
  return r1(*cpu_s * 1e6 / n);
}

void lat_fields(Fields& f, const std::string& prefix, const Hist& h) {
  f.emplace_back(prefix + "_p50_ms", r2(h.pct(50)));
  f.emplace_back(prefix + "_p95_ms", r2(h.pct(95)));
  f.emplace_back(prefix + "_p99_ms", r2(h.pct(99)));
  f.emplace_back(prefix + "_max_ms", h.count() ? r2(h.max()) : std::nullopt);
}

std::string json_string(std::string_view s) {
  std::string o = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += ch;
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += ch;
    }
  }
  return o + "\"";
}

static std::string num_text(double v) {
  if (std::isnan(v) || std::isinf(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.15g", v);
  return b;
}

static std::string text(const FieldValue& v, bool for_json) {
  switch (v.kind) {
    case FieldValue::Kind::null:
      return "null";
    case FieldValue::Kind::number:
      return num_text(v.num);
    case FieldValue::Kind::boolean:
      return v.b ? "true" : "false";
    case FieldValue::Kind::string:
      return for_json ? json_string(v.s) : v.s;
    case FieldValue::Kind::json:
      return v.s;
  }
  return "null";
}

static std::string object(const Fields& f) {
  std::string o = "{";
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i) o += ",";
    o += json_string(f[i].first) + ":" + text(f[i].second, true);
  }
  return o + "}";
}

void report(const ReportContext& ctx, const Fields& fields, const Fields& detail) {
  std::string line = "RESULT " + ctx.scenario;
  for (const auto& [k, v] : fields)
    line += " " + k + "=" +
            text(v, v.kind == FieldValue::Kind::string && v.s.find(' ') != std::string::npos);
  std::cout << line << std::endl;
  if (ctx.json_out.empty()) return;
  char at[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(at, sizeof at, "%FT%TZ", std::gmtime(&t));
  std::string rec =
      "{\"scenario\":" + json_string(ctx.scenario) + ",\"run_id\":" + json_string(ctx.run_id) +
      ",\"label\":" + (ctx.label.empty() ? std::string("null") : json_string(ctx.label)) +
      ",\"at\":" + json_string(at) + ",\"urls\":[";
  for (std::size_t i = 0; i < ctx.urls.size(); ++i)
    rec += (i ? "," : "") + json_string(ctx.urls[i]);
  rec += "]";
  for (const auto& [k, v] : fields)
    rec += "," + json_string(k) + ":" + text(v, true);
  rec += ",\"detail\":" + object(detail) + "}\n";
  std::ofstream(ctx.json_out, std::ios::app) << rec;
}

}  // namespace chatsdk::bench
