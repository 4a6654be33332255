// Client: the public API over the sans-IO core, the SQLite store and the
// libwebsockets transport.
//
// Locking: `mu_` guards the core and the store. Any thread may take it for a
// command or query (short: one SQLite transaction at most). The loop thread
// takes it to feed transport events and timers to the core and to collect its
// actions, and releases it while waiting in the transport, so commands from
// other threads never wait for network I/O. The transport itself is touched
// only by the loop thread (lws is not thread-safe); commands just wake it.
// Listener calls happen on the loop thread with no lock held.
#include "chatsdk/client.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "client/core/core.hpp"
#include "client/store/store.hpp"
#include "client/transport/lws_transport.hpp"
#include "common/protocol/codec.hpp"
#include "common/util/clock.hpp"
#include "common/util/random.hpp"

namespace chatsdk {

using client::Core;
using client::Store;
using client::Transport;

struct Client::Impl {
  ClientOptions options;
  SystemClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Core> core;

  std::mutex mu;  // core + store
  std::mutex events_mu;
  std::deque<Event> events;
  std::function<void(const Event&)> listener;
  std::mutex loop_mu;  // one loop at a time (poll or the SDK thread)
  std::thread thread;
  std::atomic<bool> running{false};
  std::atomic<bool> stop_requested{false};

  // Moves core events to the public queue. Caller holds mu.
  void collect_events_locked() {
    std::lock_guard<std::mutex> g(events_mu);
    while (auto e = core->next_event())
      events.push_back(std::move(*e));
  }

  // Sends the core's actions to the transport. Loop thread, mu held.
  void run_actions_locked() {
    for (auto& a : core->take_actions()) {
      if (auto* o = std::get_if<client::OpenAction>(&a)) {
        transport->open(o->conn);
      } else if (auto* s = std::get_if<client::SendAction>(&a)) {
        transport->send(s->conn, proto::encode(s->frame));
      } else if (auto* c = std::get_if<client::CloseAction>(&a)) {
        transport->close(c->conn, c->code);
      }
    }
  }

  // Feeds transport events to the core. Loop thread, mu held.
  void feed_locked() {
    auto& q = transport->events();
    if (q.empty()) return;
    core->begin_batch();
    while (!q.empty()) {
      client::TransportEvent ev = std::move(q.front());
      q.pop_front();
      switch (ev.kind) {
        case client::TransportEvent::Kind::opened:
          core->on_open(ev.conn);
          break;
        case client::TransportEvent::Kind::closed:
          core->on_closed(ev.conn, ev.code, ev.data);
          break;
        case client::TransportEvent::Kind::failed:
          core->on_failed(ev.conn, ev.data);
          break;
        case client::TransportEvent::Kind::message:
          for (std::string_view line : proto::split_batch(ev.data)) {
            auto frame = proto::decode_server(line);
            if (frame)
              core->on_frame(ev.conn, *frame);
            else
              core->on_decode_error(ev.conn, frame.error());
          }
          break;
      }
    }
    // The batch's cache writes commit here, in one transaction; view-models
    // are rebuilt once for everything read. Only then do its frames leave (in
    // the order the inputs produced them): nothing the server hears from us
    // can rest on a write that might still roll back.
    core->end_batch();
    run_actions_locked();
  }

  void deliver() {
    std::function<void(const Event&)> l;
    {
      std::lock_guard<std::mutex> g(events_mu);
      l = listener;
    }
    if (!l) return;
    for (;;) {
      Event e;
      {
        std::lock_guard<std::mutex> g(events_mu);
        if (events.empty()) return;
        e = std::move(events.front());
        events.pop_front();
      }
      l(e);
    }
  }

  // One loop iteration: bounded by timeout_ms and the core's next deadline.
  void iterate(int timeout_ms) {
    int wait = timeout_ms < 0 ? 0 : timeout_ms;
    {
      std::lock_guard<std::mutex> g(mu);
      core->tick();
      run_actions_locked();
      if (auto d = core->next_deadline()) {
        std::int64_t until = *d - clock.steady_ms();
        if (until < wait) wait = static_cast<int>(std::max<std::int64_t>(0, until));
      }
      collect_events_locked();
    }
    deliver();
    transport->service(wait);
    {
      std::lock_guard<std::mutex> g(mu);
      feed_locked();
      core->tick();
      run_actions_locked();
      collect_events_locked();
    }
    deliver();
  }

