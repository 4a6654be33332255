// ChatSDK.swift - the Swift wrapper over the C API (module CChatSDK).
//
//   let client = try ChatClient(serverURL: "wss://chat.example.com/ws",
//                               databasePath: cacheURL.path, token: jwt)
//   try client.connect()
//   Task {
//     for await event in client.events {
//       if case .timelineDiff(let diff) = event { render(diff) }
//     }
//   }
//   let op = try await client.send("general", "hello")   // waits until sent (or failed)
//
// Threads: commands may be called from any thread or task. A thread owned by
// the client drives the library (chat_client_poll + chat_client_next_event)
// and yields every event, in order, into `events` (an AsyncStream with one
// consumer). Each event crosses the C boundary once as JSON
// (chat_event_to_json, format in docs/bindings.md) and is decoded with Codable.
// Errors: every failing call throws ChatError, named after the C status.

import CChatSDK
import Foundation

// MARK: - Errors

/// A failed chatsdk call: the chat_status number, its stable snake_case name
/// ("not_member", "misuse", ...), whether retrying unchanged may succeed, and the
/// library's detail message.
public struct ChatError: Error, CustomStringConvertible, Sendable {
  public let status: Int
  public let name: String
  public let retryable: Bool
  public let detail: String

  init(_ st: chat_status, detail: String) {
    status = Int(st.rawValue)
    name = String(cString: chat_status_name(st))
    retryable = chat_status_retryable(st) != 0
    self.detail = detail
  }

  public var description: String { "\(name) (\(status))" + (detail.isEmpty ? "" : ": \(detail)") }
}

// MARK: - Values (decoded from the JSON rendering)

public struct Reaction: Decodable, Sendable {
  public let emoji: String
  public let count: UInt64
  public let mine: Bool
}

/// A message. Times are ms since the Unix epoch; seq is 0 while a local echo.
public struct Message: Decodable, Sendable {
  public let channel: String
  public let seq: UInt64
  public let version: UInt64
  public let sender: String
  public let clientId: String
  public let body: String
  public let createdAt: Int64
  public let editedAt: Int64
  public let deleted: Bool
  public let replyTo: UInt64
  public let replyCount: UInt64
  public let reactions: [Reaction]
  public let mentions: [String]
  public let metadata: String
}

/// A row of the channel list.
public struct Channel: Decodable, Sendable {
  public let id: String
  public let kind: String  // "direct", "group", "large"
  public let name: String
  public let isPublic: Bool
  public let createdBy: String
  public let createdAt: Int64
  public let memberCount: UInt64
  public let role: String  // "member", "moderator", "owner"
  public let metadata: String
  public let lastSeq: UInt64
  public let readSeq: UInt64
  public let deliveredSeq: UInt64
  public let unread: UInt64
  public let mentions: UInt64
  public let lastMessage: Message?
  public let lastActivity: Int64
}

/// An outbox op. `kind` is the C API's chat_op_kind by name: "send", "edit",
/// "delete", "react", "unreact", "mark_read", "channel_create", "members_add",
/// "members_remove", "profile_set", "join", "channel_update" or "member_role".
public struct Op: Decodable, Sendable {
  public struct Failure: Decodable, Sendable {
    public let code: String
    public let status: Int
    public let retryable: Bool
    public let reason: String
  }

  public let id: Int64
  public let kind: String
  /// "queued", "sending", "sent", "delivered", "read", "failed" or "cancelled".
  public let state: String
  public let channel: String
  public let clientId: String
  public let seq: UInt64
  public let failure: Failure?
  public let createdAt: Int64

  /// True once no later event changes the outcome (sent or beyond, failed, cancelled).
  public var isSettled: Bool { state != "queued" && state != "sending" }
}

/// A timeline row: stable key, local-echo op state and op id (0 = none).
public struct TimelineItem: Decodable, Sendable {
  public let key: String
  public let state: String
  public let op: Int64
  public let message: Message
}

public struct ChannelItem: Decodable, Sendable {
  public let key: String
  public let channel: Channel
}

