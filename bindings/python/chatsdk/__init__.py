"""chatsdk for Python: a ctypes wrapper over the C API (libchatsdk_c).

No compiled extension: the shared library is found through $CHATSDK_C_LIBRARY,
then the system's library path (ctypes.util.find_library("chatsdk_c")).

    import chatsdk

    with chatsdk.Client("ws://127.0.0.1:8080/ws", "alice.db", token=jwt) as c:
        c.connect()
        c.wait_for(lambda e: e.type == "connection" and e.state == "live", timeout=10)
        c.open_timeline("general")
        c.send_text("general", "hello")
        for ev in c.events(timeout=5):        # polls for you; ends after 5 s
            print(ev.type, ev.data)

Errors are exceptions: every failing call raises a ChatError subclass named
after the status (chatsdk.NotMemberError for CHAT_E_NOT_MEMBER, ...), carrying
.status, .name, .retryable and the library's .detail.

Threads: a Client may be used from any thread for commands and queries; poll()
and events() belong to one thread at a time (the GIL is released while the
library works, so poll(timeout) does not stall other Python threads).
asyncio: ``async for ev in client.aevents(): ...`` polls without blocking the loop.
"""

from __future__ import annotations

import asyncio
import builtins
import ctypes
import ctypes.util
import json
import os
import time
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint32, c_uint64, c_void_p)
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence

__all__ = ["Client", "Event", "ChatError", "version", "status_name", "load_library"]

# ---- the library ---------------------------------------------------------------

_lib: Optional[ctypes.CDLL] = None


