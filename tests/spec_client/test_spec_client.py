#!/usr/bin/python3
"""End-to-end scenario against the real chatsdk server, using only docs/protocol.md's rules.

Usage: /usr/bin/python3 test_spec_client.py <path to chatsdk-server>

Starts the server on a free loopback port with a temporary data directory, waits for
GET /healthz, runs the scenario with alice and bob (bob on two devices), and prints one line per
check. The last line is "N passed, M failed"; the exit code is 0 only when nothing failed.
Each check names the protocol.md section it relies on.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import chat_protocol as cp  # noqa: E402

OVERALL_TIMEOUT_S = 60


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []

    def check(self, name: str, cond: bool, detail: object = "") -> bool:
        if cond:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            msg = f"FAIL {name}" + (f" -- {detail}" if detail != "" else "")
            self.failures.append(msg)
            print(msg, flush=True)
        return cond

    def eq(self, name: str, actual: object, expected: object) -> bool:
        return self.check(name, actual == expected, f"expected {expected!r}, got {actual!r}")


C = Checks()


# ---------------------------------------------------------------------------------------------
# Server process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary: str, extra_args: tuple[str, ...] = ()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="spec-client-")
        self.secret = secrets.token_urlsafe(24)
        self.admin = secrets.token_urlsafe(24)
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(self.data, "server.log")

    def start(self) -> None:
        args = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--data", self.data,
                "--secret", self.secret, "--admin-token", self.admin] + self.extra_args
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_healthy(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return True
            except Exception:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if hasattr(self, "log"):
            self.log.close()

    def tail_log(self, n: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def token(self, user: str, **kw) -> str:
        return cp.user_token(self.secret, user, **kw)


# ---------------------------------------------------------------------------------------------
# Helpers


async def event(conn: cp.Connection, pred, timeout: float = 2.0):
    """The first frame matching pred, or None on timeout."""
    try:
        return await conn.next_event(pred, timeout=timeout)
    except asyncio.TimeoutError:
        return None


def is_msg(change: str, channel: str, seq: int | None = None):
    return lambda f: (f["type"] == "message" and f.get("change") == change
                      and f["message"]["channel"] == channel
                      and (seq is None or f["message"]["seq"] == seq))


async def none_within(conn: cp.Connection, pred, quiet: float = 0.5) -> list[dict]:
    """Frames matching pred that arrive within `quiet` seconds (expected: none)."""
    got = [f for f in await conn.drain(quiet) if pred(f)]
    return got


async def connect(srv: Server, user: str, device: str, state: cp.ClientState | None = None,
                  **kw) -> cp.Connection:
    conn = await cp.connect(srv.url, srv.token(user), device_id=device, **kw)
    if state is not None:
        conn.listeners.append(state.apply_event)
    return conn


async def expect_error(name: str, coro, code: str) -> dict | None:
    try:
        r = await coro
    except cp.ChatError as e:
        C.eq(name, e.code, code)
        return e.frame
    C.check(name, False, f"expected error {code}, got success {r}")
    return None


def sync_entry(reply: dict, channel: str) -> dict | None:
    for e in reply.get("channels") or []:
        if e["channel"] == channel:
            return e
    return None


# ---------------------------------------------------------------------------------------------
# Scenario


def offline_checks() -> None:
    # §4.1 test vector: our HS256 minting must reproduce it byte for byte.
    tok = cp.mint_token("dev-secret-change-me", {"sub": "alice", "iat": 1764040000, "exp": 1764043600})
    C.eq("§4.1 token test vector", tok,
         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTc2NDA0MDAwMCwiZXhwIjoxNzY0"
         "MDQzNjAwfQ.eI_DB3xJBztg4BeKeigaEoZqG7NkjKc9MI9c-9AXgyQ")
    # §2.2 splitting: empty lines skipped, \r\n accepted.
    frames = cp.split_frames('{"type":"a"}\r\n\n{"type":"b"}\n')
    C.eq("§2.2 split batched message", [f["type"] for f in frames], ["a", "b"])
    # §22: retryable classification; a code this client does not know is permanent.
    C.check("§22 rate_limited/storage_failed retryable, unknown code permanent",
            cp.ChatError({"code": "rate_limited"}).retryable and cp.ChatError({"code": "storage_failed"}).retryable
            and not cp.ChatError({"code": "brand_new_code"}).retryable
            and not cp.ChatError({"code": "token_expired"}).retryable)
    # §12 receiver rules, on the client's own state: upsert by version, gap detection.
    st = cp.ChannelState("c")
    for v in (1, 2, 4):
        st.note_version(v)
    C.check("§12 cursor stops below a hole", st.cursor == 2 and st.has_gap, (st.cursor, st.seen_above))
    st.note_version(3)
    C.check("§12 filling the hole advances over versions applied above it", st.cursor == 4 and not st.has_gap)
    st.upsert_message({"channel": "c", "seq": 1, "version": 5, "body": "new"})
    C.check("§12 an older copy does not replace a newer one",
            not st.upsert_message({"channel": "c", "seq": 1, "version": 3, "body": "old"})
            and st.messages[1]["body"] == "new")


async def scenario(srv: Server) -> None:
    run = secrets.token_hex(3)
    team = f"team-{run}"
    alice_s = cp.ClientState("alice")
    bobA_s = cp.ClientState("bob")  # bob's device A keeps its own store
    bobB_s = cp.ClientState("bob")

    # §4.2: a connection that never says hello is closed with 4002 after ~10 s; checked at the end.
    silent = cp.Connection(srv.url)
    await silent.open()
    silent_opened = time.monotonic()
    # §4.1/§4.4: a token 25 s past exp is still inside the 30 s leeway: accepted, warned about
    # with notice{token_expiring}, and the session is closed with 4003 when the leeway runs out.
    now = int(time.time())
    expiring = cp.Connection(srv.url)
    await expiring.open()
    ew = await expiring.hello(cp.mint_token(srv.secret, {"sub": "dora", "exp": now - 25}), heartbeat=False)
    expiring_deadline = time.monotonic() + (now + 5 - time.time())  # exp + 30 s leeway
    C.eq("§4.1 token past exp but within leeway is accepted", ew.get("type"), "welcome")
    ev = await event(expiring, lambda f: f["type"] == "notice")
    C.check("§4.4 notice{token_expiring} when the token expires within ~60 s",
            ev is not None and ev.get("code") == "token_expiring", ev)

    # --- §2.1/§4.2 connect, hello, welcome ----------------------------------------------------
    alice = await connect(srv, "alice", "alice-web", alice_s)
    C.eq("§2.1 server selects subprotocol chatsdk.v1", alice.subprotocol, cp.SUBPROTOCOL)
    w = alice.welcome or {}
    C.eq("§8 welcome.user is the token's sub", w.get("user"), "alice")
    C.eq("§8 welcome.protocol", w.get("protocol"), 1)
    C.check("§8 welcome has session, server_time, heartbeat_ms",
            bool(w.get("session")) and w.get("server_time", 0) > 1_600_000_000_000
            and w.get("heartbeat_ms", 0) > 0, w)
    lim = w.get("limits") or {}
    C.check("§10 welcome.limits within hard limits",
            0 < lim.get("max_frame_bytes", 0) <= 65536 and 0 < lim.get("max_body_bytes", 0) <= 16384,
            lim)
    C.eq("§6 welcome echoes hello id", w.get("id"), 1)

    bobA = await connect(srv, "bob", "bob-phone", bobA_s)
    bobB = await connect(srv, "bob", "bob-laptop", bobB_s, subprotocol=False)
    C.check("§2.1 server accepts a client offering no subprotocol",
            bobB.welcome is not None and bobB.welcome.get("user") == "bob")

    # --- §5 heartbeat, §2.2 batching -------------------------------------------------------------
    p = await alice.ping()
    C.check("§8 pong echoes id and carries server_time", p["type"] == "pong" and p.get("server_time", 0) > 0, p)
    ids = [alice.next_id() for _ in range(3)]
    futs = [alice.expect_reply(i, "ping") for i in ids]
    await alice.send_frames([{"type": "ping", "id": i} for i in ids])
    pongs = [await alice.await_reply(i, f) for i, f in zip(ids, futs)]
    C.eq("§2.2 three pings in one message get three pongs", [q.get("id") for q in pongs], ids)
    hb = cp.Connection(srv.url)
    hb.ping_period = 0.15  # the loop itself, at a short period
    await hb.open()
    await hb.hello(srv.token("carol"))
    await asyncio.sleep(0.55)
    C.check("§5 heartbeat loop: pings answered by pongs", hb.pongs_received >= 2 and hb.heartbeat_failures == 0,
            hb.pongs_received)
    await hb.close()

    # --- first sync ------------------------------------------------------------------------------
    r = await alice.request({"type": "sync", "channels": []})
    C.eq("§14 first sync on a fresh server: no channels", r.get("channels") or [], [])

    # --- §19 channel_create ----------------------------------------------------------------------
    cc_id = cp.new_client_id("cc")
    for c in (bobA, bobB):
        c.clear_events()
    ch = await alice.channel_create("group", channel=team, name="Team", members=["bob"],
                                    client_id=cc_id)
    info = ch.get("info") or {}
    C.check("§8 channel_create -> channel{info}",
            ch["type"] == "channel" and info.get("channel") == team and info.get("kind") == "group",
            ch)
    C.eq("§19 creator is owner", info.get("role"), "owner")
    C.eq("§10 member_count after create", info.get("member_count"), 2)
    for name, c in (("bob device A", bobA), ("bob device B", bobB)):
        ev = await event(c, lambda f: f["type"] == "channel_added" and f["info"]["channel"] == team)
        C.check(f"§19 channel_added reaches {name}", ev is not None)
        if ev:
            C.eq(f"§9 channel_added role for {name}", ev["info"].get("role", "member"), "member")
    again = await alice.channel_create("group", channel=team, name="Team", members=["bob"],
                                       client_id=cc_id)
    C.check("§13 channel_create resend -> already_applied naming the channel",
            again["type"] == "already_applied" and again.get("channel") == team
            and again.get("client_id") == cc_id, again)
    await expect_error("§7 channel_create with a taken id -> already_exists",
                       alice.channel_create("group", channel=team), "already_exists")
    dm = await alice.channel_create("direct", members=["bob"])
    C.eq("§19 direct channel id is dm:<a>:<b> sorted", (dm.get("info") or {}).get("channel"), "dm:alice:bob")
    dm2 = await alice.channel_create("direct", members=["bob"])
    C.check("§7 creating an existing direct channel returns it",
            dm2["type"] in ("channel", "already_applied")
            and ((dm2.get("info") or {}).get("channel") or dm2.get("channel")) == "dm:alice:bob", dm2)
    await expect_error("§22 direct channel without exactly one other member -> invalid_argument",
                       alice.channel_create("direct", members=["bob", "carol"]), "invalid_argument")

    # Everyone syncs the new channel from version 0 (§9 channel_added, §14).
    for conn, st in ((alice, alice_s), (bobA, bobA_s), (bobB, bobB_s)):
        st.ch(team)
        await cp.sync_all(conn, st)
    e = alice_s.ch(team)
    C.check("§14 sync after create: members alice(owner) and bob",
            e.members.get("alice", {}).get("role") == "owner" and "bob" in e.members,
            e.members)
    C.check("§14 sync after create: cursor > 0", e.cursor > 0, e.cursor)
    base_version = e.cursor

    # --- §7 send, §9 message{created}, §12 seq gapless ------------------------------------------
    for c in (bobA, bobB, alice):
        c.clear_events()
    sent = []
    for i in range(5):
        body = f"hello {i}"
        s = await alice.send_message(team, body, mentions=["bob"] if i == 4 else None)
        alice_s.apply_sent(s, body)
        sent.append(s)
    C.eq("§12 seqs 1..5 gapless", [s["seq"] for s in sent], [1, 2, 3, 4, 5])
    C.check("§12 sent versions strictly increase by 1",
            [s["version"] for s in sent] == list(range(sent[0]["version"], sent[0]["version"] + 5))
            and sent[0]["version"] == base_version + 1, [s["version"] for s in sent])
    C.check("§8 sent echoes client_id and has created_at",
            all(s.get("client_id") and s.get("created_at", 0) > 0 for s in sent))
    for name, c in (("bob device A", bobA), ("bob device B", bobB)):
        got = []
        for _ in range(5):
            ev = await event(c, is_msg("created", team))
            if ev is None:
                break
            got.append(ev)
        C.eq(f"§9 {name} receives created events seq 1..5 in order",
             [g["message"]["seq"] for g in got], [1, 2, 3, 4, 5])
        if got:
            m = got[0]["message"]
            C.check(f"§10 {name}: event carries sender, client_id, body, version",
                    m.get("sender") == "alice" and m.get("client_id") == sent[0]["client_id"]
                    and m.get("body") == "hello 0" and m.get("version") == sent[0]["version"], got[0])
            C.eq(f"§9 {name}: created event actor", got[0].get("actor", ""), "alice")
    own = await none_within(alice, is_msg("created", team), 0.3)
    C.eq("§6 sending session gets no created event for its own send", len(own), 0)

    # --- §13 idempotent resend ------------------------------------------------------------------
    bobA.clear_events()
    dup = await alice.send_message(team, "hello 0", client_id=sent[0]["client_id"])
    C.check("§13 resend -> already_applied with original seq and version",
            dup["type"] == "already_applied" and dup.get("seq") == 1
            and dup.get("version") == sent[0]["version"] and dup.get("channel") == team, dup)
    extra = await none_within(bobA, is_msg("created", team), 0.5)
    C.eq("§13 resend fans out no second event", len(extra), 0)
    h = await alice.history(team)
    C.eq("§13 resend stored nothing: still 5 messages", [m["seq"] for m in h.get("messages", [])],
         [1, 2, 3, 4, 5])

    # --- bob sends from device A: device B and alice see it -------------------------------------
    for c in (alice, bobB):
        c.clear_events()
    bs = await bobA.send_message(team, "hi from bob")
    bobA_s.apply_sent(bs, "hi from bob")
    C.eq("§12 bob's message is seq 6", bs.get("seq"), 6)
    ev = await event(alice, is_msg("created", team, 6))
    C.check("§9 alice receives bob's message", ev is not None and ev["message"]["sender"] == "bob")
    evB = await event(bobB, is_msg("created", team, 6))
    C.check("§25 bob's other device receives his message with its client_id",
            evB is not None and evB["message"].get("client_id") == bs["client_id"], evB)
    C.eq("§16 other device raises its read_seq from its own user's message", bobB_s.ch(team).read_seq, 6)

    # --- metadata, unicode, exact limits (§3, §11) -----------------------------------------------
    # (in the direct channel, so the group's seq arithmetic below stays simple)
    dmc = "dm:alice:bob"
    bobA.clear_events()
    meta = {"attachments": [{"kind": "image", "url": "https://cdn.example.com/m/42.png"}], "n": 1}
    body = "Grüße 👋 \"quoted\" \\ back\nslash \u2028"
    sm = await bobB.send_message(dmc, body, metadata=meta)
    ev = await event(bobA, is_msg("created", dmc, sm.get("seq")))
    C.check("§3 body with non-ASCII, quotes, newline and metadata round-trip unchanged",
            ev is not None and ev["message"].get("body") == body and ev["message"].get("metadata") == meta, ev)
    stray = await none_within(bobA, lambda f: f["type"] == "receipt" and f.get("channel") == dmc, 0.2)
    C.eq("§16 sending moves the sender's cursors without a receipt to the sender's other sessions",
         stray, [])
    sm2 = await bobB.send_message(dmc, "é" * 8192)
    C.check("§11 a body of exactly 16384 UTF-8 bytes is accepted", sm2["type"] == "sent", sm2)
    r = await bobB.send_message(dmc, "é" * 8192 + "x", raise_error=False)
    C.eq("§11 16385 bytes (counted in UTF-8 bytes) -> body_too_large", r.get("code"), "body_too_large")
    edm = await bobB.edit(dmc, sm["seq"], "text edited, attachments kept")
    h = await bobA.history(dmc, after=sm["seq"] - 1, limit=1)  # after is present-or-absent (§7)
    got = (h.get("messages") or [{}])[0]
    C.check("§7 edit without metadata keeps the message's metadata",
            got.get("body") == "text edited, attachments kept" and got.get("metadata") == meta
            and got.get("version") == edm.get("version"), got)
    edm = await bobB.edit(dmc, sm["seq"], "no metadata now", metadata={})
    h = await bobA.history(dmc, before=sm["seq"] + 1, limit=1)
    got = (h.get("messages") or [{}])[0]
    C.check("§7/§3 edit with metadata {} clears it (absent or {} on the wire)",
            got.get("body") == "no metadata now" and not got.get("metadata")
            and got.get("version") == edm.get("version"), got)
    ecid = cp.new_client_id("e")
    e1 = await bobB.edit(dmc, sm["seq"], "edited twice?", client_id=ecid)
    e2 = await bobB.edit(dmc, sm["seq"], "edited twice?", client_id=ecid)
    C.check("§13 edit resend -> already_applied with seq and the original version",
            e2["type"] == "already_applied" and e2.get("seq") == sm["seq"] and e2.get("version") == e1.get("version"), e2)

    # --- edit -----------------------------------------------------------------------------------
    bobA.clear_events()
    ed = await alice.edit(team, 1, "hello 0 (edited)")
    alice_s.apply_ok(ed)
    C.check("§8 edit -> ok{channel, version}", ed["type"] == "ok" and ed.get("channel") == team
            and ed.get("version", 0) > bs["version"], ed)
    ev = await event(bobA, is_msg("edited", team, 1))
    C.check("§9 edited event: new body, version = ok.version, edited_at set",
            ev is not None and ev["message"]["body"] == "hello 0 (edited)"
            and ev["message"]["version"] == ed.get("version") and ev["message"].get("edited_at", 0) > 0, ev)
    await expect_error("§7 editing another user's message -> permission_denied",
                       bobA.edit(team, 1, "hijack"), "permission_denied")

    # --- delete ---------------------------------------------------------------------------------
    bobA.clear_events()
    dl = await alice.delete(team, 2)
    alice_s.apply_ok(dl)
    C.check("§8 delete -> ok with version", dl["type"] == "ok" and dl.get("version") == ed["version"] + 1, dl)
    ev = await event(bobA, is_msg("deleted", team, 2))
    C.check("§9 deleted event is a tombstone (deleted, body empty)",
            ev is not None and ev["message"].get("deleted") is True and ev["message"].get("body", "") == "", ev)
    dl2 = await alice.delete(team, 2)
    C.check("§7 deleting a deleted message succeeds without a change (no version)",
            dl2["type"] == "ok" and not dl2.get("version"), dl2)
    await expect_error("§7 editing a deleted message -> message_deleted",
                       alice.edit(team, 2, "zombie"), "message_deleted")
    await expect_error("§7 reacting to a deleted message -> message_deleted",
                       bobA.react(team, 2, "👍"), "message_deleted")
    await expect_error("§7 edit of a missing seq -> not_found", alice.edit(team, 999, "x"), "not_found")

    # --- react ----------------------------------------------------------------------------------
    alice.clear_events()
    rc = await bobA.react(team, 3, "👍")
    bobA_s.apply_ok(rc)
    C.check("§8 react -> ok with version", rc["type"] == "ok" and rc.get("version") == dl["version"] + 1, rc)
    ev = await event(alice, is_msg("reaction", team, 3))
    C.check("§9 reaction event: emoji, action add, count 1, no mine",
            ev is not None and ev.get("emoji") == "👍" and ev.get("action", "add") == "add"
            and ev.get("actor") == "bob"
            and ev["message"].get("reactions") == [{"emoji": "👍", "count": 1}], ev)
    rc_cid = cp.new_client_id("r")
    rc2 = await bobA.react(team, 3, "👍", client_id=rc_cid)
    C.check("§7 adding an existing reaction succeeds without a change", rc2["type"] == "ok" and not rc2.get("version"), rc2)
    rc3 = await bobA.react(team, 3, "👍", client_id=rc_cid)
    C.check("§13 react resend -> already_applied with seq, version 0",
            rc3["type"] == "already_applied" and rc3.get("seq") == 3 and not rc3.get("version"), rc3)
    alice.clear_events()
    rr = await bobA.react(team, 4, "🎉")
    rr2 = await bobA.react(team, 4, "🎉", "remove")
    bobA_s.apply_ok(rr)
    bobA_s.apply_ok(rr2)
    ev = await event(alice, lambda f: is_msg("reaction", team, 4)(f) and f.get("action") == "remove")
    C.check("§9 reaction removal event: action remove, reactions empty",
            ev is not None and not ev["message"].get("reactions") and ev["message"]["version"] == rr2.get("version"), ev)
    await expect_error("§11 emoji with a space -> out_of_range", bobA.react(team, 3, "a b"), "out_of_range")

    # --- reply counts ---------------------------------------------------------------------------
    for c in (alice, bobA, bobB):
        c.clear_events()
    rp = await bobA.send_message(team, "re: hello 0", reply_to=1)
    bobA_s.apply_sent(rp, "re: hello 0", {"reply_to": 1})
    C.eq("§12 reply is seq 7", rp.get("seq"), 7)
    ev = await event(alice, is_msg("reply", team, 1))
    C.check("§9 parent gets message{reply}: reply_count 1, version = sent.version + 1, actor bob",
            ev is not None and ev["message"].get("reply_count") == 1
            and ev["message"]["version"] == rp["version"] + 1 and ev.get("actor") == "bob", ev)
    evc = await event(alice, is_msg("created", team, 7))
    C.check("§9 reply's created event carries reply_to", evc is not None and evc["message"].get("reply_to") == 1, evc)
    evs = await event(bobA, is_msg("reply", team, 1))
    C.check("§12/§24 the replying session itself receives message{reply} (else its cursor has a hole)",
            evs is not None, "no reply event on the sender's session")
    await expect_error("§7 reply_to a missing seq -> not_found",
                       bobA.send_message(team, "x", reply_to=999), "not_found")

    # --- cursors without gaps (§12) -------------------------------------------------------------
    await asyncio.sleep(0.3)
    head = alice_s.ch(team).cursor
    C.check("§12 alice's cursor has no hole after replies + events",
            not alice_s.ch(team).has_gap, sorted(alice_s.ch(team).seen_above))
    for name, st in (("bob A", bobA_s), ("bob B", bobB_s)):
        c = st.ch(team)
        C.check(f"§12 {name}'s cursor reached alice's ({head}) without a hole",
                c.cursor == head and not c.has_gap, (c.cursor, sorted(c.seen_above)))

    # --- mark_read, receipts, unread arithmetic (§16) -------------------------------------------
    mr = await bobA.mark_read(team, 3)
    C.check("§8 mark_read -> ok with channel, no version", mr["type"] == "ok" and mr.get("channel") == team
            and not mr.get("version"), mr)
    # bob's read cursor was 7 (his own send moved it, §7 send) -> mark_read 3 must not move it back.
    r = await bobA.request({"type": "sync", "channels": bobA_s.cursors()})
    e = sync_entry(r, team) or {}
    C.check("§14 delta entry with cursor == head still carries counts",
            e.get("status") == "delta" and not e.get("messages") and e.get("last_seq") == 7, e)
    C.eq("§16 read cursor never moves backwards (send moved it to 7, mark_read 3 ignored)",
         e.get("read_seq"), 7)
    C.eq("§16 unread = last_seq - read_seq", e.get("unread", 0), e.get("last_seq", 0) - e.get("read_seq", 0))
    # alice: her read cursor is 5 (her last send); bob's 6 and 7 are unread.
    r = await alice.request({"type": "sync", "channels": alice_s.cursors()})
    e = sync_entry(r, team) or {}
    C.check("§16 alice: read_seq 5 (her last send), unread 2",
            e.get("read_seq") == 5 and e.get("unread") == 2 and e.get("last_seq") == 7, e)
    for c in (bobA, bobB):
        c.clear_events()
    await alice.mark_read(team, 6)
    for name, c in (("bob device A", bobA), ("bob device B", bobB)):
        ev = await event(c, lambda f: f["type"] == "receipt" and f["user"] == "alice" and f["channel"] == team)
        C.check(f"§16 alice's receipt reaches {name} (other member, small group)",
                ev is not None and ev.get("read_seq") == 6, ev)
    md = await alice.mark_delivered({team: 7})
    C.check("§8 mark_delivered with id -> ok", md is not None and md["type"] == "ok", md)
    await alice.mark_delivered({team: 7}, with_id=False)
    mr = await alice.mark_read(team, 999)
    r = await alice.request({"type": "sync", "channels": alice_s.cursors()})
    e = sync_entry(r, team) or {}
    C.check("§16 sync right after mark_read/mark_delivered carries the new cursors (read 7, delivered 7)",
            e.get("read_seq") == 7 and e.get("delivered_seq") == 7, e)
    await asyncio.sleep(1.2)  # §16: cursors reach the store in batches "about every second"
    r = await alice.request({"type": "sync", "channels": alice_s.cursors()})
    e = sync_entry(r, team) or {}
    C.check("§16 mark_read clamps to last_seq: read 7, unread 0, delivered 7 (after the flush)",
            e.get("read_seq") == 7 and e.get("unread", 0) == 0 and e.get("delivered_seq") == 7, e)
    stray = [f for f in await alice.drain(0.3) if f["type"] == "ok"]
    C.eq("§6 mark_delivered without id gets no success reply", stray, [])

    # --- typing (§17) ---------------------------------------------------------------------------
    alice.clear_events()
    bobA.clear_events()
    await bobA.typing(team, "start")
    ev = await event(alice, lambda f: f["type"] == "typing" and f["channel"] == team)
    C.check("§17 typing relayed with user and state", ev is not None and ev.get("user") == "bob"
            and ev.get("state") == "start", ev)
    mine = await none_within(bobA, lambda f: f["type"] == "typing", 0.3)
    C.eq("§17 typing is not echoed to the typing session", mine, [])
    mine = [f for f in await bobB.drain(0.05) if f["type"] == "typing"]
    C.eq("§17 typing does not reach the typing user's other sessions", mine, [])
    bobA.clear_events()
    await bobA.typing(f"nope-{run}", "start")
    ev = await event(bobA, lambda f: f["type"] == "error")
    C.check("§7/§17 typing in a missing channel -> error not_found (no id)",
            ev is not None and ev.get("code") == "not_found" and not ev.get("id"), ev)
    alice.clear_events()
    await bobB.send_frames([{"type": "typing", "channel": team, "state": "start"}] * 5)
    relayed = [f for f in await alice.drain(0.4) if f["type"] == "typing"]
    C.check("§17/§20 five typing frames at once from one session: 1..2 relayed, the rest dropped silently",
            1 <= len(relayed) <= 2 and not [f for f in await bobB.drain(0.05) if f["type"] == "error"],
            len(relayed))

    # --- channel_update, member_role, join, members_list, leave (§19) -------------------------
    bobA.clear_events()
    cu = await alice.channel_update(team, name="Team 🚀")
    alice_s.apply_ok(cu)
    ev = await event(bobA, lambda f: f["type"] == "channel_updated")
    C.check("§9 channel_updated: info.name and info.version = ok.version",
            ev is not None and ev["info"].get("name") == "Team 🚀" and ev["info"].get("version") == cu.get("version"), ev)
    await expect_error("§19 member may not channel_update", bobA.channel_update(team, name="x"), "permission_denied")
    bobA.clear_events()
    mo = await alice.member_role(team, "bob", "moderator")
    alice_s.apply_ok(mo)
    ev = await event(bobA, lambda f: f["type"] == "member" and f.get("change") == "role")
    C.check("§9 member{role}", ev is not None and ev.get("user") == "bob" and ev.get("role") == "moderator"
            and ev.get("version") == mo.get("version"), ev)

    pub = f"pub-{run}"
    priv = f"priv-{run}"
    await alice.channel_create("group", channel=pub, public=True, name="Public")
    await alice.channel_create("group", channel=priv)
    await alice.send_message(pub, "welcome to pub")
    for c in (alice, bobB):
        c.clear_events()
    j = await bobA.join(pub)
    C.check("§7 join -> channel{info} with role member", j["type"] == "channel"
            and j["info"].get("channel") == pub and j["info"].get("role", "member") == "member"
            and j["info"].get("last_seq") == 1, j)
    ev = await event(alice, lambda f: f["type"] == "member" and f["channel"] == pub and f.get("change") == "added")
    C.check("§19 members get member{added} on join", ev is not None and ev.get("user") == "bob"
            and ev.get("member_count") == 2, ev)
    ev = await event(bobB, lambda f: f["type"] == "channel_added" and f["info"]["channel"] == pub)
    C.check("§9 joiner's other device gets channel_added", ev is not None)
    j2 = await bobA.join(pub)
    C.check("§7 joining twice returns the same reply without change", j2["type"] == "channel", j2)
    await expect_error("§7 join private -> permission_denied", bobA.join(priv), "permission_denied")
    await expect_error("§7 join missing -> not_found", bobA.join(f"nope-{run}"), "not_found")
    ml = await alice.members_list_all(pub, page=1)
    C.eq("§7 members_list paged by after (limit 1)", [(m["user"], m.get("role", "member")) for m in ml],
         [("alice", "owner"), ("bob", "member")])
    bobB.clear_events()
    alice.clear_events()
    lv = await bobA.members_remove(pub, ["bob"])
    C.check("§7 leaving (members_remove self) -> ok", lv["type"] == "ok", lv)
    ev = await event(bobB, lambda f: f["type"] == "channel_removed" and f["channel"] == pub)
    C.check("§9 leaver's other device gets channel_removed", ev is not None)
    ev = await event(alice, lambda f: f["type"] == "member" and f["channel"] == pub and f.get("change") == "removed")
    C.check("§19 remaining members get member{removed}", ev is not None and ev.get("user") == "bob", ev)
    await expect_error("§19 non-member send -> not_member", bobA.send_message(pub, "x"), "not_member")
    await expect_error("§19 non-member history -> not_member", bobA.history(pub), "not_member")
    await expect_error("§19 send to a missing channel -> not_found",
                       bobA.send_message(f"nope-{run}", "x"), "not_found")
    listed = [c for c in bobA_s.cursors() if c["channel"] != "dm:alice:bob"]
    r = await bobA.request({"type": "sync", "channels": [{"channel": pub, "version": 1},
                                                         {"channel": f"never-{run}", "version": 3}] + listed})
    e = sync_entry(r, pub) or {}
    C.eq("§14 listed channel the user left -> removed", e.get("status"), "removed")
    e = sync_entry(r, f"never-{run}") or {}
    C.check("§14 listed channel that never existed -> removed without version",
            e.get("status") == "removed" and not e.get("version"), e)
    e = sync_entry(r, "dm:alice:bob") or {}
    C.eq("§14 unlisted channel -> joined", e.get("status"), "joined")
    try:
        await bobA.typing(pub, "start")
        ev = await event(bobA, lambda f: f["type"] == "error")
        C.check("§7 typing in a non-member channel -> error not_member (no id)",
                ev is not None and ev.get("code") == "not_member" and not ev.get("id"), ev)
    except Exception as ex:  # pragma: no cover
        C.check("§7 typing non-member", False, ex)

    # members_add / members_remove of others, roles (§7, §19)
    grp = f"grp-{run}"
    alice2 = await connect(srv, "alice", "alice-tablet")
    await alice.channel_create("group", channel=grp, members=["bob"])
    ev = await event(alice2, lambda f: f["type"] == "channel_added" and f["info"]["channel"] == grp)
    C.check("§7 channel_create: the creator's other session gets channel_added", ev is not None
            and ev["info"].get("role") == "owner", ev)
    await alice2.close()
    alice.clear_events()
    bobB.clear_events()
    ma_cid = cp.new_client_id("ma")
    ma = await alice.members_add(grp, ["carol", "dave"], client_id=ma_cid)
    C.check("§7 members_add -> ok with version", ma["type"] == "ok" and ma.get("version", 0) > 0, ma)
    adds = []
    for _ in range(2):
        ev = await event(bobB, lambda f: f["type"] == "member" and f["channel"] == grp and f.get("change") == "added")
        if ev:
            adds.append(ev)
    C.check("§9 member{added} per added user, last one's version = ok.version",
            sorted(a["user"] for a in adds) == ["carol", "dave"]
            and max(a["version"] for a in adds) == ma.get("version")
            and sorted(a["version"] for a in adds) == [ma["version"] - 1, ma["version"]], adds)
    ma2 = await alice.members_add(grp, ["carol", "dave"], client_id=ma_cid)
    C.check("§13 members_add resend -> already_applied with the original version",
            ma2["type"] == "already_applied" and ma2.get("version") == ma.get("version"), ma2)
    await expect_error("§19 member may not members_add", bobA.members_add(grp, ["erin"]), "permission_denied")
    await expect_error("§19 member may not member_role", bobA.member_role(grp, "carol", "owner"),
                       "permission_denied")
    await alice.member_role(grp, "bob", "moderator")
    await expect_error("§19 a moderator cannot remove an owner", bobA.members_remove(grp, ["alice"]),
                       "permission_denied")
    bobB.clear_events()
    rm = await bobA.members_remove(grp, ["carol"])
    C.check("§19 a moderator removes a member -> ok", rm["type"] == "ok" and rm.get("version", 0) > 0, rm)
    ev = await event(bobB, lambda f: f["type"] == "member" and f["channel"] == grp and f.get("change") == "removed")
    C.check("§9 member{removed} with actor and member_count", ev is not None and ev.get("user") == "carol"
            and ev.get("actor") == "bob" and ev.get("member_count") == 3, ev)
    await expect_error("§19 direct channels never change members",
                       alice.members_add("dm:alice:bob", ["carol"]), "permission_denied")
    ml = await bobA.members_list_all(grp)
    C.eq("§7 members_list after changes", [(m["user"], m.get("role", "member")) for m in ml],
         [("alice", "owner"), ("bob", "moderator"), ("dave", "member")])
    gst = cp.ClientState("bob")
    gst.ch(grp)
    await cp.sync_all(bobA, gst)
    await alice.channel_update(grp, name="Named")
    await alice.channel_update(grp, public=True)
    r = await bobA.request({"type": "sync", "channels": gst.cursors()})
    e = sync_entry(r, grp) or {}
    C.check("§14 delta after channel_update carries info (name, public) and no messages",
            e.get("status") == "delta" and (e.get("info") or {}).get("name") == "Named"
            and (e.get("info") or {}).get("public") is True and not e.get("messages")
            and e.get("version") == e.get("head_version") == gst.ch(grp).cursor + 2, e)
    r = await alice.join(grp)
    C.check("§7 channel_update tri-state: setting public left the name alone",
            r["info"].get("name") == "Named" and r["info"].get("public") is True, r)

    # --- presence and offline sync (§18, §14) ---------------------------------------------------
    await asyncio.sleep(0.3)
    pq = await alice.presence_query(["bob", "alice", f"ghost-{run}"])
    online = {u["user"]: u["online"] for u in pq.get("users") or []}
    C.eq("§7 presence_query", online, {"bob": True, "alice": True, f"ghost-{run}": False})
    alice.clear_events()
    await bobB.close()
    early = await none_within(alice, lambda f: f["type"] == "presence", 0.5)
    C.eq("§18 no offline presence while bob still has a session", early, [])
    cursor_before = bobA_s.ch(team).cursor
    read_before = 7
    await bobA.close()
    ev = await event(alice, lambda f: f["type"] == "presence" and f["user"] == "bob")
    C.check("§18 presence offline after bob's last session ends",
            ev is not None and ev.get("online") is False and ev.get("last_seen", 0) > 0, ev)

    missed = []
    for i in range(3):
        s = await alice.send_message(team, f"while away {i}", mentions=["bob"] if i == 1 else None)
        alice_s.apply_sent(s, f"while away {i}")
        missed.append(s)
    ed2 = await alice.edit(team, 3, "hello 2 (edited offline)")
    alice_s.apply_ok(ed2)
    head = ed2["version"]

    alice.clear_events()
    bobA = await connect(srv, "bob", "bob-phone", bobA_s)
    ev = await event(alice, lambda f: f["type"] == "presence" and f["user"] == "bob")
    C.check("§18 presence online when bob comes back", ev is not None and ev.get("online") is True, ev)
    r = await bobA.request({"type": "sync", "channels": bobA_s.cursors()})
    e = sync_entry(r, team) or {}
    got = [(m["seq"], m["version"]) for m in e.get("messages") or []]
    expect = [(s["seq"], s["version"]) for s in missed] + [(3, head)]
    C.eq("§14 offline delta: exactly the missed changes, ascending version", got, expect)
    C.check("§14 delta versions all above the cursor", all(v > cursor_before for _, v in got), (cursor_before, got))
    C.check("§14 delta version == head_version == alice's head",
            e.get("status") == "delta" and e.get("version") == head and e.get("head_version") == head, e)
    C.check("§16 offline delta counts: last_seq 10, read 7, unread 3",
            e.get("last_seq") == 10 and e.get("read_seq") == read_before and e.get("unread") == 3, e)
    C.eq("§16 mentions counts unread mentions only (seq 9 yes, seq 5 is read)", e.get("mentions", 0), 1)
    for x in r.get("channels") or []:
        bobA_s.apply_sync_entry(x)
    C.eq("§14 bob's cursor after applying = head", bobA_s.ch(team).cursor, head)
    C.check("§14 missed messages stored", [bobA_s.ch(team).messages.get(s)["body"] for s in (8, 9, 10)]
            == ["while away 0", "while away 1", "while away 2"])

    # receipts of bob's own reads reach his other device and alice (§16)
    bobB = await connect(srv, "bob", "bob-laptop", bobB_s)
    await cp.sync_all(bobB, bobB_s)
    alice.clear_events()
    await bobA.mark_read(team, 9)
    ev = await event(bobB, lambda f: f["type"] == "receipt" and f["user"] == "bob" and f["channel"] == team)
    C.check("§16 bob's receipt reaches his other session", ev is not None and ev.get("read_seq") == 9, ev)
    C.eq("§16 other session's unread after own receipt", bobB_s.ch(team).unread, 1)
    ev = await event(alice, lambda f: f["type"] == "receipt" and f["user"] == "bob" and f["channel"] == team)
    C.check("§16 bob's receipt reaches alice (small group)", ev is not None and ev.get("read_seq") == 9, ev)

    # sync paging with a small limit (§14 "more")
    st = cp.ClientState("bob")
    st.ch(team).cursor = cursor_before
    replies = await cp.sync_all(bobA, st, limit=1)
    first = sync_entry(replies[0], team) or {}
    C.check("§14 limit 1: first page has 1 change, version < head_version, more",
            len(first.get("messages") or []) == 1 and first.get("version", 0) < first.get("head_version", 0)
            and replies[0].get("more") is True, replies[0])
    C.check("§14 paging converges to head in 4 rounds",
            len(replies) == 4 and st.ch(team).cursor == head, (len(replies), st.ch(team).cursor))

    # --- history paging (§15) -------------------------------------------------------------------
    h = await bobA.history(team, limit=3)
    C.check("§15 newest page: seqs 8..10, more_before, no more_after",
            [m["seq"] for m in h.get("messages", [])] == [8, 9, 10] and h.get("more_before") is True
            and not h.get("more_after"), h)
    seqs: list[int] = []
    cur = h
    pages = 0
    while True:
        seqs = [m["seq"] for m in cur.get("messages", [])] + seqs
        if not cur.get("more_before") or pages > 10:
            break
        cur = await bobA.history(team, before=cur["messages"][0]["seq"], limit=3)
        pages += 1
    C.eq("§15 paging backwards reaches seq 1 gapless", seqs, list(range(1, 11)))
    h2 = await bobA.history(team, before=4, limit=3)
    ms = h2.get("messages", [])
    C.check("§15 before:4 limit 3 = seqs 1..3 incl. tombstone 2, no more_before",
            [m["seq"] for m in ms] == [1, 2, 3] and ms[1].get("deleted") is True
            and not h2.get("more_before") and h2.get("more_after") is True, h2)
    C.check("§15 history reactions carry mine",
            ms[2].get("reactions") == [{"emoji": "👍", "count": 1, "mine": True}], ms[2] if len(ms) > 2 else ms)
    fwd: list[int] = []
    cur = await bobA.history(team, after=1, limit=4)
    pages = 0
    while True:
        fwd += [m["seq"] for m in cur.get("messages", [])]
        if not cur.get("more_after") or pages > 10:
            break
        cur = await bobA.history(team, after=cur["messages"][-1]["seq"], limit=4)
        pages += 1
    C.eq("§15 paging forwards from after:1 reaches the newest", fwd, list(range(2, 11)))
    await expect_error("§22 history with both before and after -> invalid_argument",
                       bobA.history(team, before=5, after=2), "invalid_argument")
    # §7/§15: a limit above limits.history_max is capped, never an error.
    r = await bobA.history(team, limit=501, raise_error=False)
    C.check("§7/§15 history limit 501 -> a capped page (not an error)",
            r["type"] == "history_page" and 0 < len(r.get("messages", [])) <= 500, r)
    r = await bobA.history(team, after=0, limit=2)
    C.check("§15 after:0 pages forward from the first message",
            [m["seq"] for m in r.get("messages", [])] == [1, 2] and r.get("more_after") is True
            and not r.get("more_before"), r)

    # --- bad input on an authenticated connection (§21) ----------------------------------------
    bobA.clear_events()
    await bobA.send_raw("{not json")
    ev = await event(bobA, lambda f: f["type"] == "error")
    C.check("§21 malformed JSON -> malformed_frame without id", ev is not None
            and ev.get("code") == "malformed_frame" and not ev.get("id"), ev)
    r = await bobA.request({"type": "frobnicate"}, raise_error=False)
    C.eq("§21 unknown type -> unknown_type with the frame's id", r.get("code"), "unknown_type")
    r = await bobA.request({"type": "welcome", "user": "bob"}, raise_error=False)
    C.eq("§21 a server frame sent by a client -> unknown_type", r.get("code"), "unknown_type")
    r = await bobA.request({"type": "send", "channel": team, "body": "x"}, raise_error=False)
    C.eq("§21 missing required field -> missing_field", r.get("code"), "missing_field")
    r = await bobA.request({"type": "send", "channel": team, "client_id": "c-x", "body": 42}, raise_error=False)
    C.eq("§21 wrong JSON type -> wrong_type", r.get("code"), "wrong_type")
    r = await bobA.request({"type": "history", "channel": team, "limit": 1.0}, raise_error=False)
    C.eq("§21 1.0 for an integer -> wrong_type", r.get("code"), "wrong_type")
    r = await bobA.request({"type": "history", "channel": team, "before": -1}, raise_error=False)
    C.eq("§21 negative unsigned -> out_of_range", r.get("code"), "out_of_range")
    r = await bobA.request({"type": "send", "channel": "bad channel", "client_id": "c-y", "body": "x"},
                           raise_error=False)
    C.eq("§11 id with a space -> out_of_range", r.get("code"), "out_of_range")
    r = await bobA.request({"type": "send", "channel": team, "client_id": "c-z",
                            "body": "x" * 16385}, raise_error=False)
    C.eq("§21 body over max_body_bytes -> body_too_large", r.get("code"), "body_too_large")
    r = await bobA.request({"type": "send", "channel": team, "client_id": cp.new_client_id("u"),
                            "body": "future", "zzz_new_field": {"a": [1]}}, raise_error=False)
    C.eq("§3 unknown fields are ignored", r.get("type"), "sent")
    rid = bobA.next_id()
    fut = bobA.expect_reply(rid, "send")
    await bobA.send_raw(f'{{"type":"send","id":{rid},"channel":"{team}","client_id":"{cp.new_client_id("n")}",'
                        '"body":"nulls","reply_to":null,"mentions":null,"metadata":null}')
    r = await bobA.await_reply(rid, fut, raise_error=False)
    C.eq("§3 null optional fields mean the default", r.get("type"), "sent")
    r = await bobA.request({"type": "members_list", "channel": team, "after": ""}, raise_error=False)
    C.eq("§3 an optional id sent as \"\" -> out_of_range", r.get("code"), "out_of_range")
    rid = bobA.next_id()
    fut = bobA.expect_reply(rid, "ping")
    from websockets.frames import OP_TEXT  # a text frame with raw non-UTF-8 bytes
    await bobA.ws.write_frame(True, OP_TEXT, b'{"type":"ping","id":%d,"x":"\xc0\xaf"}' % rid)
    r = await bobA.await_reply(rid, fut, raise_error=False)
    C.eq("§21 overlong UTF-8 in a frame -> invalid_utf8 (connection survives)", r.get("code"), "invalid_utf8")
    # §4.2/§22: a second hello gets invalid_state (a wire code too), the session carries on.
    r = await bobA.request({"type": "hello", "token": srv.token("alice"), "protocol": 1}, raise_error=False)
    C.check("§4.2/§22 a second hello -> error invalid_state with its id",
            r.get("type") == "error" and r.get("code") == "invalid_state" and r.get("id"), r)
    p = await bobA.ping()
    C.check("§4.2 ...and the connection stays open, still bob's session",
            p["type"] == "pong" and bobA.close_code is None
            and (await bobA.history(team, limit=1))["type"] == "history_page", p)
    bobA.clear_events()
    await bobA.send_raw(b"\x00binary")
    ev = await event(bobA, lambda f: f["type"] == "error")
    C.check("§2.1/§21 a binary message -> malformed_frame without id, connection open",
            ev is not None and ev.get("code") == "malformed_frame" and not ev.get("id")
            and bobA.close_code is None, ev)
    # json.dumps cannot repeat a key, so this one is written by hand.
    rid = bobA.next_id()
    fut = bobA.expect_reply(rid, "ping")
    await bobA.send_raw(f'{{"type":"ping","id":{rid},"id":{rid}}}')
    r = await bobA.await_reply(rid, fut, raise_error=False)
    C.eq("§3 repeated key -> malformed_frame (id still found)", r.get("code"), "malformed_frame")
    deep = {"type": "send", "channel": team, "client_id": "c-deep", "body": "x", "metadata": {}}
    node = deep["metadata"]
    for _ in range(16):
        node["a"] = {}
        node = node["a"]
    r = await bobA.request(deep, raise_error=False)
    C.eq("§3 nesting deeper than 16 -> too_deep", r.get("code"), "too_deep")
    bobA.clear_events()
    await bobA.send_raw(json.dumps({"type": "ping", "id": 4242, "pad": "x" * 70000}))
    ev = await event(bobA, lambda f: f["type"] == "error")
    C.check("§2.3 message over 64 KiB -> frame_too_large without id", ev is not None
            and ev.get("code") == "frame_too_large" and not ev.get("id"), ev)
    # A batch with a bad frame in the middle: the rest is still processed (§2.2).
    i1, i2 = bobA.next_id(), bobA.next_id()
    f1, f2 = bobA.expect_reply(i1, "ping"), bobA.expect_reply(i2, "ping")
    await bobA.send_raw(f'{{"type":"ping","id":{i1}}}\n{{oops\n{{"type":"ping","id":{i2}}}')
    r1 = await bobA.await_reply(i1, f1, raise_error=False)
    r2 = await bobA.await_reply(i2, f2, raise_error=False)
    C.check("§2.2 bad frame inside a batch: neighbours still answered",
            r1["type"] == "pong" and r2["type"] == "pong", (r1, r2))
    p = await bobA.ping()
    C.check("§21 connection survives bad input", p["type"] == "pong" and bobA.close_code is None)

    # §21: 50 unreadable frames in a row close with 4004; a good frame in between resets the run.
    junk = cp.Connection(srv.url)
    await junk.open()
    await junk.hello(srv.token("carol"), heartbeat=False)
    await junk.send_raw("\n".join(["{x"] * 49 + ['{"type":"ping","id":1}', "{x"]))
    got = await junk.drain(0.5)
    C.check("§21 49 bad + 1 good + 1 bad: 50 errors, a pong, still open",
            [f["type"] for f in got].count("error") == 50 and any(f["type"] == "pong" for f in got)
            and not junk.closed.is_set(), [f["type"] for f in got][-3:])
    await junk.send_raw("\n".join(["{x"] * 50))
    try:
        cc = await junk.wait_closed(3)
    except asyncio.TimeoutError:
        cc = "still open"
    C.eq("§21/§23 50 bad frames in a row -> close 4004", cc, 4004)
    await junk.close()

    # §20: frames per connection, burst 400: the excess gets rate_limited (with its id and
    # retry_after_ms) and the connection stays; 200 rejections within 10 s close it with 4008.
    flood = await connect(srv, "carol", "flood", heartbeat=False)
    await flood.send_raw("\n".join(cp.encode_frame({"type": "ping", "id": 1000 + i}) for i in range(500)))
    got = await flood.drain(0.5)
    pongs = [f for f in got if f["type"] == "pong"]
    limited = [f for f in got if f.get("code") == "rate_limited"]
    C.check("§20 500 frames at once: ~400 answered, the rest rate_limited with id and retry_after_ms",
            395 <= len(pongs) < 500 and len(pongs) + len(limited) == 500  # hello used one token
            and all(f.get("id", 0) >= 1000 and f.get("retry_after_ms", 0) > 0 for f in limited)
            and not flood.closed.is_set(), (len(pongs), len(limited), flood.close_code))
    await flood.send_raw("\n".join(cp.encode_frame({"type": "ping", "id": 2000 + i}) for i in range(300)))
    try:
        cc = await flood.wait_closed(3)
    except asyncio.TimeoutError:
        cc = "still open"
    C.eq("§20 persistent flooding (200 rejected frames within 10 s) -> close 4008", cc, 4008)
    await flood.close()

    # --- unauthenticated frames and bad tokens (§4.2) -------------------------------------------
    raw = cp.Connection(srv.url)
    await raw.open()
    r = await raw.request({"type": "ping"}, raise_error=False)
    C.check("§4.2 frame before hello -> unauthenticated with its id",
            r.get("type") == "error" and r.get("code") == "unauthenticated" and r.get("id") == 1, r)
    r = await raw.request({"type": "frobnicate"}, raise_error=False)
    C.eq("§4.2/§21 undecodable frame before hello -> its decoding error, not unauthenticated",
         r.get("code"), "unknown_type")
    w = await raw.hello(srv.token("carol"), heartbeat=False)
    C.check("§4.2 connection stays open after unauthenticated; hello then works",
            w.get("type") == "welcome" and w.get("user") == "carol", w)
    await raw.close()

    async def refused(name: str, token: str, code: str, close: int, protocol: int = 1) -> None:
        conn = cp.Connection(srv.url)
        await conn.open()
        try:
            await conn.hello(token, protocol=protocol, heartbeat=False)
            C.check(name, False, "hello accepted")
        except cp.ChatError as ex:
            C.eq(f"{name}: error code", ex.code, code)
            try:
                cc = await conn.wait_closed(3)
            except asyncio.TimeoutError:
                cc = "not closed"
            C.eq(f"{name}: close code", cc, close)
        except cp.ConnectionLost as ex:
            C.check(name, False, f"closed without an error frame: {ex}")
        finally:
            await conn.close()

    now = int(time.time())
    await refused("§4.2 bad signature", cp.user_token("wrong-secret", "alice"), "auth_failed", 4001)
    await refused("§4.1 alg none", cp.mint_token(srv.secret, {"sub": "alice", "exp": now + 600}, alg="none"),
                  "auth_failed", 4001)
    await refused("§4.1 missing exp", cp.mint_token(srv.secret, {"sub": "alice"}), "auth_failed", 4001)
    await refused("§4.2 expired token", cp.mint_token(srv.secret, {"sub": "alice", "exp": now - 120}),
                  "token_expired", 4003)
    await refused("§4.2 nbf in the future", cp.mint_token(srv.secret, {"sub": "alice", "exp": now + 600,
                                                                        "nbf": now + 300}),
                  "token_not_yet_valid", 4003)
    await refused("§4.2 protocol 2", srv.token("alice"), "unsupported_protocol", 4005, protocol=2)

    # §4.3 auth_refresh
    ok = await alice.auth_refresh(srv.token("alice", ttl_s=7200))
    C.eq("§4.3 auth_refresh same sub -> ok", ok.get("type"), "ok")
    await expect_error("§4.3 auth_refresh for another user -> auth_failed",
                       alice.auth_refresh(srv.token("bob")), "auth_failed")
    p = await alice.ping()
    C.check("§4.3 session stays authenticated after a refused refresh", p["type"] == "pong")

    # profiles (§7)
    await alice.profile_set(display_name="Alice Liddell")
    pr = await bobA.profiles_get(["alice"])
    C.check("§7 profile_set/profiles_get", (pr.get("users") or [{}])[0].get("display_name") == "Alice Liddell", pr)

    C.eq("§5 heartbeat loop never saw an overdue pong", alice.heartbeat_failures + bobA.heartbeat_failures, 0)
    await too_far_behind(srv, run, alice, bobA)
    await rate_limits(run, bobA)
    try:
        cc = await silent.wait_closed(max(0.5, 13 - (time.monotonic() - silent_opened)))
    except asyncio.TimeoutError:
        cc = "still open"
    waited = (silent.closed_at or time.monotonic()) - silent_opened
    C.check("§4.2 no hello within the handshake timeout (10 s) -> close 4002",
            cc == 4002 and 8.5 <= waited <= 12.5, (cc, round(waited, 1), [f["type"] for f in await silent.drain(0.05)]))
    await silent.close()
    try:
        cc = await expiring.wait_closed(max(0.5, 9 - (time.monotonic() - silent_opened)))
    except asyncio.TimeoutError:
        cc = "still open"
    C.eq("§4.4 a session whose token expired (plus leeway) is closed with 4003", cc, 4003)
    early = [f for f in await expiring.drain(0.05)]
    C.check("§4.4 ...but not before exp + leeway",
            expiring.closed.is_set() and (expiring.closed_at or 0) >= expiring_deadline - 1.0,
            {"closed_s_before_deadline": round(expiring_deadline - (expiring.closed_at or 0), 1),
             "frames": early})
    await expiring.close()
    await alice.close()
    await bobA.close()
    await bobB.close()


async def pipelined(conn: cp.Connection, frames: list[dict]) -> list[dict]:
    """Send many requests in one batched WebSocket message and collect every reply."""
    ids = [conn.next_id() for _ in frames]
    futs = [conn.expect_reply(i, f["type"]) for i, f in zip(ids, frames)]
    await conn.send_frames([{**f, "id": i} for f, i in zip(frames, ids)])
    return [await conn.await_reply(i, fu, timeout=20, raise_error=False) for i, fu in zip(ids, futs)]


async def rate_limits(run: str, bob: cp.Connection) -> None:
    """§20: sends beyond the per-user burst get rate_limited with retry_after_ms and were not
    applied; resending them with the same client_id after the delay fills the timeline once."""
    ch = f"rl-{run}"
    await bob.channel_create("group", channel=ch)
    frames = [{"type": "send", "channel": ch, "client_id": cp.new_client_id("rl"), "body": f"n{i}"}
              for i in range(130)]
    replies = await pipelined(bob, frames)
    ok = [r for r in replies if r["type"] == "sent"]
    limited = [(f, r) for f, r in zip(frames, replies) if r.get("code") == "rate_limited"]
    C.check("§20 a burst of 130 sends: some rate_limited with retry_after_ms, the rest sent",
            limited and ok and len(ok) + len(limited) == 130
            and all((r.get("retry_after_ms") or 0) > 0 for _, r in limited), (len(ok), len(limited)))
    C.eq("§20 rate-limited sends were not applied: sent seqs are 1..k", [r["seq"] for r in ok],
         list(range(1, len(ok) + 1)))
    for f, r in limited:
        for _ in range(50):
            await asyncio.sleep((r.get("retry_after_ms") or 50) / 1000.0)
            r = await bob.send_message(ch, f["body"], client_id=f["client_id"], raise_error=False)
            if r.get("code") != "rate_limited":
                break
        if r["type"] != "sent":
            C.check("§20 resend after retry_after_ms is applied", False, r)
            return
        ok.append(r)
    C.eq("§20/§13 after resends every send has exactly one seq, 1..130 gapless",
         sorted(r["seq"] for r in ok), list(range(1, 131)))
    h = await bob.history(ch, limit=500)
    C.check("§20 the timeline holds each message once",
            [m["body"] for m in h.get("messages", [])] == [f"n{i}" for i in range(len(ok) - len(limited))]
            + [f["body"] for f, _ in limited], len(h.get("messages", [])))


async def too_far_behind(srv: Server, run: str, alice: cp.Connection, bob: cp.Connection) -> None:
    """§14: a cursor more than 1000 changes behind gets the newest page, not a delta."""
    big = f"big-{run}"
    await alice.channel_create("group", channel=big, members=["bob"])
    st = cp.ClientState("bob")
    st.ch(big)
    await cp.sync_all(bob, st)
    old_cursor = st.ch(big).cursor
    sends = await pipelined(alice, [{"type": "send", "channel": big, "client_id": cp.new_client_id("b"),
                                     "body": f"bulk {i}"} for i in range(60)])
    C.eq("§12 60 pipelined sends get seqs 1..60 in request order",
         [r.get("seq") for r in sends], list(range(1, 61)))
    # 4 extra sessions of alice (the frame budget is per connection, §20) toggle reactions.
    extra = [await cp.connect(srv.url, srv.token("alice"), heartbeat=False) for _ in range(4)]
    jobs = []
    for k, conn in enumerate(extra):
        frames = [{"type": "react", "channel": big, "seq": k + 1, "client_id": cp.new_client_id("t"),
                   "emoji": f":t{k}:", "action": "add" if i % 2 == 0 else "remove"} for i in range(238)]
        jobs.append(pipelined(conn, frames))
    results = [r for rs in await asyncio.gather(*jobs) for r in rs]
    C.check("§7 952 reaction toggles all ok with a version",
            all(r["type"] == "ok" and r.get("version") for r in results),
            [r for r in results if r["type"] != "ok"][:3])
    for conn in extra:
        await conn.close()
    await asyncio.sleep(0.2)
    C.check("§2.2 under a burst of ~1000 events the server coalesced frames into batched messages",
            bob.batched_messages > 0, (bob.batched_messages, bob.frames_received))
    head = max([r.get("version", 0) for r in results] + [s.get("version", 0) for s in sends])
    C.check("§14 the channel is more than 1000 changes past bob's cursor", head - old_cursor > 1000,
            (old_cursor, head))
    r = await bob.request({"type": "sync", "channels": st.cursors()}, timeout=10)
    e = sync_entry(r, big) or {}
    page = [m["seq"] for m in e.get("messages") or []]
    C.check("§14 too_far_behind: info, newest page of 50 ascending, version = head",
            e.get("status") == "too_far_behind" and e.get("info", {}).get("channel") == big
            and page == list(range(11, 61)) and e.get("version") == head and e.get("last_seq") == 60,
            {k: v for k, v in e.items() if k != "messages"} | {"page": page[:3] + ["..."] + page[-2:]})
    C.check("§14 too_far_behind carries the members of a small channel",
            sorted(m["user"] for m in e.get("members") or []) == ["alice", "bob"], e.get("members"))
    st.apply_sync_entry(e)
    C.eq("§14 cursor after too_far_behind = head", st.ch(big).cursor, head)
    h = await bob.history(big, before=11, limit=50)
    C.check("§15 the gap below the page fills with history{before: first seq}",
            [m["seq"] for m in h.get("messages", [])] == list(range(1, 11)) and not h.get("more_before"), h)


async def heartbeat_scenario(srv: Server) -> None:
    """§5 against a second server announcing heartbeat_ms 800: a client that pings as told stays
    connected past 2.5 heartbeats, a silent one is closed with 4010."""
    pinging = await connect(srv, "hank", "hb-1")
    silent = await connect(srv, "hank", "hb-2", heartbeat=False)
    C.eq("§8 welcome announces the configured heartbeat_ms", (pinging.welcome or {}).get("heartbeat_ms"), 800)
    t0 = time.monotonic()
    try:
        cc = await silent.wait_closed(5)
    except asyncio.TimeoutError:
        cc = "still open"
    waited = (silent.closed_at or time.monotonic()) - t0
    C.check("§5 no frame for 2.5 x heartbeat_ms -> close 4010", cc == 4010 and 1.5 <= waited <= 3.5,
            (cc, round(waited, 2)))
    await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - t0)))
    C.check("§5 a client pinging every heartbeat_ms stays connected",
            not pinging.closed.is_set() and pinging.pongs_received >= 2, (pinging.close_code, pinging.pongs_received))
    await pinging.close()
    await silent.close()


async def main_async(srv: Server, srv_hb: Server) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(scenario(srv), heartbeat_scenario(srv_hb)),
                               OVERALL_TIMEOUT_S - 10)
    except asyncio.TimeoutError:
        C.check("scenario finished within the time limit", False, "timeout")
    except Exception as ex:
        C.check("scenario ran without an unexpected exception", False,
                f"{type(ex).__name__}: {ex}\n{traceback.format_exc()}")


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: test_spec_client.py <chatsdk-server binary>", file=sys.stderr)
        return 2
    offline_checks()
    srv = Server(sys.argv[1])
    srv_hb = Server(sys.argv[1], ("--heartbeat-ms", "800"))

    def on_alarm(*_):
        raise TimeoutError("overall timeout")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(OVERALL_TIMEOUT_S)
    try:
        srv.start()
        srv_hb.start()
        if C.check("server answers GET /healthz 200", srv.wait_healthy() and srv_hb.wait_healthy()):
            asyncio.run(main_async(srv, srv_hb))
        else:
            print(srv.tail_log(), file=sys.stderr)
    except TimeoutError:
        C.check("overall timeout", False, f"{OVERALL_TIMEOUT_S}s")
    finally:
        signal.alarm(0)
        srv.stop()
        srv_hb.stop()
        if C.failed:
            print("--- server log tail ---", file=sys.stderr)
            print(srv.tail_log(), file=sys.stderr)
        shutil.rmtree(srv.data, ignore_errors=True)
        shutil.rmtree(srv_hb.data, ignore_errors=True)
    print(f"{C.passed} passed, {C.failed} failed")
    return 0 if C.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
