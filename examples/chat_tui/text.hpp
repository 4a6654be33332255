// Display-width helpers for UTF-8 text on a terminal (wcwidth-based).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chatsdk::tui {

/// Makes wcwidth understand UTF-8 (picks C.UTF-8 when the locale is not UTF-8).
void init_text_locale();
/// Columns s occupies on the terminal (control characters count 0).
int display_width(const std::string& s);
/// s cut to at most `cols` columns, then padded with spaces to exactly `cols`.
std::string fit(const std::string& s, int cols);
/// s split into lines of at most `cols` columns (breaking at spaces when it can).
std::vector<std::string> wrap(const std::string& s, int cols);
/// Removes the last UTF-8 character of s.
void pop_utf8(std::string& s);
/// "12s ago", "5m ago", "3h ago", "2d ago" for a time in ms since the epoch.
std::string ago(std::int64_t then_ms, std::int64_t now_ms);
/// "HH:MM" local time of ms since the epoch.
std::string clock_hm(std::int64_t ms);
/// Wall clock, ms since the epoch.
std::int64_t wall_ms();

}  // namespace chatsdk::tui