def load_library(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libchatsdk_c (once). path > $CHATSDK_C_LIBRARY > the system search path."""
    global _lib
    if _lib is not None:
        return _lib
    candidates = [path, os.environ.get("CHATSDK_C_LIBRARY"), ctypes.util.find_library("chatsdk_c"),
                  "libchatsdk_c.so"]
    last: Optional[OSError] = None
    for cand in candidates:
        if not cand:
            continue
        try:
            lib = ctypes.CDLL(cand)
            break
        except OSError as e:
            last = e
    else:
        raise OSError(f"libchatsdk_c not found (set CHATSDK_C_LIBRARY): {last}")
    _declare(lib)
    _lib = lib
    return lib


TOKEN_FN = CFUNCTYPE(None, c_void_p, c_void_p)


class _Options(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("server_url", c_char_p),
        ("database_path", c_char_p),
        ("device_id", c_char_p),
        ("token", c_char_p),
        ("token_fn", TOKEN_FN),
        ("token_user_data", c_void_p),
        ("backoff_initial_ms", c_uint32),
        ("backoff_max_ms", c_uint32),
        ("backoff_factor", c_double),
        ("heartbeat_ms", c_uint32),
        ("cache_cap_bytes", c_uint64),
        ("history_page", c_uint32),
        ("failed_op_blocks_channel", c_int),
        ("max_auto_retries", c_uint32),
        ("random_seed", c_uint64),
    ]


class _SendOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("reply_to", c_uint64),
        ("mentions", POINTER(c_char_p)),
        ("mention_count", c_size_t),
        ("metadata", c_char_p),
    ]


def _declare(lib: ctypes.CDLL) -> None:
    S, H, P, OUT_OP = c_int, c_void_p, c_char_p, POINTER(c_int64)
    STRS = POINTER(c_char_p)
    sig = {
        "chat_version_number": (c_int, []),
        "chat_version_string": (c_char_p, []),
        "chat_status_str": (c_char_p, [c_int]),
        "chat_status_name": (c_char_p, [c_int]),
        "chat_status_retryable": (c_int, [c_int]),
        "chat_free": (None, [c_void_p]),
        "chat_client_options_init": (S, [POINTER(_Options)]),
        "chat_send_options_init": (S, [POINTER(_SendOptions)]),
        "chat_client_create": (S, [POINTER(_Options), POINTER(c_void_p)]),
        "chat_client_destroy": (None, [H]),
        "chat_client_errmsg": (c_char_p, [H]),
        "chat_client_set_token": (S, [H, P]),
        "chat_client_connect": (S, [H]),
        "chat_client_disconnect": (S, [H]),
        "chat_client_suspend": (S, [H]),
        "chat_client_resume": (S, [H]),
        "chat_client_state": (c_int, [H]),
        "chat_client_user_id": (S, [H, POINTER(c_void_p)]),
        "chat_client_poll": (S, [H, c_int]),
        "chat_client_wakeup": (S, [H]),
        "chat_client_run": (S, [H]),
        "chat_client_stop": (S, [H]),
        "chat_client_next_event": (S, [H, POINTER(c_void_p)]),
        "chat_client_send_text": (S, [H, P, P, POINTER(_SendOptions), c_uint64, OUT_OP]),
        "chat_client_reply": (S, [H, P, c_uint64, P, c_uint64, OUT_OP]),
        "chat_client_edit": (S, [H, P, c_uint64, P, P, P, c_uint64, OUT_OP]),
        "chat_client_delete": (S, [H, P, c_uint64, P, c_uint64, OUT_OP]),
        "chat_client_react": (S, [H, P, c_uint64, P, P, c_int, c_uint64, OUT_OP]),
        "chat_client_mark_read": (S, [H, P, c_uint64, c_uint64, OUT_OP]),
        "chat_client_create_group": (S, [H, P, P, STRS, c_size_t, c_int, c_uint64, OUT_OP]),
        "chat_client_create_direct": (S, [H, P, c_uint64, OUT_OP]),
        "chat_client_invite": (S, [H, P, STRS, c_size_t, c_uint64, OUT_OP]),
        "chat_client_join": (S, [H, P, c_uint64, OUT_OP]),
        "chat_client_remove_members": (S, [H, P, STRS, c_size_t, c_uint64, OUT_OP]),
        "chat_client_leave": (S, [H, P, c_uint64, OUT_OP]),
        "chat_client_set_profile": (S, [H, P, P, c_uint64, OUT_OP]),
        "chat_client_update_channel": (S, [H, P, P, c_int, P, c_uint64, OUT_OP]),
        "chat_client_set_role": (S, [H, P, P, c_int, c_uint64, OUT_OP]),
        "chat_client_list_members": (S, [H, P, P, c_uint32, c_uint64]),
        "chat_client_retry": (S, [H, c_int64, c_uint64]),
        "chat_client_cancel": (S, [H, c_int64]),
        "chat_client_typing": (S, [H, P]),
        "chat_client_typing_stop": (S, [H, P]),
        "chat_client_query_presence": (S, [H, STRS, c_size_t, c_uint64]),
        "chat_client_fetch_profiles": (S, [H, STRS, c_size_t, c_uint64]),
        "chat_client_open_timeline": (S, [H, P]),
        "chat_client_close_timeline": (S, [H, P]),
        "chat_client_load_older": (S, [H, P, c_uint64]),
        "chat_client_load_newer": (S, [H, P, c_uint64]),
        "chat_client_channels": (S, [H, POINTER(c_void_p)]),
        "chat_client_messages": (S, [H, P, c_size_t, POINTER(c_void_p)]),
        "chat_client_timeline": (S, [H, P, POINTER(c_void_p)]),
        "chat_client_members": (S, [H, P, POINTER(c_void_p)]),
        "chat_client_pending_ops": (S, [H, POINTER(c_void_p)]),
        "chat_client_typing_users": (S, [H, P, POINTER(c_void_p)]),
        "chat_list_to_json": (S, [c_void_p, POINTER(c_void_p)]),
        "chat_list_destroy": (None, [c_void_p]),
        "chat_event_to_json": (S, [c_void_p, POINTER(c_void_p)]),
        "chat_event_type": (c_int, [c_void_p]),
        "chat_event_tag": (c_uint64, [c_void_p]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args


def _b(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else s.encode("utf-8")


def _strs(items: Sequence[str]):
    arr = (c_char_p * max(1, len(items)))(*[s.encode("utf-8") for s in items])
    return arr, len(items)


def _take_string(ptr: c_void_p) -> str:
    """Copies a library-owned char* and frees it with chat_free."""
    if not ptr.value:
        return ""
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        load_library().chat_free(ptr)


# ---- status and errors ----------------------------------------------------------

def status_name(status: int) -> str:
    """Stable snake_case name of a chat_status ("not_member")."""
    return load_library().chat_status_name(status).decode()


def version() -> str:
    return load_library().chat_version_string().decode()


class ChatError(Exception):
    """A failed chatsdk call. Subclasses are named after the status."""

    status: int = -1

    def __init__(self, status: int, detail: str = ""):
        self.status = status
        self.name = status_name(status)
        self.retryable = bool(load_library().chat_status_retryable(status))
        self.detail = detail
        super().__init__(f"{self.name} ({status}): {detail or load_library().chat_status_str(status).decode()}")


_error_classes: Dict[int, type] = {}


def _build_error_classes() -> None:
    lib = load_library()
    status = 1
    while True:
        name = lib.chat_status_name(status).decode()
        if name == "unknown":
            break
        cls_name = "".join(part.capitalize() for part in name.split("_"))
        if not cls_name.endswith("Error"):
            cls_name += "Error"
        if hasattr(builtins, cls_name):  # never shadow TimeoutError & co.
            cls_name = "Chat" + cls_name
        cls = type(cls_name, (ChatError,), {"status": status, "__doc__": lib.chat_status_str(status).decode()})
        _error_classes[status] = cls
        globals()[cls_name] = cls
        __all__.append(cls_name)
        status += 1


def error_class(status: int) -> type:
    """The ChatError subclass raised for `status` (ChatError itself if unknown)."""
    if not _error_classes:
        _build_error_classes()
    return _error_classes.get(status, ChatError)


def _raise(status: int, detail: str) -> None:
    raise error_class(status)(status, detail)


# ---- events ---------------------------------------------------------------------

class Event:
    """One event, copied out of the library (safe to keep).

    .type is "connection", "channel_list_diff", "timeline_diff", "op", "typing",
    "presence", "receipt", "profiles", "cache_evicted", "history_loaded",
    "error" or "members_page"; .tag is the tag of the command it completes (0 = unsolicited);
    .data is the full JSON rendering (docs/bindings.md); its keys are also
    attributes (ev.channel, ev.ops, ev.op, ...).
    """

    __slots__ = ("type", "tag", "data")

    def __init__(self, data: Dict[str, Any]):
        self.data = data
        self.type = data.get("type", "")
        self.tag = int(data.get("tag", 0))

    def __getattr__(self, key: str) -> Any:
        try:
            return self.data[key]
        except KeyError:
            raise AttributeError(key) from None

    def messages(self) -> List[Dict[str, Any]]:
        """Messages a timeline diff inserts or updates (reset: all of them)."""
        if self.type != "timeline_diff":
            return []
        return [item["message"] for op in self.data["ops"] for item in op["items"]]

    def __repr__(self) -> str:
        return f"Event({self.data!r})"


# ---- the client -----------------------------------------------------------------

_STATES = ["disconnected", "connecting", "authenticating", "syncing", "live"]
_ROLES = ["member", "moderator", "owner"]


class Client:
    """One user's session (chat_client). Close it (or use `with`) when done."""

    def __init__(self, server_url: str, database_path: str, *, token: Optional[str] = None,
                 token_provider: Optional[Callable[[], Optional[str]]] = None,
                 device_id: Optional[str] = None, history_page: Optional[int] = None,
                 heartbeat_ms: Optional[int] = None, backoff_initial_ms: Optional[int] = None,
                 backoff_max_ms: Optional[int] = None, cache_cap_bytes: Optional[int] = None,
                 library: Optional[str] = None):
        self._lib = load_library(library)
        self._h = c_void_p()
        self._provider = token_provider
        opts = _Options()
        self._lib.chat_client_options_init(ctypes.byref(opts))
        # Keep the encoded strings alive until create() has copied them.
        self._keep = [_b(server_url), _b(database_path), _b(device_id), _b(token)]
        opts.server_url, opts.database_path, opts.device_id, opts.token = self._keep
        if token_provider is not None:
            self._token_cb = TOKEN_FN(self._on_token)  # referenced for the client's lifetime
            opts.token_fn = self._token_cb
        for name, value in (("history_page", history_page), ("heartbeat_ms", heartbeat_ms),
                            ("backoff_initial_ms", backoff_initial_ms), ("backoff_max_ms", backoff_max_ms),
                            ("cache_cap_bytes", cache_cap_bytes)):
            if value is not None:
                setattr(opts, name, value)
        rc = self._lib.chat_client_create(ctypes.byref(opts), ctypes.byref(self._h))
        if rc != 0:
            _raise(rc, (self._lib.chat_client_errmsg(None) or b"").decode())
        self.token_provider_errors: List[BaseException] = []

    # Called by the library on its loop thread (inside poll) when it needs a token.
    def _on_token(self, _user_data, handle) -> None:
        try:
            tok = self._provider() if self._provider else None
            if tok is not None:
                self._lib.chat_client_set_token(handle, tok.encode("utf-8"))
        except BaseException as e:  # never let an exception unwind into C
            self.token_provider_errors.append(e)

    # -- plumbing --
    def _check(self, rc: int) -> None:
        if rc != 0:
            detail = self._lib.chat_client_errmsg(self._h) if self._h else self._lib.chat_client_errmsg(None)
            _raise(rc, (detail or b"").decode())

    def _op(self, fn, *args, tag: int = 0) -> int:
        op = c_int64(0)
        self._check(fn(self._h, *args, c_uint64(tag), ctypes.byref(op)))
        return op.value

    def _list(self, fn, *args) -> List[Any]:
        lst = c_void_p()
        self._check(fn(self._h, *args, ctypes.byref(lst)))
        try:
            out = c_void_p()
            self._check(self._lib.chat_list_to_json(lst, ctypes.byref(out)))
            return json.loads(_take_string(out))
        finally:
            self._lib.chat_list_destroy(lst)

    # -- lifecycle --
    def close(self) -> None:
        """Destroys the client (idempotent). Queued ops stay in the database."""
        if self._h:
            self._lib.chat_client_destroy(self._h)
            self._h = c_void_p()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def set_token(self, jwt: str) -> None:
        self._check(self._lib.chat_client_set_token(self._h, _b(jwt)))

    def connect(self) -> None:
        self._check(self._lib.chat_client_connect(self._h))

    def disconnect(self) -> None:
        self._check(self._lib.chat_client_disconnect(self._h))

    def suspend(self) -> None:
        self._check(self._lib.chat_client_suspend(self._h))

    def resume(self) -> None:
        self._check(self._lib.chat_client_resume(self._h))

    @property
    def state(self) -> str:
        return _STATES[self._lib.chat_client_state(self._h)]

    @property
    def user_id(self) -> str:
        out = c_void_p()
        self._check(self._lib.chat_client_user_id(self._h, ctypes.byref(out)))
        return _take_string(out)

    # -- loop and events --
    def poll(self, timeout_ms: int = 0) -> None:
        self._check(self._lib.chat_client_poll(self._h, timeout_ms))

    def wakeup(self) -> None:
        self._check(self._lib.chat_client_wakeup(self._h))

    def run(self) -> None:
        """Starts the SDK's own loop thread (then don't call poll)."""
        self._check(self._lib.chat_client_run(self._h))

    def stop(self) -> None:
        self._check(self._lib.chat_client_stop(self._h))

    def next_event(self) -> Optional[Event]:
        """The next ready event, or None. Does not poll."""
        ev = c_void_p()
        self._check(self._lib.chat_client_next_event(self._h, ctypes.byref(ev)))
        if not ev.value:
            return None
        out = c_void_p()
        self._check(self._lib.chat_event_to_json(ev, ctypes.byref(out)))
        return Event(json.loads(_take_string(out)))

    def __iter__(self) -> Iterator[Event]:
        """The events ready now (one poll(0), then drain)."""
        self.poll(0)
        while (ev := self.next_event()) is not None:
            yield ev

    def events(self, timeout: Optional[float] = None, poll_ms: int = 50) -> Iterator[Event]:
        """Polls and yields events as they come; ends after `timeout` seconds
        (None: never). With run() active it only drains the queue."""
        deadline = None if timeout is None else time.monotonic() + timeout
        running = False
        while deadline is None or time.monotonic() < deadline:
            ev = self.next_event()
            if ev is not None:
                yield ev
                continue
            wait = poll_ms if deadline is None else max(0, min(poll_ms, int((deadline - time.monotonic()) * 1000)))
            if running:
                time.sleep(wait / 1000)
                continue
            try:
                self.poll(wait)
            except ChatError as e:
                if e.name != "invalid_state":
                    raise
                running = True  # run() owns the loop: just wait for its events

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0,
                 on_other: Optional[Callable[[Event], None]] = None) -> Event:
        """Polls until an event satisfies predicate; raises TimeoutError otherwise.
        Events that do not match go to on_other (if given)."""
        for ev in self.events(timeout=timeout):
            if predicate(ev):
                return ev
            if on_other:
                on_other(ev)
        raise builtins.TimeoutError("no matching chatsdk event")

    async def aevents(self, idle_sleep: float = 0.01) -> AsyncIterator[Event]:
        """asyncio: yields events forever, polling with poll(0) (never blocks the
        event loop) and sleeping idle_sleep when nothing is ready."""
        while True:
            self.poll(0)
            got = False
            while (ev := self.next_event()) is not None:
                got = True
                yield ev
            if not got:
                await asyncio.sleep(idle_sleep)

    async def await_event(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """asyncio: the first event satisfying predicate (asyncio.TimeoutError otherwise)."""
        async def first() -> Event:
            async for ev in self.aevents():
                if predicate(ev):
                    return ev
            raise AssertionError("unreachable")
        return await asyncio.wait_for(first(), timeout)

    # -- outbox commands: each returns the op id; events for it carry `tag` --
    def send_text(self, channel: str, body: str, *, reply_to: int = 0, mentions: Sequence[str] = (),
                  metadata: Optional[str] = None, tag: int = 0) -> int:
        so = _SendOptions()
        self._lib.chat_send_options_init(ctypes.byref(so))
        so.reply_to = reply_to
        arr, n = _strs(list(mentions))
        so.mentions = ctypes.cast(arr, POINTER(c_char_p))
        so.mention_count = n
        so.metadata = _b(metadata)
        return self._op(self._lib.chat_client_send_text, _b(channel), _b(body), ctypes.byref(so), tag=tag)

    def reply(self, channel: str, parent_seq: int, body: str, *, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_reply, _b(channel), c_uint64(parent_seq), _b(body), tag=tag)

    def edit(self, channel: str, body: str, *, seq: int = 0, client_id: Optional[str] = None,
             metadata: Optional[str] = None, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_edit, _b(channel), c_uint64(seq), _b(client_id), _b(body),
                        _b(metadata), tag=tag)

    def delete(self, channel: str, *, seq: int = 0, client_id: Optional[str] = None, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_delete, _b(channel), c_uint64(seq), _b(client_id), tag=tag)

    def react(self, channel: str, emoji: str, *, seq: int = 0, client_id: Optional[str] = None,
              add: bool = True, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_react, _b(channel), c_uint64(seq), _b(client_id), _b(emoji),
                        1 if add else 0, tag=tag)

    def unreact(self, channel: str, emoji: str, **kw) -> int:
        return self.react(channel, emoji, add=False, **kw)

    def mark_read(self, channel: str, seq: int = 0, *, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_mark_read, _b(channel), c_uint64(seq), tag=tag)

    def create_group(self, channel_id: Optional[str], name: str, members: Sequence[str] = (), *,
                     public: bool = False, tag: int = 0) -> int:
        arr, n = _strs(list(members))
        return self._op(self._lib.chat_client_create_group, _b(channel_id), _b(name), arr, n,
                        1 if public else 0, tag=tag)

    def create_direct(self, other_user: str, *, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_create_direct, _b(other_user), tag=tag)

    def join(self, channel: str, *, tag: int = 0) -> int:
        """Joins a public channel (an op; fails with NotFound / PermissionDenied)."""
        return self._op(self._lib.chat_client_join, _b(channel), tag=tag)

    def invite(self, channel: str, users: Sequence[str], *, tag: int = 0) -> int:
        arr, n = _strs(list(users))
        return self._op(self._lib.chat_client_invite, _b(channel), arr, n, tag=tag)

    def remove_members(self, channel: str, users: Sequence[str], *, tag: int = 0) -> int:
        arr, n = _strs(list(users))
        return self._op(self._lib.chat_client_remove_members, _b(channel), arr, n, tag=tag)

    def leave(self, channel: str, *, tag: int = 0) -> int:
        return self._op(self._lib.chat_client_leave, _b(channel), tag=tag)

    def set_profile(self, display_name: Optional[str] = None, avatar_url: Optional[str] = None, *,
                    tag: int = 0) -> int:
        return self._op(self._lib.chat_client_set_profile, _b(display_name), _b(avatar_url), tag=tag)

    def update_channel(self, channel: str, *, name: Optional[str] = None,
                       public: Optional[bool] = None, metadata: Optional[str] = None,
                       tag: int = 0) -> int:
        """Renames a channel / changes its visibility / replaces its metadata (JSON
        object text). None = unchanged; at least one field. Owners and moderators
        only (others get a failed op, PermissionDenied)."""
        is_public = -1 if public is None else (1 if public else 0)
        return self._op(self._lib.chat_client_update_channel, _b(channel), _b(name),
                        c_int(is_public), _b(metadata), tag=tag)

    def set_role(self, channel: str, user: str, role: str, *, tag: int = 0) -> int:
        """Sets a member's role: "member", "moderator" or "owner" (owners only)."""
        if role not in _ROLES:
            raise ValueError(f"role must be one of {_ROLES}")
        return self._op(self._lib.chat_client_set_role, _b(channel), _b(user),
                        c_int(_ROLES.index(role)), tag=tag)

    def retry(self, op: int, *, tag: int = 0) -> None:
        self._check(self._lib.chat_client_retry(self._h, c_int64(op), c_uint64(tag)))

    def cancel(self, op: int) -> None:
        self._check(self._lib.chat_client_cancel(self._h, c_int64(op)))

    # -- ephemeral --
    def typing(self, channel: str) -> None:
        self._check(self._lib.chat_client_typing(self._h, _b(channel)))

    def typing_stop(self, channel: str) -> None:
        self._check(self._lib.chat_client_typing_stop(self._h, _b(channel)))

    def query_presence(self, users: Sequence[str], *, tag: int = 0) -> None:
        arr, n = _strs(list(users))
        self._check(self._lib.chat_client_query_presence(self._h, arr, n, c_uint64(tag)))

    def fetch_profiles(self, users: Sequence[str], *, tag: int = 0) -> None:
        arr, n = _strs(list(users))
        self._check(self._lib.chat_client_fetch_profiles(self._h, arr, n, c_uint64(tag)))

    def list_members(self, channel: str, after: str = "", limit: int = 0, *, tag: int = 0) -> None:
        """Asks the server for a page of members (ascending user id, after `after`);
        the answer is one "members_page" event carrying `tag` (members, more,
        next_after). Needs a live connection (NotConnected otherwise)."""
        self._check(self._lib.chat_client_list_members(self._h, _b(channel), _b(after),
                                                         c_uint32(limit), c_uint64(tag)))

    # -- view-models --
    def open_timeline(self, channel: str) -> None:
        self._check(self._lib.chat_client_open_timeline(self._h, _b(channel)))

    def close_timeline(self, channel: str) -> None:
        self._check(self._lib.chat_client_close_timeline(self._h, _b(channel)))

    def load_older(self, channel: str, *, tag: int = 0) -> None:
        self._check(self._lib.chat_client_load_older(self._h, _b(channel), c_uint64(tag)))

    def load_newer(self, channel: str, *, tag: int = 0) -> None:
        self._check(self._lib.chat_client_load_newer(self._h, _b(channel), c_uint64(tag)))

    # -- queries (cache only): plain dicts, as in the JSON rendering --
    def channels(self) -> List[Dict[str, Any]]:
        return self._list(self._lib.chat_client_channels)

    def messages(self, channel: str, newest: int = 50) -> List[Dict[str, Any]]:
        return self._list(self._lib.chat_client_messages, _b(channel), c_size_t(newest))

    def timeline(self, channel: str) -> List[Dict[str, Any]]:
        return self._list(self._lib.chat_client_timeline, _b(channel))

    def members(self, channel: str) -> List[Dict[str, Any]]:
        return self._list(self._lib.chat_client_members, _b(channel))

    def pending_ops(self) -> List[Dict[str, Any]]:
        return self._list(self._lib.chat_client_pending_ops)

    def typing_users(self, channel: str) -> List[str]:
        return self._list(self._lib.chat_client_typing_users, _b(channel))


def _init_errors() -> None:
    try:
        _build_error_classes()
    except OSError:
        pass  # library not found yet: classes are built on first use


_init_errors()