/// One op of a view-model diff; apply the ops of an event in order.
/// kind: "reset" (replace everything with items), "insert" / "update" (one
/// item at index), "remove" (no item).
public struct DiffOp<Item: Decodable & Sendable>: Decodable, Sendable {
  public let kind: String
  public let index: Int
  public let key: String
  public let items: [Item]
}

/// A channel member (a `members(_:)` row or one of a `.membersPage`): user id,
/// role ("member", "moderator", "owner"; see `Role`) and read cursor.
public struct Member: Decodable, Sendable {
  public let user: String
  public let role: String
  public let readSeq: UInt64
}

/// A member's role in a channel (the C API's chat_role). The raw values are the
/// role names of `Member.role` and `Channel.role`, so `Role(rawValue: m.role)` works.
public enum Role: String, Sendable {
  case member, moderator, owner

  var cValue: chat_role {
    switch self {
    case .member: return CHAT_ROLE_MEMBER
    case .moderator: return CHAT_ROLE_MODERATOR
    case .owner: return CHAT_ROLE_OWNER
    }
  }
}

/// One page of a channel's members: the answer to `listMembers` (one per
/// request). Continue with `nextAfter` while `more`. A refused request (not a
/// member, no such channel) is answered by a page without members whose `code`
/// names the error ("not_member", ...).
public struct MembersPage: Sendable {
  public let channel: String
  /// In ascending user id order; read cursors only in small channels.
  public let members: [Member]
  /// True when more members follow this page.
  public let more: Bool
  /// The user id to pass as `after` for the next page ("" for an empty page).
  public let nextAfter: String
  /// "ok", or the status name of the refusal; its number and detail.
  public let code: String
  public let status: Int
  public let detail: String

  /// True unless the request was refused.
  public var isOk: Bool { status == 0 }
}

public struct Profile: Decodable, Sendable {
  public let id: String
  public let displayName: String
  public let avatarUrl: String
  public let metadata: String
}

public enum ConnectionState: String, Decodable, Sendable {
  case disconnected, connecting, authenticating, syncing, live
}

// MARK: - Events

/// One event; `tag` is the tag of the command it completes (0 = unsolicited).
public enum ChatEvent: Sendable {
  case connection(tag: UInt64, state: ConnectionState, code: String, detail: String, retryInMs: Int64)
  case channelListDiff(tag: UInt64, ops: [DiffOp<ChannelItem>])
  case timelineDiff(tag: UInt64, channel: String, ops: [DiffOp<TimelineItem>])
  case op(tag: UInt64, op: Op)
  case typing(tag: UInt64, channel: String, users: [String])
  case presence(tag: UInt64, user: String, online: Bool, lastSeen: Int64)
  case receipt(tag: UInt64, channel: String, user: String, readSeq: UInt64, deliveredSeq: UInt64)
  case profiles(tag: UInt64, users: [Profile])
  case cacheEvicted(tag: UInt64, messages: UInt64, bytesBefore: UInt64, bytesAfter: UInt64)
  case historyLoaded(tag: UInt64, channel: String, count: UInt64, moreBefore: Bool, moreAfter: Bool)
  case error(tag: UInt64, code: String, status: Int, detail: String)
  /// The answer to `listMembers`, also when the request was refused.
  case membersPage(tag: UInt64, page: MembersPage)
  /// A type newer than this wrapper (the C API's event list is append-only).
  case other(type: String, tag: UInt64)

  public var tag: UInt64 {
    switch self {
    case .connection(let t, _, _, _, _), .channelListDiff(let t, _), .timelineDiff(let t, _, _),
         .op(let t, _), .typing(let t, _, _), .presence(let t, _, _, _), .receipt(let t, _, _, _, _),
         .profiles(let t, _), .cacheEvicted(let t, _, _, _), .historyLoaded(let t, _, _, _, _),
         .error(let t, _, _, _), .membersPage(let t, _), .other(_, let t):
      return t
    }
  }

  /// Messages a timeline diff inserts or updates (reset: all of them).
  public var messages: [Message] {
    guard case .timelineDiff(_, _, let ops) = self else { return [] }
    return ops.flatMap { $0.items.map(\.message) }
  }
}

