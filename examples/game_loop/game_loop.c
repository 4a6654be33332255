/* game_loop: chat embedded in a fixed-timestep game loop through the C API.
 *
 * Every frame calls chat_client_poll(c, 0) (which never blocks), drains the
 * events, updates a tiny chat overlay and "simulates" the game; then sleeps to
 * the next frame. It measures how long each poll(0) took and prints p50, p99
 * and max at the end (and live in the overlay).
 *
 *   game_loop --url ws://127.0.0.1:8080/ws --token JWT --channel lobby
 *   game_loop ... --frames 600 --headless        (for tests: no drawing)
 *
 * Interactive mode reads lines from stdin without blocking and sends them to
 * the channel. The last output line is machine-readable:
 *   RESULT frames=600 poll_p50_us=12 poll_p99_us=80 poll_max_us=950 poll_idle_max_us=40 ...
 * poll_idle_max_us is the slowest poll among frames that delivered no event:
 * such a poll had nothing to do, so a large value would mean it waited.
 * Exit status: 0, 1 on setup failure, 3 when --max-poll-ms was exceeded.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "chatsdk/chatsdk.h"

#define OVERLAY_LINES 8
#define LINE_MAX_CHARS 160

typedef struct {
  const char *url, *token, *channel, *db, *say, *create;
  long frames; /* 0 = until EOF on stdin / Ctrl-C */
  int fps, headless, no_timeline;
  double max_poll_ms; /* 0 = no bound */
} args_t;

