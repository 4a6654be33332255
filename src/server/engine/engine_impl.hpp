// The engine behind EngineApi (see server/engine.hpp). Split over several .cpp
// files by concern: sessions.cpp (connection lifecycle, auth, timers, frame
// intake, rate limits), mutations.cpp (store writes, acks, fan-out),
// reads.cpp, ephemeral.cpp (receipts, typing, presence), cache.cpp (channel
// cache), admin.cpp (admin HTTP API).
//
// Ordering: the store runs writes in submission order and calls back in
// commit order on the loop thread; every completion first updates the cache,
// then acks the requester, then fans out — so per channel, acks and events
// leave in commit order, and nobody sees an event before it is durable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/engine.hpp"
#include "server/engine/state.hpp"

namespace chatsdk::server {

class Engine final : public EngineApi {
 public:
  explicit Engine(EngineDeps deps);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Opens the store and loads every channel into the cache.
  Result<void> open();

  void on_connect(SessionId session, const ConnectionInfo& info) override;
  void on_message(SessionId session, std::string_view message) override;
  void on_frame_too_large(SessionId session) override;
  void on_disconnect(SessionId session) override;
  void on_tick() override;
  void admin(AdminRequest request, std::function<void(AdminResponse)> done) override;
  void drain(std::function<void()> done) override;
  bool healthy() const override;

 private:
  using Session = engine::Session;
  using UserEntry = engine::UserEntry;
  using Channel = engine::Channel;
  using MemberSlot = engine::MemberSlot;

  enum class TimerKind : std::uint8_t { handshake, idle, token };
  struct Timer {
    std::int64_t due_ms;  // steady
    SessionId session;
    TimerKind kind;
    friend bool operator>(const Timer& a, const Timer& b) { return a.due_ms > b.due_ms; }
  };

  // ---- sessions.cpp
  void handle_frame(Session& s, std::string_view bytes);
  void dispatch(Session& s, proto::ClientFrame& frame);
  void on_hello(Session& s, proto::Hello& f);
  void on_auth_refresh(Session& s, proto::AuthRefresh& f);
  bool count_rejection(Session& s);
  bool admit_mutation(Session& s, proto::RequestId id, bool is_send = false);
  void close_session(Session& s, proto::CloseCode code, std::string_view reason);
  void arm_token_timer(Session& s);
  void run_timers(std::int64_t now);
  void on_timer(const Timer& t, std::int64_t now);

  // ---- output
  static Bytes encode(const proto::ServerFrame& frame);
  void reply(SessionId session, const proto::ServerFrame& frame);
  void send_error(SessionId session, proto::RequestId id, Errc code, std::string_view message = {},
                  std::uint32_t retry_after_ms = 0);
  void deliver(SessionId session, const Bytes& bytes);
  /// To every live session of every online member except `skip_session` and
  /// every session of `skip_user`.
  void fanout(Channel& ch, const Bytes& bytes, SessionId skip_session,
              const UserEntry* skip_user = nullptr);
  void to_user(const UserEntry& user, const Bytes& bytes, SessionId skip_session);

  // ---- cache.cpp
  UserEntry& user_entry(const std::string& id);
  UserEntry* find_user(const std::string& id);
  Channel* find_channel(const std::string& id);
  Channel& load_channel(const store::ChannelRecord& record);
  MemberSlot& add_member(Channel& ch, UserEntry& user, proto::Role role);
  void remove_member(Channel& ch, const std::string& user);
  void set_online(UserEntry& user, bool online);
  /// Applies a write result to the cache: channel info/state, member changes,
  /// head seq/version. Returns the channel (nullptr if unknown).
  Channel* apply_to_cache(const store::WriteResult& r);
  proto::ChannelInfo info_for(const Channel& ch, proto::Role role) const;
  /// Resolves `channel` for a request: not_found / not_member errors sent
  /// when it fails.
  MemberSlot* require_member(Session& s, proto::RequestId id, const std::string& channel);