extension ChatEvent: Decodable {
  private enum Keys: String, CodingKey {
    case type, tag, state, code, status, detail, retryInMs, ops, channel, op, users, user, online,
         lastSeen, readSeq, deliveredSeq, messages, bytesBefore, bytesAfter, count, moreBefore,
         moreAfter, members, more, nextAfter
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let type = try c.decode(String.self, forKey: .type)
    let tag = try c.decode(UInt64.self, forKey: .tag)
    switch type {
    case "connection":
      self = .connection(tag: tag, state: try c.decode(ConnectionState.self, forKey: .state),
                         code: try c.decode(String.self, forKey: .code),
                         detail: try c.decode(String.self, forKey: .detail),
                         retryInMs: try c.decode(Int64.self, forKey: .retryInMs))
    case "channel_list_diff":
      self = .channelListDiff(tag: tag, ops: try c.decode([DiffOp<ChannelItem>].self, forKey: .ops))
    case "timeline_diff":
      self = .timelineDiff(tag: tag, channel: try c.decode(String.self, forKey: .channel),
                           ops: try c.decode([DiffOp<TimelineItem>].self, forKey: .ops))
    case "op":
      self = .op(tag: tag, op: try c.decode(Op.self, forKey: .op))
    case "typing":
      self = .typing(tag: tag, channel: try c.decode(String.self, forKey: .channel),
                     users: try c.decode([String].self, forKey: .users))
    case "presence":
      self = .presence(tag: tag, user: try c.decode(String.self, forKey: .user),
                       online: try c.decode(Bool.self, forKey: .online),
                       lastSeen: try c.decode(Int64.self, forKey: .lastSeen))
    case "receipt":
      self = .receipt(tag: tag, channel: try c.decode(String.self, forKey: .channel),
                      user: try c.decode(String.self, forKey: .user),
                      readSeq: try c.decode(UInt64.self, forKey: .readSeq),
                      deliveredSeq: try c.decode(UInt64.self, forKey: .deliveredSeq))
    case "profiles":
      self = .profiles(tag: tag, users: try c.decode([Profile].self, forKey: .users))
    case "cache_evicted":
      self = .cacheEvicted(tag: tag, messages: try c.decode(UInt64.self, forKey: .messages),
                           bytesBefore: try c.decode(UInt64.self, forKey: .bytesBefore),
                           bytesAfter: try c.decode(UInt64.self, forKey: .bytesAfter))
    case "history_loaded":
      self = .historyLoaded(tag: tag, channel: try c.decode(String.self, forKey: .channel),
                            count: try c.decode(UInt64.self, forKey: .count),
                            moreBefore: try c.decode(Bool.self, forKey: .moreBefore),
                            moreAfter: try c.decode(Bool.self, forKey: .moreAfter))
    case "error":
      self = .error(tag: tag, code: try c.decode(String.self, forKey: .code),
                    status: try c.decode(Int.self, forKey: .status),
                    detail: try c.decode(String.self, forKey: .detail))
    case "members_page":
      self = .membersPage(tag: tag, page: MembersPage(
        channel: try c.decode(String.self, forKey: .channel),
        members: try c.decode([Member].self, forKey: .members),
        more: try c.decode(Bool.self, forKey: .more),
        nextAfter: try c.decode(String.self, forKey: .nextAfter),
        code: try c.decode(String.self, forKey: .code),
        status: try c.decode(Int.self, forKey: .status),
        detail: try c.decode(String.self, forKey: .detail)))
    default:
      self = .other(type: type, tag: tag)
    }
  }
}

private let jsonDecoder: JSONDecoder = {
  let d = JSONDecoder()
  d.keyDecodingStrategy = .convertFromSnakeCase
  return d
}()

/// Takes a library-owned string (char **out) and frees it with chat_free.
private func takeString(_ p: UnsafeMutablePointer<CChar>?) -> String {
  guard let p = p else { return "" }
  defer { chat_free(p) }
  return String(cString: p)
}