typedef struct {
  char lines[OVERLAY_LINES][LINE_MAX_CHARS];
  int next, count;
  unsigned long messages, events;
  int live, timeline_open;
} overlay_t;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t_ns) {
  int64_t d = t_ns - now_ns();
  if (d <= 0) return;
  {
    struct timespec ts;
    ts.tv_sec = (time_t)(d / 1000000000);
    ts.tv_nsec = (long)(d % 1000000000);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
}

static void overlay_add(overlay_t* o, const char* sender, const char* body) {
  snprintf(o->lines[o->next], LINE_MAX_CHARS, "%s: %s", sender, body);
  o->next = (o->next + 1) % OVERLAY_LINES;
  if (o->count < OVERLAY_LINES) ++o->count;
}

/* Timeline diffs: every inserted message (and, on reset, the cached tail)
 * goes into the overlay's ring. */
static void handle_event(chat_client* c, const args_t* a, overlay_t* o, const chat_event* ev) {
  size_t i, j;
  ++o->events;
  switch (chat_event_type(ev)) {
    case CHAT_EVENT_CONNECTION:
      o->live = chat_event_connection_state(ev) == CHAT_CONN_LIVE;
      if (!a->headless && chat_event_status(ev) != CHAT_OK)
        fprintf(stderr, "connection: %s (%s)\n", chat_status_name(chat_event_status(ev)),
                chat_event_detail(ev));
      break;
    case CHAT_EVENT_CHANNEL_LIST_DIFF:
      /* A channel not cached yet cannot be opened: retry once the list
       * (synced from the server) changes. */
      if (!o->timeline_open && !a->no_timeline)
        o->timeline_open = chat_client_open_timeline(c, a->channel) == CHAT_OK;
      break;
    case CHAT_EVENT_TIMELINE_DIFF:
      for (i = 0; i < chat_event_diff_count(ev); ++i) {
        chat_diff_kind k = chat_event_diff_kind(ev, i);
        if (k != CHAT_DIFF_INSERT && k != CHAT_DIFF_RESET) continue;
        for (j = 0; j < chat_event_diff_item_count(ev, i); ++j) {
          const chat_message* m = chat_event_diff_message(ev, i, j);
          if (k == CHAT_DIFF_INSERT) ++o->messages;
          overlay_add(o, chat_message_sender(m),
                      chat_message_deleted(m) ? "(deleted)" : chat_message_body(m));
        }
      }
      break;
    case CHAT_EVENT_OP: {
      const chat_op* op = chat_event_op(ev);
      if (chat_op_get_state(op) == CHAT_OP_FAILED)
        fprintf(stderr, "op %lld failed: %s\n", (long long)chat_op_id(op),
                chat_status_name(chat_op_failure(op)));
      break;
    }
    default:
      break;
  }
}

static int cmp_i64(const void* x, const void* y) {
  int64_t a = *(const int64_t*)x, b = *(const int64_t*)y;
  return (a > b) - (a < b);
}

/* Percentile of sorted samples (nearest rank). */
static int64_t pct(const int64_t* sorted, size_t n, double p) {
  size_t k;
  if (n == 0) return 0;
  k = (size_t)(p * (double)(n - 1) + 0.5);
  return sorted[k];
}

static void draw(const args_t* a, const overlay_t* o, long frame, int64_t p50, int64_t p99,
                 int64_t max) {
  int i, col = (int)(frame % 40);
  printf("\x1b[H\x1b[2J");
  printf("frame %ld  %s  #%s  poll(0) p50 %lld us  p99 %lld us  max %lld us\n", frame,
         o->live ? "LIVE" : "offline", a->channel, (long long)(p50 / 1000), (long long)(p99 / 1000),
         (long long)(max / 1000));
  printf("|%*s@%*s|\n", col, "", 39 - col, ""); /* the "game" */
  printf("+-- chat ------------------------------------------\n");
  for (i = 0; i < o->count; ++i) {
    int idx = (o->next - o->count + i + OVERLAY_LINES) % OVERLAY_LINES;
    printf("| %s\n", o->lines[idx]);
  }
  printf("+-- type a line and press Enter to send ------------\n");
  fflush(stdout);
}

/* A complete line typed on stdin, without blocking; 1 when one was read. */
static int read_line(char* buf, size_t cap, int* eof) {
  fd_set fds;
  struct timeval tv = {0, 0};
  FD_ZERO(&fds);
  FD_SET(0, &fds);
  if (select(1, &fds, NULL, NULL, &tv) <= 0) return 0;
  if (!fgets(buf, (int)cap, stdin)) {
    *eof = 1;
    return 0;
  }
  buf[strcspn(buf, "\r\n")] = '\0';
  return buf[0] != '\0';
}

static void usage(void) {
  fprintf(
      stderr,
      "usage: game_loop --url URL --token JWT [--channel ID] [--db PATH] [--frames N] [--fps N]\n"
      "                 [--headless] [--no-timeline] [--say TEXT] [--create NAME] [--max-poll-ms "
      "MS]\n");
}

static int parse(int argc, char** argv, args_t* a) {
  int i;
  memset(a, 0, sizeof *a);
  a->channel = "lobby";
  a->db = ":memory:";
  a->fps = 60;
  a->token = getenv("CHATSDK_TOKEN");
  for (i = 1; i < argc; ++i) {
    const char* k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(k, "--headless") == 0) {
      a->headless = 1;
      continue;
    }
    if (strcmp(k, "--no-timeline") == 0) { /* measure the client without the timeline view-model */
      a->no_timeline = 1;
      continue;
    }
    if (!v) return -1;
    ++i;
    if (strcmp(k, "--url") == 0)
      a->url = v;
    else if (strcmp(k, "--token") == 0)
      a->token = v;
    else if (strcmp(k, "--channel") == 0)
      a->channel = v;
    else if (strcmp(k, "--db") == 0)
      a->db = v;
    else if (strcmp(k, "--say") == 0)
      a->say = v;
    else if (strcmp(k, "--create") == 0)
      a->create = v;
    else if (strcmp(k, "--frames") == 0)
      a->frames = atol(v);
    else if (strcmp(k, "--fps") == 0)
      a->fps = atoi(v);
    else if (strcmp(k, "--max-poll-ms") == 0)
      a->max_poll_ms = atof(v);
    else
      return -1;
  }
  if (!a->url || !a->token || a->fps <= 0 || a->frames < 0) return -1;
  return 0;
}

