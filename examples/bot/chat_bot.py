#!/usr/bin/python3
"""A chat bot on the Python wrapper: joins a channel and answers commands.

    !ping          -> pong
    !time          -> the server-independent UTC time of the bot's machine
    !echo <text>   -> <text>
    !help          -> the command list

It mints its own token from the server's JWT secret (HS256 with hmac/hashlib,
exactly what your app backend does), so it needs the secret, not a login:

    CHATSDK_JWT_SECRET=... /usr/bin/python3 examples/bot/chat_bot.py \\
        --url ws://127.0.0.1:8080/ws --user bot --channel lobby --create

Joining: the C++ client has no "join a public channel" call yet, so the bot
works in channels it is a member of. With --create it creates the channel
(public) when it does not exist yet; otherwise a member must invite it.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
from typing import Callable, Dict, Optional, Set

import chatsdk


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(secret: str, user: str, ttl_s: int = 3600, now: Optional[int] = None) -> str:
    """An HS256 JWT for `user`, as the server expects: {"sub","iat","exp"},
    signed with HMAC-SHA256 over "base64url(header).base64url(payload)"."""
    now = int(time.time()) if now is None else now
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps({"sub": user, "iat": now, "exp": now + ttl_s}, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def answer(body: str) -> Optional[str]:
    """The bot's reply to a message body, or None when it is not a command."""
    if not body.startswith("!"):
        return None
    cmd, _, arg = body[1:].partition(" ")
    cmd = cmd.strip().lower()
    commands: Dict[str, Callable[[str], str]] = {
        "ping": lambda _a: "pong",
        "time": lambda _a: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "echo": lambda a: a if a else "(nothing to echo)",
        "help": lambda _a: "commands: !ping, !time, !echo <text>, !help",
    }
    fn = commands.get(cmd)
    return fn(arg.strip()) if fn else f"unknown command !{cmd} (try !help)"


class Bot:
    def __init__(self, client: chatsdk.Client, user: str, channel: str, log=print):
        self.client = client
        self.user = user
        self.channel = channel
        self.log = log
        self.answered: Set[int] = set()  # seqs already answered (diffs may repeat a row)
        self.start_seq = 0               # answer only messages newer than this

    def join(self, create: bool, timeout: float = 15.0) -> None:
        """Waits until live, makes sure the bot is a member, opens the timeline."""
        c = self.client
        c.connect()
        c.wait_for(lambda e: e.type == "connection" and e.state == "live", timeout=timeout)
        if not any(ch["id"] == self.channel for ch in c.channels()):
            if not create:
                raise SystemExit(f"not a member of {self.channel}: ask a member to invite '{self.user}'")
            op = c.create_group(self.channel, self.channel, [], public=True, tag=1)
            ev = c.wait_for(lambda e: e.type == "op" and e.op["id"] == op and e.op["state"] in ("sent", "failed"),
                            timeout=timeout)
            if ev.op["state"] == "failed":
                raise SystemExit(f"cannot create {self.channel}: {ev.op['failure']}")
        info = next((ch for ch in c.channels() if ch["id"] == self.channel), None)
        self.start_seq = info["last_seq"] if info else 0
        c.open_timeline(self.channel)
        self.log(f"bot '{self.user}' is in '{self.channel}' (answering after seq {self.start_seq})")

    def handle(self, ev: chatsdk.Event) -> None:
        if ev.type != "timeline_diff" or ev.channel != self.channel:
            return
        for m in ev.messages():
            seq = m["seq"]
            if seq == 0 or seq <= self.start_seq or m["sender"] == self.user or m["deleted"]:
                continue
            if seq in self.answered:
                continue
            reply = answer(m["body"])
            if reply is None:
                continue
            self.answered.add(seq)
            self.client.reply(self.channel, seq, reply, tag=seq)
            self.log(f"{m['sender']}: {m['body']!r} -> {reply!r}")

    def run(self, duration: Optional[float] = None) -> None:
        for ev in self.client.events(timeout=duration):
            self.handle(ev)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    p.add_argument("--secret", default=os.environ.get("CHATSDK_JWT_SECRET"),
                   help="the server's JWT secret (default: $CHATSDK_JWT_SECRET)")
    p.add_argument("--user", default="bot")
    p.add_argument("--channel", default="lobby")
    p.add_argument("--create", action="store_true", help="create the channel if it does not exist")
    p.add_argument("--db", default=None, help="cache file (default: bot-<user>.db)")
    p.add_argument("--duration", type=float, default=None, help="exit after this many seconds")
    args = p.parse_args(argv)
    if not args.secret:
        p.error("no secret: pass --secret or set CHATSDK_JWT_SECRET")

    # A fresh token whenever the client asks (connect, expiry): minted locally.
    provider = lambda: mint_token(args.secret, args.user, ttl_s=3600)  # noqa: E731
    with chatsdk.Client(args.url, args.db or f"bot-{args.user}.db", token_provider=provider,
                        device_id="bot") as client:
        bot = Bot(client, args.user, args.channel, log=lambda s: print(s, flush=True))
        bot.join(create=args.create)
        try:
            bot.run(args.duration)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