/// Calls body with a C array of C strings that lives for the duration of the call.
private func withCStrings<R>(_ xs: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>, Int) throws -> R) rethrows -> R {
  let dup: [UnsafePointer<CChar>?] = xs.map { UnsafePointer(strdup($0)) }
  defer { dup.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
  var arr: [UnsafePointer<CChar>?] = dup
  arr.append(nil)
  return try arr.withUnsafeBufferPointer { try body($0.baseAddress!, xs.count) }
}

// MARK: - The client

/// One user's session (chat_client): a SQLite cache + outbox and at most one
/// WebSocket connection. `close()` (or deinit) stops the event thread and frees
/// it; queued ops stay in the database for the next client on it.
public final class ChatClient: @unchecked Sendable {
  /// Optional parts of a message.
  public struct SendOptions: Sendable {
    public var replyTo: UInt64 = 0
    public var mentions: [String] = []
    public var metadata: String? = nil  // a compact JSON object
    public init(replyTo: UInt64 = 0, mentions: [String] = [], metadata: String? = nil) {
      self.replyTo = replyTo
      self.mentions = mentions
      self.metadata = metadata
    }
  }

  /// Every event, in order. One consumer; ends when the client is closed.
  public let events: AsyncStream<ChatEvent>

  private let continuation: AsyncStream<ChatEvent>.Continuation
  // The handle is read under `lock` by commands and freed under it by close(),
  // so no call can race with chat_client_destroy.
  private let lock = NSLock()
  private var handle: OpaquePointer?
  private var stopping = false
  private var loop: Thread?
  private let loopDone = DispatchSemaphore(value: 0)
  // Op ids awaited by `send(...) async` & co., and settled ops nobody awaited
  // yet (an op can settle before its waiter registers).
  private var waiters: [Int64: CheckedContinuation<Op, Never>] = [:]
  private var settled: [Int64: Op] = [:]

  /// Opens (or creates) the cache; no network I/O until `connect()`.
  /// - Throws: ChatError invalid_argument (URL, path), io_error (cache), ...
  public init(serverURL: String, databasePath: String, token: String? = nil, deviceId: String? = nil,
              historyPage: UInt32 = 0, heartbeatMs: UInt32 = 0, cacheCapBytes: UInt64 = 0,
              pollIntervalMs: Int32 = 100) throws {
    var o = chat_client_options()
    chat_client_options_init(&o)
    let url = strdup(serverURL), db = strdup(databasePath)
    let dev: UnsafeMutablePointer<CChar>? = deviceId.flatMap { strdup($0) }
    let tok: UnsafeMutablePointer<CChar>? = token.flatMap { strdup($0) }
    defer { free(url); free(db); free(dev); free(tok) }
    o.server_url = UnsafePointer(url)
    o.database_path = UnsafePointer(db)
    o.device_id = UnsafePointer(dev)
    o.token = UnsafePointer(tok)
    if historyPage > 0 { o.history_page = historyPage }
    if heartbeatMs > 0 { o.heartbeat_ms = heartbeatMs }
    if cacheCapBytes > 0 { o.cache_cap_bytes = cacheCapBytes }
    var h: OpaquePointer?
    let st = chat_client_create(&o, &h)
    guard st == CHAT_OK, let created = h else {
      throw ChatError(st, detail: String(cString: chat_client_errmsg(nil)))
    }
    handle = created
    var cont: AsyncStream<ChatEvent>.Continuation!
    events = AsyncStream(bufferingPolicy: .unbounded) { cont = $0 }
    continuation = cont
    let t = Thread { [unowned self] in self.runLoop(created, pollIntervalMs) }
    t.name = "chatsdk-events"
    loop = t
    t.start()
  }

  deinit { close() }

  /// The linked library's version ("major.minor.patch").
  public static var libraryVersion: String { String(cString: chat_version_string()) }

  // The event thread: the only caller of poll and next_event.
  private func runLoop(_ h: OpaquePointer, _ timeoutMs: Int32) {
    defer { continuation.finish(); loopDone.signal() }
    while !isStopping {
      if chat_client_poll(h, timeoutMs) != CHAT_OK { break }
      var ev: OpaquePointer?
      while !isStopping, chat_client_next_event(h, &ev) == CHAT_OK, let e = ev {
        var json: UnsafeMutablePointer<CChar>?
        guard chat_event_to_json(e, &json) == CHAT_OK else { continue }
        let text = takeString(json)
        guard let event = try? jsonDecoder.decode(ChatEvent.self, from: Data(text.utf8)) else { continue }
        if case .op(_, let op) = event, op.isSettled { settle(op) }
        continuation.yield(event)
      }
    }
  }

  private var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }

  private func settle(_ op: Op) {
    lock.lock()
    if let w = waiters.removeValue(forKey: op.id) {
      lock.unlock()
      w.resume(returning: op)
      return
    }
    if settled.count >= 4096 { settled.removeAll() }  // bound: waiters register long before
    settled[op.id] = op
    lock.unlock()
  }

  /// Stops the event thread and frees the client (idempotent). Ops still
  /// awaited resume as they stand (`cancelled` if never settled).
  public func close() {
    lock.lock()
    if stopping || handle == nil { lock.unlock(); return }
    stopping = true
    let h = handle
    lock.unlock()
    chat_client_wakeup(h)
    if Thread.current != loop { loopDone.wait() }
    lock.lock()
    handle = nil
    let pending = waiters
    waiters.removeAll()
    lock.unlock()
    chat_client_destroy(h)
    for (id, w) in pending {
      w.resume(returning: Op(id: id, kind: "", state: "cancelled", channel: "", clientId: "", seq: 0,
                             failure: nil, createdAt: 0))
    }
  }

  // MARK: plumbing

  private func call(_ body: (OpaquePointer?) -> chat_status) throws {
    lock.lock()
    defer { lock.unlock() }
    let st = body(handle)  // nil after close: the C API answers CHAT_E_MISUSE
    if st != CHAT_OK { throw ChatError(st, detail: String(cString: chat_client_errmsg(handle))) }
  }

  private func opCall(_ body: (OpaquePointer?, UnsafeMutablePointer<Int64>) -> chat_status) throws -> Int64 {
    var op: Int64 = 0
    try call { body($0, &op) }
    return op
  }

  private func list<T: Decodable>(_ type: T.Type, _ query: (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>) -> chat_status) throws -> [T] {
    var l: OpaquePointer?
    try call { query($0, &l) }
    defer { chat_list_destroy(l) }
    var json: UnsafeMutablePointer<CChar>?
    let st = chat_list_to_json(l, &json)
    if st != CHAT_OK { throw ChatError(st, detail: "chat_list_to_json") }
    return try jsonDecoder.decode([T].self, from: Data(takeString(json).utf8))
  }

  /// Waits until op `id` is settled (sent or beyond, failed, cancelled).
  public func awaitOp(_ id: Int64) async -> Op {
    await withCheckedContinuation { (c: CheckedContinuation<Op, Never>) in
      lock.lock()
      if let op = settled.removeValue(forKey: id) {
        lock.unlock()
        c.resume(returning: op)
      } else if handle == nil {
        lock.unlock()
        c.resume(returning: Op(id: id, kind: "", state: "cancelled", channel: "", clientId: "", seq: 0,
                               failure: nil, createdAt: 0))
      } else {
        waiters[id] = c
        lock.unlock()
      }
    }
  }

  // MARK: lifecycle

  public func setToken(_ jwt: String) throws { try call { chat_client_set_token($0, jwt) } }
  /// Starts connecting; reconnects with backoff until `disconnect()`.
  public func connect() throws { try call { chat_client_connect($0) } }
  public func disconnect() throws { try call { chat_client_disconnect($0) } }
  /// Before the app is suspended (scenePhase .background): closes the connection, leaves no SQLite lock.
  public func suspend() throws { try call { chat_client_suspend($0) } }
  public func resume() throws { try call { chat_client_resume($0) } }

  public var state: ConnectionState {
    lock.lock()
    defer { lock.unlock() }
    switch chat_client_state(handle) {
    case CHAT_CONN_CONNECTING: return .connecting
    case CHAT_CONN_AUTHENTICATING: return .authenticating
    case CHAT_CONN_SYNCING: return .syncing
    case CHAT_CONN_LIVE: return .live
    default: return .disconnected
    }
  }

  public func userId() throws -> String {
    var out: UnsafeMutablePointer<CChar>?
    try call { chat_client_user_id($0, &out) }
    return takeString(out)
  }

  // MARK: outbox commands (return the op id; progress arrives as .op events)

  @discardableResult
  public func sendText(_ channel: String, _ body: String, options: SendOptions = SendOptions(), tag: UInt64 = 0) throws -> Int64 {
    try withCStrings(options.mentions) { mentions, count in
      try opCall { h, op in
        var so = chat_send_options()
        chat_send_options_init(&so)
        so.reply_to = options.replyTo
        so.mentions = mentions
        so.mention_count = count
        return (options.metadata ?? "").withCString { md in
          so.metadata = md
          return chat_client_send_text(h, channel, body, &so, tag, op)
        }
      }
    }
  }

  /// Sends and waits until the message is sent (or the op failed / was cancelled).
  public func send(_ channel: String, _ body: String, options: SendOptions = SendOptions(), tag: UInt64 = 0) async throws -> Op {
    let id = try sendText(channel, body, options: options, tag: tag)
    return await awaitOp(id)
  }

  /// Edits message `seq` (seq 0: the message this device sent with `clientId`).
  @discardableResult
  public func edit(_ channel: String, seq: UInt64, clientId: String? = nil, body: String, metadata: String? = nil, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_edit(h, channel, seq, clientId, body, metadata, tag, op) }
  }

  @discardableResult
  public func delete(_ channel: String, seq: UInt64, clientId: String? = nil, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_delete(h, channel, seq, clientId, tag, op) }
  }

  @discardableResult
  public func react(_ channel: String, seq: UInt64, clientId: String? = nil, emoji: String, add: Bool = true, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_react(h, channel, seq, clientId, emoji, add ? 1 : 0, tag, op) }
  }

  /// Moves the read cursor to `seq` (0 = newest).
  @discardableResult
  public func markRead(_ channel: String, seq: UInt64 = 0, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_mark_read(h, channel, seq, tag, op) }
  }

  /// Creates a group channel (`id` nil: the server chooses; see the op's channel).
  @discardableResult
  public func createGroup(id: String?, name: String, members: [String], isPublic: Bool = false, tag: UInt64 = 0) throws -> Int64 {
    try withCStrings(members) { m, n in
      try opCall { h, op in chat_client_create_group(h, id, name, m, n, isPublic ? 1 : 0, tag, op) }
    }
  }

  @discardableResult
  public func createDirect(with user: String, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_create_direct(h, user, tag, op) }
  }

  /// Joins a public channel. Fails as an op: not_found, or permission_denied
  /// when the channel is not public.
  @discardableResult
  public func join(_ channel: String, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_join(h, channel, tag, op) }
  }

  /// Adds users to a channel (owners and moderators).
  @discardableResult
  public func invite(_ channel: String, users: [String], tag: UInt64 = 0) throws -> Int64 {
    try withCStrings(users) { u, n in try opCall { h, op in chat_client_invite(h, channel, u, n, tag, op) } }
  }

  @discardableResult
  public func removeMembers(_ channel: String, users: [String], tag: UInt64 = 0) throws -> Int64 {
    try withCStrings(users) { u, n in try opCall { h, op in chat_client_remove_members(h, channel, u, n, tag, op) } }
  }

  @discardableResult
  public func leave(_ channel: String, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_leave(h, channel, tag, op) }
  }

  /// Renames a channel, changes its visibility and/or replaces its metadata (a
  /// JSON object; "" or "{}" clears it). nil leaves a field unchanged; at least
  /// one must be given (else ChatError invalid_argument). Owners and moderators
  /// only: others get a failed op (permission_denied).
  @discardableResult
  public func updateChannel(_ channel: String, name: String? = nil, isPublic: Bool? = nil, metadata: String? = nil, tag: UInt64 = 0) throws -> Int64 {
    let pub: Int32
    if let p = isPublic { pub = p ? 1 : 0 } else { pub = -1 }  // -1: unchanged
    return try opCall { h, op in chat_client_update_channel(h, channel, name, pub, metadata, tag, op) }
  }

  /// Sets a member's role. Owners only: others get a failed op (permission_denied).
  @discardableResult
  public func setRole(_ channel: String, user: String, role: Role, tag: UInt64 = 0) throws -> Int64 {
    let r = role.cValue
    return try opCall { h, op in chat_client_set_role(h, channel, user, r, tag, op) }
  }

  @discardableResult
  public func setProfile(displayName: String?, avatarURL: String?, tag: UInt64 = 0) throws -> Int64 {
    try opCall { h, op in chat_client_set_profile(h, displayName, avatarURL, tag, op) }
  }

  /// Puts a failed op back in the queue (tag 0 keeps its previous tag).
  public func retry(_ op: Int64, tag: UInt64 = 0) throws { try call { chat_client_retry($0, op, tag) } }
  /// Drops a queued or failed op; a "cancelled" .op event follows.
  public func cancel(_ op: Int64) throws { try call { chat_client_cancel($0, op) } }

  // MARK: ephemeral

  public func typing(_ channel: String) throws { try call { chat_client_typing($0, channel) } }
  public func typingStop(_ channel: String) throws { try call { chat_client_typing_stop($0, channel) } }
  public func queryPresence(_ users: [String], tag: UInt64 = 0) throws {
    try withCStrings(users) { u, n in try call { chat_client_query_presence($0, u, n, tag) } }
  }
  public func fetchProfiles(_ users: [String], tag: UInt64 = 0) throws {
    try withCStrings(users) { u, n in try call { chat_client_fetch_profiles($0, u, n, tag) } }
  }

  /// Asks the server for one page of a channel's members, ascending by user id,
  /// after the user id `after` ("" = from the start); limit 0 = the server's
  /// default (100; at most 1000). The answer is one `.membersPage` event
  /// carrying `tag`: continue with its `nextAfter` while `more`. A refused
  /// request is answered by a page too, with the error in its `code`. Use it for
  /// large channels, whose cached `members(_:)` is incomplete.
  /// - Throws: ChatError not_connected (a live query, never queued), invalid_argument
  public func listMembers(_ channel: String, after: String = "", limit: UInt32 = 0, tag: UInt64 = 0) throws {
    try call { chat_client_list_members($0, channel, after, limit, tag) }
  }

  // MARK: view-models and history

  public func openTimeline(_ channel: String) throws { try call { chat_client_open_timeline($0, channel) } }
  public func closeTimeline(_ channel: String) throws { try call { chat_client_close_timeline($0, channel) } }
  /// One .historyLoaded event carrying `tag` follows; the rows arrive as timeline diffs.
  public func loadOlder(_ channel: String, tag: UInt64 = 0) throws { try call { chat_client_load_older($0, channel, tag) } }
  public func loadNewer(_ channel: String, tag: UInt64 = 0) throws { try call { chat_client_load_newer($0, channel, tag) } }

  // MARK: queries (cache only)

  public func channels() throws -> [Channel] { try list(Channel.self) { chat_client_channels($0, $1) } }
  public func messages(_ channel: String, newest: Int) throws -> [Message] {
    try list(Message.self) { chat_client_messages($0, channel, newest, $1) }
  }
  public func timeline(_ channel: String) throws -> [TimelineItem] {
    try list(TimelineItem.self) { chat_client_timeline($0, channel, $1) }
  }
  /// The cached members of a channel (complete for small channels; see `listMembers`).
  public func members(_ channel: String) throws -> [Member] {
    try list(Member.self) { chat_client_members($0, channel, $1) }
  }
  public func pendingOps() throws -> [Op] { try list(Op.self) { chat_client_pending_ops($0, $1) } }
  public func typingUsers(_ channel: String) throws -> [String] {
    try list(String.self) { chat_client_typing_users($0, channel, $1) }
  }
}