int main(int argc, char** argv) {
  args_t a;
  overlay_t o;
  chat_client_options opts;
  chat_client* c = NULL;
  int64_t* samples;
  size_t cap, n = 0;
  long frame;
  int64_t frame_ns, next, worst = 0, worst_idle = 0;
  int eof = 0, rc = 0, said = 0;
  chat_status s;

  if (parse(argc, argv, &a) != 0) {
    usage();
    return 1;
  }
  if (chat_version_number() != CHATSDK_VERSION_NUMBER) {
    fprintf(stderr, "libchatsdk_c %s does not match the header %s\n", chat_version_string(),
            CHATSDK_VERSION_STRING);
    return 1;
  }
  memset(&o, 0, sizeof o);
  chat_client_options_init(&opts);
  opts.server_url = a.url;
  opts.database_path = a.db;
  opts.token = a.token;
  opts.device_id = "game";
  s = chat_client_create(&opts, &c);
  if (s != CHAT_OK) {
    fprintf(stderr, "chat_client_create: %s: %s\n", chat_status_name(s), chat_client_errmsg(NULL));
    return 1;
  }
  if (a.create) chat_client_create_group(c, a.channel, a.create, NULL, 0, 1, 1, NULL);
  if (!a.no_timeline) o.timeline_open = chat_client_open_timeline(c, a.channel) == CHAT_OK;
  chat_client_connect(c);

  cap = a.frames > 0 ? (size_t)a.frames : 100000; /* interactive: a rolling window */
  samples = (int64_t*)malloc(cap * sizeof *samples);
  if (!samples) return 1;
  frame_ns = 1000000000 / a.fps;
  next = now_ns();

  for (frame = 0; a.frames == 0 || frame < a.frames; ++frame) {
    const chat_event* ev;
    int64_t t0 = now_ns(), dt;
    s = chat_client_poll(c, 0);
    dt = now_ns() - t0;
    if (s != CHAT_OK) {
      fprintf(stderr, "poll: %s: %s\n", chat_status_name(s), chat_client_errmsg(c));
      rc = 1;
      break;
    }
    samples[n % cap] = dt;
    ++n;
    if (dt > worst) worst = dt;
    {
      unsigned long before = o.events;
      while (chat_client_next_event(c, &ev) == CHAT_OK && ev)
        handle_event(c, &a, &o, ev);
      /* A poll that delivered nothing had no work to do: if it took long, it
       * waited, which poll(0) must never do. */
      if (o.events == before && dt > worst_idle) worst_idle = dt;
      if (getenv("GAME_LOOP_TRACE") && dt > 5000000)
        fprintf(stderr, "slow poll: frame %ld took %.1f ms, %lu events\n", frame, (double)dt / 1e6,
                o.events - before);
    }

    if (a.say && o.live && !said) {
      chat_client_send_text(c, a.channel, a.say, NULL, 2, NULL);
      said = 1;
    }
    if (!a.headless) {
      char line[512];
      if (!eof && read_line(line, sizeof line, &eof))
        chat_client_send_text(c, a.channel, line, NULL, 3, NULL);
      if (eof && a.frames == 0) break;
      if (frame % (a.fps / 10 + 1) == 0) {
        size_t m = n < cap ? n : cap;
        int64_t* sorted = (int64_t*)malloc(m * sizeof *sorted);
        if (sorted) {
          memcpy(sorted, samples, m * sizeof *sorted);
          qsort(sorted, m, sizeof *sorted, cmp_i64);
          draw(&a, &o, frame, pct(sorted, m, 0.5), pct(sorted, m, 0.99), worst);
          free(sorted);
        }
      }
    }
    next += frame_ns;
    sleep_until(next);
  }

  {
    size_t m = n < cap ? n : cap;
    qsort(samples, m, sizeof *samples, cmp_i64);
    printf(
        "RESULT frames=%lu poll_p50_us=%lld poll_p99_us=%lld poll_max_us=%lld "
        "poll_idle_max_us=%lld "
        "messages=%lu events=%lu live=%d\n",
        (unsigned long)n, (long long)(pct(samples, m, 0.5) / 1000),
        (long long)(pct(samples, m, 0.99) / 1000), (long long)(worst / 1000),
        (long long)(worst_idle / 1000), o.messages, o.events, o.live);
  }
  if (rc == 0 && a.max_poll_ms > 0 && (double)worst / 1e6 > a.max_poll_ms) {
    fprintf(stderr, "poll(0) took %.3f ms > --max-poll-ms %.3f\n", (double)worst / 1e6,
            a.max_poll_ms);
    rc = 3;
  }
  free(samples);
  chat_client_destroy(c);
  return rc;
}
