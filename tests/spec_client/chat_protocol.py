"""A small asyncio chatsdk client written from docs/protocol.md alone.

Its purpose is to prove the wire-protocol document is complete: everything here follows a
section of docs/protocol.md (cited as "§N"), never the C++ sources. Where the document left a
choice open, the comment says "ASSUMPTION"; SPEC_GAPS.md records every such gap and how the
document now resolves it.

Dependencies: the standard library and Debian's `websockets` (python3-websockets, 10.x), which
imports only under /usr/bin/python3.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import websockets

SUBPROTOCOL = "chatsdk.v1"  # §2.1
PROTOCOL_VERSION = 1  # §26
SERVER_MAX_MESSAGE = 4 * 1024 * 1024  # §2.3 server -> client hard maximum

# §22: codes whose request may succeed later unchanged. Anything unknown is permanent.
RETRYABLE_CODES = frozenset(
    {"internal", "token_not_yet_valid", "rate_limited", "storage_failed", "unavailable"}
)
# §23: close codes after which a client must not reconnect automatically.
NO_RECONNECT_CLOSE_CODES = frozenset({4001, 4005, 4011})

# §6: replies a request can get (besides `error`). Used only to sanity-check matching.
SUCCESS_REPLIES = {
    "hello": {"welcome"},
    "auth_refresh": {"ok"},
    "ping": {"pong"},
    "sync": {"sync_result"},
    "send": {"sent", "already_applied"},
    "edit": {"ok", "already_applied"},
    "delete": {"ok", "already_applied"},
    "react": {"ok", "already_applied"},
    "mark_read": {"ok"},
    "mark_delivered": {"ok"},
    "history": {"history_page"},
    "channel_create": {"channel", "already_applied"},
    "channel_update": {"ok", "already_applied"},
    "members_add": {"ok", "already_applied"},
    "members_remove": {"ok", "already_applied"},
    "member_role": {"ok", "already_applied"},
    "join": {"channel"},
    "members_list": {"members_page"},
    "profile_set": {"ok"},
    "profiles_get": {"profiles"},
    "presence_query": {"presence_list"},
}
REPLY_TYPES = {t for s in SUCCESS_REPLIES.values() for t in s} | {"error"}
EVENT_TYPES = {
    "message",
    "member",
    "channel_added",
    "channel_removed",
    "channel_updated",
    "receipt",
    "typing",
    "presence",
    "notice",
}


# ---------------------------------------------------------------------------------------------
# Tokens (§4.1)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def mint_token(secret: str, claims: dict, alg: str = "HS256") -> str:
    """HS256 JWT exactly as §4.1 describes it ("Without a library, ...")."""
    header = _b64url(_compact({"alg": alg, "typ": "JWT"}).encode())
    payload = _b64url(_compact(claims).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def user_token(secret: str, user: str, ttl_s: int = 3600, now: Optional[int] = None) -> str:
    now = int(time.time()) if now is None else now
    return mint_token(secret, {"sub": user, "iat": now, "exp": now + ttl_s})


# ---------------------------------------------------------------------------------------------
# Framing (§2.2)


def split_frames(text: str) -> list[dict]:
    """Split one WebSocket message into frames: on \\n, skipping empty lines, dropping one \\r
    before the \\n. A line that is not a JSON object raises ValueError (a broken server)."""
    frames = []
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            continue
        obj = json.loads(line)
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise ValueError(f"not a frame: {line[:200]!r}")
        frames.append(obj)
    return frames


def encode_frame(frame: dict) -> str:
    # Compact JSON never contains a raw newline (§2.2); drop None-valued optionals (§3: null =
    # default) so tri-state fields are only sent when the caller means "set".
    return _compact({k: v for k, v in frame.items() if v is not None})


def new_client_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4()}"  # §13: a fresh id per operation, class id (§11)


# ---------------------------------------------------------------------------------------------
# Errors


class ChatError(Exception):
    """An `error` reply (§8) to a request."""

    def __init__(self, frame: dict):
        self.frame = frame
        self.code: str = frame.get("code", "")
        self.retry_after_ms: int = frame.get("retry_after_ms") or 0
        super().__init__(f"{self.code}: {frame.get('message', '')}")

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES  # unknown codes: permanent (§22)


class ConnectionLost(Exception):
    def __init__(self, code: Optional[int], reason: str):
        self.code = code
        self.reason = reason
        super().__init__(f"connection closed: {code} {reason}")


# ---------------------------------------------------------------------------------------------
# Connection


class Connection:
    """One WebSocket session. Requests get fresh ids and are matched to replies by id (§6);
    everything else (events, and replies that carry no id) lands in `events`."""

    def __init__(self, url: str, *, subprotocol: bool = True):
        self.url = url
        self.offer_subprotocol = subprotocol
        self.ws: Optional[websockets.WebSocketClientProtocol] = None
        self.welcome: Optional[dict] = None
        self.events: asyncio.Queue[dict] = asyncio.Queue()
        self.frames_received = 0
        self.batched_messages = 0  # WebSocket messages that carried more than one frame
        self.close_code: Optional[int] = None
        self.close_reason: str = ""
        self.closed = asyncio.Event()
        self.closed_at: Optional[float] = None
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, asyncio.Future]] = {}
        self._reader: Optional[asyncio.Task] = None
        self._heartbeat: Optional[asyncio.Task] = None
        self._last_pong = time.monotonic()
        self.heartbeat_failures = 0
        self.pongs_received = 0
        self.ping_period: Optional[float] = None  # override of the derived period (tests)
        # Called with every frame that is not a matched reply (events, id-less replies): a
        # client applies events to its local state here (§9, §12).
        self.listeners: list[Callable[[dict], None]] = []

    # -- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        kwargs: dict[str, Any] = dict(max_size=SERVER_MAX_MESSAGE, ping_interval=None, open_timeout=5)
        if self.offer_subprotocol:
            kwargs["subprotocols"] = [SUBPROTOCOL]
        self.ws = await websockets.connect(self.url, **kwargs)
        self._reader = asyncio.create_task(self._read_loop())

    @property
    def subprotocol(self) -> Optional[str]:
        return self.ws.subprotocol if self.ws else None

    async def hello(self, token: str, *, device_id: Optional[str] = None, protocol: int = 1,
                    client: str = "chatsdk-spec-py/1.0", heartbeat: bool = True) -> dict:
        """§4.2: first frame. Raises ChatError on refusal (the server then closes)."""
        reply = await self.request({"type": "hello", "token": token, "protocol": protocol,
                                    "device_id": device_id, "client": client})
        self.welcome = reply
        if heartbeat:
            self._heartbeat = asyncio.create_task(self._heartbeat_loop())
        return reply

    async def close(self) -> None:
        if self._heartbeat:
            self._heartbeat.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:
                pass
        if self._reader:
            try:
                await asyncio.wait_for(self._reader, 3)
            except Exception:
                self._reader.cancel()

    async def wait_closed(self, timeout: float) -> Optional[int]:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    # -- sending ---------------------------------------------------------------------------

    async def send_raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def send_frames(self, frames: list[dict]) -> None:
        """Several frames in one WebSocket message (§2.2 batching)."""
        await self.send_raw("\n".join(encode_frame(f) for f in frames))

    def next_id(self) -> int:
        return next(self._ids)

    async def request(self, frame: dict, *, timeout: float = 5.0, raise_error: bool = True) -> dict:
        """Send a request with a fresh id and wait for the reply carrying that id."""
        rid = self.next_id()
        fut = self.expect_reply(rid, frame["type"])
        await self.send_raw(encode_frame({**frame, "id": rid}))
        return await self.await_reply(rid, fut, timeout=timeout, raise_error=raise_error)

    def expect_reply(self, rid: int, req_type: str) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = (req_type, fut)
        return fut

    async def await_reply(self, rid: int, fut: asyncio.Future, *, timeout: float = 5.0,
                          raise_error: bool = True) -> dict:
        try:
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(rid, None)
        if reply["type"] == "error" and raise_error:
            raise ChatError(reply)
        return reply

    # -- receiving -------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    raise ValueError("server sent a binary message (§2.1 forbids it)")
                frames = split_frames(message)
                if len(frames) > 1:
                    self.batched_messages += 1
                for f in frames:
                    self.frames_received += 1
                    self._dispatch(f)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_at = time.monotonic()
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            self.closed.set()
            err = ConnectionLost(self.close_code, self.close_reason)
            for _, (_, fut) in list(self._pending.items()):
                if not fut.done():
                    fut.set_exception(err)

    def _dispatch(self, f: dict) -> None:
        t = f["type"]
        if t == "pong":
            self._last_pong = time.monotonic()
            self.pongs_received += 1
        rid = f.get("id") or 0
        if t in REPLY_TYPES and rid and rid in self._pending:
            _, fut = self._pending[rid]
            if not fut.done():
                fut.set_result(f)
            return
        # Events, replies without id (e.g. error for an undecodable frame), unknown types (§25:
        # log and drop; here: kept so tests can see them).
        for listener in self.listeners:
            listener(f)
        self.events.put_nowait(f)

    def clear_events(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    async def next_event(self, pred: Callable[[dict], bool] = lambda f: True,
                         timeout: float = 3.0, keep_others: bool = True) -> dict:
        """Wait for the first queued/arriving frame matching pred. Non-matching frames are put
        back (in order) when keep_others, else dropped."""
        skipped: list[dict] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise asyncio.TimeoutError()
                f = await asyncio.wait_for(self.events.get(), remaining)
                if pred(f):
                    return f
                skipped.append(f)
        finally:
            if keep_others:
                rest = []
                while not self.events.empty():
                    rest.append(self.events.get_nowait())
                for f in skipped + rest:
                    self.events.put_nowait(f)

    async def drain(self, quiet: float = 0.3) -> list[dict]:
        """Collect every frame arriving until `quiet` seconds pass with nothing new."""
        out = []
        while True:
            try:
                out.append(await asyncio.wait_for(self.events.get(), quiet))
            except asyncio.TimeoutError:
                return out

    # -- heartbeat (§5) --------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        assert self.welcome is not None
        interval = (self.welcome.get("heartbeat_ms") or 25000) / 1000.0
        # §5: at least once every heartbeat_ms; leave headroom for scheduling delays.
        period = self.ping_period or (min(interval * 0.8, interval - 0.5) if interval > 1 else interval / 2)
        while not self.closed.is_set():
            await asyncio.sleep(period)
            try:
                await self.request({"type": "ping"}, timeout=interval)
            except asyncio.TimeoutError:
                # §5: pong overdue by more than heartbeat_ms -> treat the link as dead.
                self.heartbeat_failures += 1
                if self.ws is not None:
                    await self.ws.close(1000, "pong overdue")
                return
            except (ConnectionLost, websockets.ConnectionClosed):
                return

    # -- typed requests (§7) ---------------------------------------------------------------

    async def ping(self) -> dict:
        return await self.request({"type": "ping"})

    async def auth_refresh(self, token: str) -> dict:
        return await self.request({"type": "auth_refresh", "token": token})

    async def send_message(self, channel: str, body: str, *, client_id: Optional[str] = None,
                           reply_to: Optional[int] = None, mentions: Optional[list] = None,
                           metadata: Optional[dict] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "send", "channel": channel,
                                   "client_id": client_id or new_client_id("m"), "body": body,
                                   "reply_to": reply_to, "mentions": mentions,
                                   "metadata": metadata}, raise_error=raise_error)

    async def edit(self, channel: str, seq: int, body: str, *, client_id: Optional[str] = None,
                   metadata: Optional[dict] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "edit", "channel": channel, "seq": seq,
                                   "client_id": client_id or new_client_id("e"), "body": body,
                                   "metadata": metadata}, raise_error=raise_error)

    async def delete(self, channel: str, seq: int, *, client_id: Optional[str] = None,
                     raise_error: bool = True) -> dict:
        return await self.request({"type": "delete", "channel": channel, "seq": seq,
                                   "client_id": client_id or new_client_id("d")},
                                  raise_error=raise_error)

    async def react(self, channel: str, seq: int, emoji: str, action: str = "add", *,
                    client_id: Optional[str] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "react", "channel": channel, "seq": seq,
                                   "client_id": client_id or new_client_id("r"), "emoji": emoji,
                                   "action": action}, raise_error=raise_error)

    async def mark_read(self, channel: str, seq: int) -> dict:
        return await self.request({"type": "mark_read", "channel": channel, "seq": seq})

    async def mark_delivered(self, cursors: dict[str, int], *, with_id: bool = True) -> Optional[dict]:
        frame = {"type": "mark_delivered",
                 "cursors": [{"channel": c, "seq": s} for c, s in cursors.items()]}
        if with_id:
            return await self.request(frame)
        await self.send_raw(encode_frame(frame))  # §7: no id -> no success reply
        return None

    async def typing(self, channel: str, state: str = "start") -> None:
        # §7: typing has no id and no success reply.
        await self.send_raw(encode_frame({"type": "typing", "channel": channel, "state": state}))

    async def history(self, channel: str, *, before: Optional[int] = None,
                      after: Optional[int] = None, limit: Optional[int] = None,
                      raise_error: bool = True) -> dict:
        return await self.request({"type": "history", "channel": channel, "before": before,
                                   "after": after, "limit": limit}, raise_error=raise_error)

    async def channel_create(self, kind: str, *, channel: Optional[str] = None,
                             name: Optional[str] = None, public: Optional[bool] = None,
                             members: Optional[list] = None, metadata: Optional[dict] = None,
                             client_id: Optional[str] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "channel_create",
                                   "client_id": client_id or new_client_id("cc"), "kind": kind,
                                   "channel": channel, "name": name, "public": public,
                                   "members": members, "metadata": metadata},
                                  raise_error=raise_error)

    async def channel_update(self, channel: str, *, name: Optional[str] = None,
                             public: Optional[bool] = None, metadata: Optional[dict] = None,
                             client_id: Optional[str] = None) -> dict:
        return await self.request({"type": "channel_update", "channel": channel,
                                   "client_id": client_id or new_client_id("cu"), "name": name,
                                   "public": public, "metadata": metadata})

    async def members_add(self, channel: str, users: list, role: Optional[str] = None, *,
                          client_id: Optional[str] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "members_add", "channel": channel,
                                   "client_id": client_id or new_client_id("ma"), "users": users,
                                   "role": role}, raise_error=raise_error)

    async def members_remove(self, channel: str, users: list, *,
                             client_id: Optional[str] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "members_remove", "channel": channel,
                                   "client_id": client_id or new_client_id("mr"), "users": users},
                                  raise_error=raise_error)

    async def member_role(self, channel: str, user: str, role: str, *,
                          client_id: Optional[str] = None, raise_error: bool = True) -> dict:
        return await self.request({"type": "member_role", "channel": channel,
                                   "client_id": client_id or new_client_id("mo"), "user": user,
                                   "role": role}, raise_error=raise_error)

    async def join(self, channel: str, raise_error: bool = True) -> dict:
        return await self.request({"type": "join", "channel": channel}, raise_error=raise_error)

    async def members_list_all(self, channel: str, page: int = 0) -> list[dict]:
        """§7 members_list: page with `after` = last user id while `more`."""
        out: list[dict] = []
        after: Optional[str] = None
        while True:
            r = await self.request({"type": "members_list", "channel": channel, "after": after,
                                    "limit": page or None})
            out.extend(r.get("members") or [])
            if not r.get("more") or not r.get("members"):
                return out
            after = r["members"][-1]["user"]

    async def profile_set(self, **fields: Any) -> dict:
        return await self.request({"type": "profile_set", **fields})

    async def profiles_get(self, users: list) -> dict:
        return await self.request({"type": "profiles_get", "users": users})

    async def presence_query(self, users: list) -> dict:
        return await self.request({"type": "presence_query", "users": users})


# ---------------------------------------------------------------------------------------------
# Local state: cursors, upsert by version, unread arithmetic (§12, §14, §16)


@dataclass
class ChannelState:
    channel: str
    info: dict = field(default_factory=dict)
    messages: dict[int, dict] = field(default_factory=dict)  # seq -> Message
    members: dict[str, dict] = field(default_factory=dict)  # user -> Member
    cursor: int = 0  # highest V with every change <= V applied (§12)
    seen_above: set = field(default_factory=set)  # versions applied above the cursor
    last_seq: int = 0
    read_seq: int = 0
    delivered_seq: int = 0
    mentions: int = 0
    gaps: list = field(default_factory=list)  # (low_seq, high_seq) holes from sync pages (§14)
    removed: bool = False

    @property
    def unread(self) -> int:
        return max(0, self.last_seq - self.read_seq)

    def upsert_message(self, m: dict) -> bool:
        old = self.messages.get(m["seq"])
        if old is not None and old.get("version", 0) >= m.get("version", 0):
            return False  # duplicate or stale (§12)
        self.messages[m["seq"]] = m
        self.last_seq = max(self.last_seq, m["seq"])
        return True

    def upsert_member(self, mem: dict) -> bool:
        old = self.members.get(mem["user"])
        if old is not None and old.get("version", 0) >= mem.get("version", 0):
            return False
        # A removed member is kept as a tombstone (removed: true) so that an older "added" copy
        # arriving late is recognised as stale; `active_members` hides it.
        self.members[mem["user"]] = mem
        return True

    def active_members(self) -> dict[str, dict]:
        return {u: m for u, m in self.members.items() if not m.get("removed")}

    def note_version(self, v: int) -> None:
        """§12 gap detection: advance the cursor over contiguous versions."""
        if not v or v <= self.cursor:
            return
        self.seen_above.add(v)
        while self.cursor + 1 in self.seen_above:
            self.cursor += 1
            self.seen_above.discard(self.cursor)

    @property
    def has_gap(self) -> bool:
        return bool(self.seen_above)


class ClientState:
    """What a client stores between connections: channels with their cursors."""

    def __init__(self, user: str):
        self.user = user
        self.channels: dict[str, ChannelState] = {}

    def ch(self, channel: str) -> ChannelState:
        if channel not in self.channels:
            self.channels[channel] = ChannelState(channel)
        return self.channels[channel]

    def cursors(self) -> list[dict]:
        return [{"channel": c.channel, "version": c.cursor}
                for c in self.channels.values() if not c.removed]

    # -- replies to own requests -------------------------------------------------------------

    def apply_sent(self, reply: dict, body: str = "", extra: Optional[dict] = None) -> None:
        c = self.ch(reply["channel"])
        if reply["type"] == "sent":
            c.upsert_message({"channel": reply["channel"], "seq": reply["seq"],
                              "version": reply["version"], "sender": self.user,
                              "client_id": reply["client_id"], "body": body,
                              "created_at": reply["created_at"], **(extra or {})})
            # §16: sending moves the sender's read and delivered cursors to the new message.
            c.read_seq = max(c.read_seq, reply["seq"])
            c.delivered_seq = max(c.delivered_seq, reply["seq"])
        c.last_seq = max(c.last_seq, reply.get("seq") or 0)
        c.note_version(reply.get("version") or 0)

    def apply_ok(self, reply: dict) -> None:
        if reply.get("channel") and reply.get("version"):
            self.ch(reply["channel"]).note_version(reply["version"])

    # -- events (§9) -------------------------------------------------------------------------

    def apply_event(self, f: dict) -> None:
        t = f["type"]
        if t == "message":
            m = f["message"]
            c = self.ch(m["channel"])
            c.upsert_message(m)
            if f["change"] == "created" and m.get("sender") == self.user:
                c.read_seq = max(c.read_seq, m["seq"])  # §16: sent from another device
                c.delivered_seq = max(c.delivered_seq, m["seq"])
            c.note_version(m.get("version", 0))
        elif t == "member":
            c = self.ch(f["channel"])
            c.upsert_member({"user": f["user"], "role": f.get("role") or "member",
                             "version": f["version"], "removed": f["change"] == "removed"})
            if f.get("member_count"):
                c.info["member_count"] = f["member_count"]
            c.note_version(f["version"])
        elif t == "channel_added":
            info = f["info"]
            c = self.ch(info["channel"])
            c.info = info
            c.removed = False
            # §9: sync it from version 0 -> cursor stays 0 (no data applied yet)
        elif t == "channel_removed":
            self.ch(f["channel"]).removed = True
        elif t == "channel_updated":
            c = self.ch(f["info"]["channel"])
            if f["info"].get("version", 0) > c.info.get("version", 0):
                c.info = f["info"]
            c.note_version(f["info"].get("version", 0))
        elif t == "receipt":
            if f["user"] == self.user:
                c = self.ch(f["channel"])
                c.read_seq = max(c.read_seq, f.get("read_seq") or 0)
                c.delivered_seq = max(c.delivered_seq, f.get("delivered_seq") or 0)
            else:
                c = self.ch(f["channel"])
                mem = c.members.get(f["user"])
                if mem is not None and f.get("read_seq"):
                    mem["read_seq"] = max(mem.get("read_seq", 0), f["read_seq"])

    # -- sync (§14) --------------------------------------------------------------------------

    def apply_sync_entry(self, e: dict) -> None:
        c = self.ch(e["channel"])
        status = e["status"]
        if status == "removed":
            c.removed = True
            return
        if status in ("joined", "too_far_behind"):
            page = e.get("messages") or []
            if status == "too_far_behind" and page and c.messages:
                newest_held = max(c.messages)
                if page[0]["seq"] > newest_held + 1:
                    c.gaps.append((newest_held + 1, page[0]["seq"] - 1))
            elif status == "joined" and page and page[0]["seq"] > 1:
                c.gaps.append((1, page[0]["seq"] - 1))
            if status == "joined":
                c.members.clear()
        for m in e.get("messages") or []:
            c.upsert_message(m)
        for mem in e.get("members") or []:
            c.upsert_member(mem)
        if e.get("info"):
            c.info = e["info"]
        c.removed = False
        # counts are the server's numbers (§16)
        c.last_seq = e.get("last_seq") or 0
        c.read_seq = e.get("read_seq") or 0
        c.delivered_seq = e.get("delivered_seq") or 0
        c.mentions = e.get("mentions") or 0
        # cursor: set to `version` (§14 table); versions applied above it stay remembered
        c.cursor = max(c.cursor, e.get("version") or 0) if status == "delta" else (e.get("version") or 0)
        c.seen_above = {v for v in c.seen_above if v > c.cursor}
        while c.cursor + 1 in c.seen_above:
            c.cursor += 1
            c.seen_above.discard(c.cursor)


async def sync_all(conn: Connection, state: ClientState, limit: Optional[int] = None,
                   max_rounds: int = 50) -> list[dict]:
    """§14: one sync listing every channel's cursor, repeated while `more`. Returns the replies."""
    replies = []
    for _ in range(max_rounds):
        r = await conn.request({"type": "sync", "channels": state.cursors(), "limit": limit})
        replies.append(r)
        for e in r.get("channels") or []:
            state.apply_sync_entry(e)
        if not r.get("more"):
            return replies
    raise RuntimeError("sync did not converge")


async def connect(url: str, token: str, *, device_id: Optional[str] = None,
                  heartbeat: bool = True, subprotocol: bool = True) -> Connection:
    conn = Connection(url, subprotocol=subprotocol)
    await conn.open()
    await conn.hello(token, device_id=device_id, heartbeat=heartbeat)
    return conn


__all__ = [
    "ChannelState", "ChatError", "ClientState", "Connection", "ConnectionLost", "connect",
    "encode_frame", "mint_token", "new_client_id", "split_frames", "sync_all", "user_token",
    "RETRYABLE_CODES", "NO_RECONNECT_CLOSE_CODES", "SUBPROTOCOL",
]
