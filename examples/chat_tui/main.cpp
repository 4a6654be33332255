// chatsdk-chat: a terminal chat client built only on the C API (chatsdk.h).
//
//   chatsdk-chat --url ws://127.0.0.1:8080/ws --user alice --secret S [--db alice.db]
//
// One thread: every loop turn calls chat_client_poll(c, 0) (never blocks),
// applies the events to the model, waits up to 20 ms for keystrokes and
// redraws when something changed. Messages typed while offline go to the SDK's
// outbox (shown "pending") and are sent after the reconnect.
#include <csignal>
#include <cstdio>
#include <ctime>

#include "app.hpp"
#include "chatsdk/chatsdk.h"
#include "options.hpp"
#include "screen.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "token.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_resized = 0;

void on_stop(int) {
  g_stop = 1;
}
void on_winch(int) {
  g_resized = 1;
}

// Called by the SDK on connect and on expiry: a fresh token each time.
void mint_on_demand(void* user_data, chat_client* c) {
  const auto* o = static_cast<const chatsdk::tui::Options*>(user_data);
  std::string jwt = chatsdk::tui::mint_token(o->secret, o->user, std::time(nullptr), 24 * 3600);
  chat_client_set_token(c, jwt.c_str());
}
}  // namespace

int main(int argc, char** argv) {
  using namespace chatsdk::tui;
  Options o;
  std::string err = parse_options(argc, argv, o);
  if (err == "help") {
    std::fputs(usage(), stdout);
    return 0;
  }
  if (!err.empty()) {
    std::fprintf(stderr, "chatsdk-chat: %s\n\n%s", err.c_str(), usage());
    return 2;
  }
  init_text_locale();

  chat_client_options co;
  chat_client_options_init(&co);
  co.server_url = o.url.c_str();
  co.database_path = o.db.c_str();
  co.device_id = o.device.c_str();
  if (!o.secret.empty()) {
    co.token_fn = mint_on_demand;
    co.token_user_data = &o;
  } else {
    co.token = o.token.c_str();
  }
  // An interactive client retries soon after the server comes back.
  co.backoff_initial_ms = 300;
  co.backoff_max_ms = 3000;
  co.history_page = 30;

  App app;
  if (chat_client_create(&co, &app.client) != CHAT_OK) {
    std::fprintf(stderr, "chatsdk-chat: %s\n", chat_client_errmsg(nullptr));
    return 1;
  }
  app.model.me = o.user;
  if (!o.channel.empty()) app.pending_switch = o.channel;
  chat_client_connect(app.client);

  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
  std::signal(SIGHUP, on_stop);
  std::signal(SIGWINCH, on_winch);
  {
    Terminal term;
    std::int64_t last_draw = 0;
    while (!app.quit && g_stop == 0 && !term.eof()) {
      chat_client_poll(app.client, 0);
      const chat_event* ev = nullptr;
      while (chat_client_next_event(app.client, &ev) == CHAT_OK && ev != nullptr)
        app.on_event(ev);
      app.tick();

      for (const Key& k : term.read_keys(20)) {
        switch (k.kind) {
          case Key::Kind::text:
            app.input += k.text;
            app.on_input_changed();
            break;
          case Key::Kind::backspace:
            pop_utf8(app.input);
            app.on_input_changed();
            break;
          case Key::Kind::clear_line:
            app.input.clear();
            app.on_input_changed();
            break;
          case Key::Kind::enter: {
            std::string line = app.input;
            app.input.clear();
            app.dirty = true;
            app.run_line(line);
            break;
          }
          case Key::Kind::page_up:
          case Key::Kind::up:
            app.scroll_up();
            break;
          case Key::Kind::page_down:
          case Key::Kind::down:
            app.scroll_down();
            break;
          case Key::Kind::quit:
            app.quit = true;
            break;
          case Key::Kind::other:
            break;
        }
      }

      // Redraw on change, and once a second for countdowns and "last seen".
      std::int64_t now = wall_ms();
      if (g_resized != 0) {
        g_resized = 0;
        Terminal::write_all("\x1b[2J");
        app.dirty = true;
      }
      if (app.dirty || now - last_draw >= 1000) {
        int cols = 80, rows = 24;
        term.size(cols, rows);
        Terminal::write_all(render(app, cols, rows));
        app.dirty = false;
        last_draw = now;
      }
    }
  }
  chat_client_destroy(app.client);
  return 0;
}