  template <class F>
  auto command(F&& f) {
    std::unique_lock<std::mutex> g(mu);
    auto r = f(*core);
    collect_events_locked();
    g.unlock();
    transport->wake();  // the loop sends what the command queued
    return r;
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() {
  stop();
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->core.reset();
  impl_->transport.reset();
  if (impl_->store) impl_->store->quiesce();
  impl_->store.reset();
}

Result<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  auto url = client::parse_ws_url(options.server_url);
  if (!url) return url.error();
  if (!options.token_provider) return Error{Errc::invalid_argument, "token_provider is required"};
  if (options.database_path.empty())
    return Error{Errc::invalid_argument, "database_path is required (\":memory:\" for none)"};
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto store = Store::open(options.database_path);
  if (!store) return store.error();
  impl->store = std::move(*store);
  auto transport = client::LwsTransport::create(*url, options.tls_ca_file);
  if (!transport) return transport.error();
  impl->transport = std::move(*transport);
  client::CoreOptions co;
  co.device_id = options.device_id;
  co.backoff = options.backoff;
  co.heartbeat_ms = options.heartbeat_ms;
  co.cache_cap_bytes = options.cache_cap_bytes;
  co.history_page = options.history_page;
  co.failed_op_blocks_channel = options.failed_op_blocks_channel;
  co.max_auto_retries = options.max_auto_retries;
  co.seed = options.random_seed != 0 ? options.random_seed : Rng::entropy_seed();
  impl->core = std::make_unique<Core>(co, *impl->store, impl->clock, options.token_provider);
  impl->collect_events_locked();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

void Client::connect() {
  impl_->command([](Core& c) {
    c.connect();
    return 0;
  });
}
void Client::disconnect() {
  impl_->command([](Core& c) {
    c.disconnect();
    return 0;
  });
}
void Client::prepare_suspend() {
  impl_->command([](Core& c) {
    c.prepare_suspend();
    return 0;
  });
}
void Client::resume() {
  impl_->command([](Core& c) {
    c.resume();
    return 0;
  });
}

Result<void> Client::poll(int timeout_ms) {
  if (impl_->running.load()) return Error{Errc::invalid_state, "run() owns the loop"};
  std::unique_lock<std::mutex> loop(impl_->loop_mu, std::try_to_lock);
  if (!loop.owns_lock()) return Error{Errc::misuse, "poll() called concurrently"};
  impl_->iterate(timeout_ms);
  return {};
}

Result<void> Client::run() {
  bool expected = false;
  if (!impl_->running.compare_exchange_strong(expected, true))
    return Error{Errc::invalid_state, "already running"};
  impl_->stop_requested = false;
  impl_->thread = std::thread([impl = impl_.get()] {
    std::lock_guard<std::mutex> loop(impl->loop_mu);
    while (!impl->stop_requested.load())
      impl->iterate(1000);
  });
  return {};
}

void Client::stop() {
  if (!impl_->running.load()) return;
  impl_->stop_requested = true;
  impl_->transport->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->running = false;
}

void Client::wakeup() noexcept {
  impl_->transport->wake();
}

std::optional<Event> Client::next_event() {
  {
    std::lock_guard<std::mutex> g(impl_->mu);
    impl_->collect_events_locked();
  }
  std::lock_guard<std::mutex> g(impl_->events_mu);
  if (impl_->events.empty()) return std::nullopt;
  Event e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

void Client::set_listener(std::function<void(const Event&)> listener) {
  std::lock_guard<std::mutex> g(impl_->events_mu);
  impl_->listener = std::move(listener);
}

Result<OpId> Client::send_text(const std::string& channel, const std::string& body,
                               const SendOptions& options) {
  return impl_->command([&](Core& c) { return c.send_text(channel, body, options); });
}
Result<OpId> Client::edit(const MessageRef& m, const std::string& body,
                          const std::string& metadata) {
  return impl_->command([&](Core& c) { return c.edit(m, body, metadata); });
}
Result<OpId> Client::delete_message(const MessageRef& m) {
  return impl_->command([&](Core& c) { return c.remove(m); });
}
Result<OpId> Client::react(const MessageRef& m, const std::string& emoji) {
  return impl_->command([&](Core& c) { return c.react(m, emoji, true); });
}
Result<OpId> Client::unreact(const MessageRef& m, const std::string& emoji) {
  return impl_->command([&](Core& c) { return c.react(m, emoji, false); });
}
Result<OpId> Client::mark_read(const std::string& channel, Seq seq) {
  return impl_->command([&](Core& c) { return c.mark_read(channel, seq); });
}
Result<OpId> Client::create_group(const std::string& id, const std::string& name,
                                  const std::vector<std::string>& members, bool is_public) {
  return impl_->command([&](Core& c) { return c.create_group(id, name, members, is_public); });
}
Result<OpId> Client::create_direct(const std::string& other) {
  return impl_->command([&](Core& c) { return c.create_direct(other); });
}

Result<OpId> Client::join(const std::string& channel) {
  return impl_->command([&](Core& c) { return c.join(channel); });
}
Result<OpId> Client::invite(const std::string& channel, const std::vector<std::string>& users) {
  return impl_->command([&](Core& c) { return c.add_members(channel, users); });
}
Result<OpId> Client::remove_members(const std::string& channel,
                                    const std::vector<std::string>& users) {
  return impl_->command([&](Core& c) { return c.remove_members(channel, users); });
}
Result<OpId> Client::leave(const std::string& channel) {
  return impl_->command([&](Core& c) { return c.leave(channel); });
}
Result<OpId> Client::update_channel(const std::string& channel, std::optional<std::string> name,
                                    std::optional<bool> is_public,
                                    std::optional<std::string> metadata_json) {
  return impl_->command([&](Core& c) {
    return c.update_channel(channel, std::move(name), is_public, std::move(metadata_json));
  });
}
Result<OpId> Client::set_role(const std::string& channel, const std::string& user, Role role) {
  return impl_->command([&](Core& c) { return c.set_role(channel, user, role); });
}
Result<OpId> Client::set_profile(std::optional<std::string> name,
                                 std::optional<std::string> avatar) {
  return impl_->command([&](Core& c) { return c.set_profile(name, avatar); });
}
Result<void> Client::retry(OpId op) {
  return impl_->command([&](Core& c) { return c.retry(op); });
}
Result<void> Client::cancel(OpId op) {
  return impl_->command([&](Core& c) { return c.cancel(op); });
}
void Client::typing(const std::string& channel) {
  impl_->command([&](Core& c) {
    c.typing_keystroke(channel);
    return 0;
  });
}
void Client::typing_stop(const std::string& channel) {
  impl_->command([&](Core& c) {
    c.typing_stop(channel);
    return 0;
  });
}
Result<void> Client::query_presence(const std::vector<std::string>& users) {
  return impl_->command([&](Core& c) { return c.query_presence(users); });
}
Result<void> Client::fetch_profiles(const std::vector<std::string>& users) {
  return impl_->command([&](Core& c) { return c.fetch_profiles(users); });
}
Result<void> Client::list_members(const std::string& channel, const std::string& after,
                                  std::uint32_t limit) {
  return impl_->command([&](Core& c) { return c.list_members(channel, after, limit); });
}
Result<void> Client::open_timeline(const std::string& channel) {
  return impl_->command([&](Core& c) { return c.open_timeline(channel); });
}
void Client::close_timeline(const std::string& channel) {
  impl_->command([&](Core& c) {
    c.close_timeline(channel);
    return 0;
  });
}
Result<void> Client::load_older(const std::string& channel) {
  return impl_->command([&](Core& c) { return c.load_older(channel); });
}
Result<void> Client::load_newer(const std::string& channel) {
  return impl_->command([&](Core& c) { return c.load_newer(channel); });
}

std::vector<Channel> Client::channels() {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->channels();
}
std::optional<Channel> Client::channel(const std::string& id) {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->channel(id);
}
std::vector<Message> Client::messages(const std::string& channel, std::size_t newest) {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->latest_messages(channel, newest);
}
std::vector<TimelineItem> Client::timeline(const std::string& channel) {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->timeline(channel);
}
std::vector<Member> Client::members(const std::string& channel) {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->members(channel);
}
std::vector<Op> Client::pending_ops() {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->pending_ops();
}
std::optional<Op> Client::op(OpId id) {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->op(id);
}
std::vector<std::string> Client::typing_users(const std::string& channel) {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->typing_users(channel);
}
ConnectionState Client::state() {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->state();
}
std::string Client::user_id() {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->core->user_id();
}

}  // namespace chatsdk
