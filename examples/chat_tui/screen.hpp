// Drawing the whole screen from the model (ANSI escape codes, no curses).
#pragma once

#include <string>

#include "app.hpp"

namespace chatsdk::tui {

/// The bytes that redraw a cols x rows screen. Also clamps app.scroll and
/// sets app.at_top / app.page for the scroll commands.
std::string render(App& app, int cols, int rows);

}  // namespace chatsdk::tui