  // ---- mutations.cpp
  void on_send(Session& s, proto::Send& f);
  void on_edit(Session& s, proto::Edit& f);
  void on_delete(Session& s, proto::Delete& f);
  void on_react(Session& s, proto::React& f);
  void on_channel_create(Session& s, proto::ChannelCreate& f);
  void on_channel_update(Session& s, proto::ChannelUpdate& f);
  void on_members_add(Session& s, proto::MembersAdd& f);
  void on_members_remove(Session& s, proto::MembersRemove& f);
  void on_member_role(Session& s, proto::MemberRole& f);
  void on_join(Session& s, proto::Join& f);
  void on_profile_set(Session& s, proto::ProfileSet& f);

  void write(store::WriteOp op, std::function<void(store::WriteResult&)> done);
  void note_store_result(Errc code);
  /// Message events for a committed send/edit/delete/react.
  void fanout_messages(const store::WriteResult& r, proto::MessageChange change,
                       const std::string& actor, SessionId origin, std::string_view emoji = {},
                       proto::ReactAction action = proto::ReactAction::add);
  /// member / channel_added / channel_removed events after a membership change.
  void write_membership(Session& s, proto::RequestId rid, std::string client_id, store::WriteOp op);
  void write_message_change(Session& s, proto::RequestId rid, std::string client_id,
                            store::WriteOp op, proto::MessageChange change, std::string emoji = {},
                            proto::ReactAction action = proto::ReactAction::add);
  void fanout_members(Channel& ch, const store::WriteResult& r, const std::string& actor,
                      SessionId origin);
  void fanout_channel_added(Channel& ch, const std::vector<std::string>& users, SessionId origin);
  void fanout_channel_updated(Channel& ch);
  /// Generic completion of an op answered with ok{channel, version}.
  void complete_ok(SessionId sid, proto::RequestId id, const std::string& client_id,
                   store::WriteResult& r);

  // ---- reads.cpp
  void on_sync(Session& s, proto::Sync& f);
  void on_history(Session& s, proto::History& f);
  void on_members_list(Session& s, proto::MembersList& f);
  void on_profiles_get(Session& s, proto::ProfilesGet& f);
  void on_presence_query(Session& s, proto::PresenceQuery& f);
  void read(store::ReadOp op, std::function<void(store::ReadResult&)> done);

  // ---- ephemeral.cpp
  void on_mark_read(Session& s, proto::MarkRead& f);
  void on_mark_delivered(Session& s, proto::MarkDelivered& f);
  void on_typing(Session& s, proto::Typing& f);
  /// Moves a cursor forward in memory, queues it for the batched write and
  /// sends the receipt event. Returns false when nothing moved.
  bool advance_cursor(MemberSlot& slot, proto::Seq read, proto::Seq delivered, SessionId origin,
                      bool notify);
  void flush_receipts();
  void presence_changed(UserEntry& user);

  // ---- admin.cpp
  void admin_route(AdminRequest& req, std::function<void(AdminResponse)>& done);

  // ---- state
  const Config& config_;
  Wire& wire_;
  Metrics& metrics_;
  const Clock& clock_;
  std::unique_ptr<store::Store> store_;

  std::unordered_map<SessionId, Session> sessions_;
  std::unordered_map<std::string, std::unique_ptr<UserEntry>> users_;
  std::unordered_map<std::string, std::unique_ptr<Channel>> channels_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;

  /// Receipt cursors waiting for the next batched write: (user, channel) -> (read, delivered).
  std::map<std::pair<std::string, std::string>, std::pair<proto::Seq, proto::Seq>> pending_cursors_;
  std::int64_t last_flush_ms_ = 0;

  std::uint32_t mark_epoch_ = 0;
  std::uint32_t store_failures_ = 0;  // consecutive
  bool draining_ = false;
  std::vector<std::function<void()>> drain_waiters_;
  bool store_closing_ = false;  // close() called: no more writes
  bool store_closed_ = false;
  /// Store callbacks check this so a late callback never touches a dead engine.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace chatsdk::server
