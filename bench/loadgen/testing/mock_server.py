#!/usr/bin/python3
"""A small in-memory chatsdk protocol v1 server for testing chatsdk-bench itself.

It implements exactly the subset the load generator uses (hello with a JWT HS256,
channel_create, join, send with idempotent retries and fan-out to the other
sessions, history after a seq, ping) with the semantics of SEMANTICS.md, but
no persistence. It is a fixture for the generator's tests, not a benchmark
target: its numbers mean nothing.

    /usr/bin/python3 mock_server.py --port 8099 --secret S
"""
import argparse, asyncio, base64, hashlib, hmac, json, time

import websockets

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=8099)
ap.add_argument("--secret", default="chatsdk-bench-secret")
args = ap.parse_args()

channels = {}   # name -> {"members": set(users), "msgs": [dict], "keys": {(sender, client_id): seq}}
sessions = {}   # user -> set(websocket)


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify(token):
    try:
        h, p, s = token.split(".")
        mac = hmac.new(args.secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, b64d(s)):
            return None
        claims = json.loads(b64d(p))
        if claims.get("exp", 0) < time.time():
            return None
        return claims.get("sub")
    except Exception:
        return None


async def push(ws, text):
    # a receiver may be gone (the storm drops connections without a close frame)
    try:
        await ws.send(text)
    except websockets.ConnectionClosed:
        pass


def info(name, ch):
    return {"channel": name, "kind": ch["kind"], "public": True, "member_count": len(ch["members"]),
            "last_seq": len(ch["msgs"])}


async def handler(ws, path=None):
    user = None
    out = []

    def reply(obj):
        out.append(json.dumps(obj, separators=(",", ":")))

    try:
        async for raw in ws:
            for line in raw.split("\n"):
                if not line:
                    continue
                f = json.loads(line)
                t, rid = f.get("type"), f.get("id", 0)
                if user is None:
                    if t != "hello":
                        reply({"type": "error", "id": rid, "code": "unauthenticated"})
                        continue
                    user = verify(f.get("token", ""))
                    if user is None:
                        await ws.send(json.dumps({"type": "error", "id": rid, "code": "auth_failed"}))
                        await ws.close(4001)
                        return
                    sessions.setdefault(user, set()).add(ws)
                    reply({"type": "welcome", "id": rid, "user": user, "session": str(id(ws)), "protocol": 1,
                           "server_time": int(time.time() * 1000), "heartbeat_ms": 25000, "limits": {}})
                elif t == "ping":
                    reply({"type": "pong", "id": rid, "server_time": int(time.time() * 1000)})
                elif t == "channel_create":
                    name = f["channel"]
                    if name in channels:
                        reply({"type": "error", "id": rid, "code": "already_exists"})
                        continue
                    channels[name] = {"members": {user}, "msgs": [], "keys": {}, "kind": f.get("kind", "group")}
                    reply({"type": "channel", "id": rid, "info": info(name, channels[name])})
                elif t == "join":
                    ch = channels.get(f["channel"])
                    if ch is None:
                        reply({"type": "error", "id": rid, "code": "not_found"})
                        continue
                    ch["members"].add(user)
                    reply({"type": "channel", "id": rid, "info": info(f["channel"], ch)})
                elif t == "send":
                    name = f["channel"]
                    ch = channels.get(name)
                    if ch is None:
                        reply({"type": "error", "id": rid, "code": "not_found"})
                        continue
                    if user not in ch["members"]:
                        reply({"type": "error", "id": rid, "code": "not_member"})
                        continue
                    key = (user, f["client_id"])
                    if key in ch["keys"]:
                        reply({"type": "already_applied", "id": rid, "channel": name, "client_id": f["client_id"],
                               "seq": ch["keys"][key]})
                        continue
                    seq = len(ch["msgs"]) + 1
                    now = int(time.time() * 1000)
                    m = {"channel": name, "seq": seq, "version": seq, "sender": user, "client_id": f["client_id"],
                         "body": f["body"], "created_at": now}
                    if "metadata" in f:
                        m["metadata"] = f["metadata"]
                    ch["msgs"].append(m)
                    ch["keys"][key] = seq
                    reply({"type": "sent", "id": rid, "channel": name, "client_id": f["client_id"], "seq": seq,
                           "version": seq, "created_at": now})
                    ev = json.dumps({"type": "message", "change": "created", "actor": user, "message": m},
                                    separators=(",", ":"))
                    for member in ch["members"]:
                        for s in sessions.get(member, ()):
                            if s is not ws:
                                asyncio.ensure_future(push(s, ev))
                elif t == "history":
                    ch = channels.get(f["channel"])
                    if ch is None or user not in ch["members"]:
                        reply({"type": "error", "id": rid, "code": "not_member"})
                        continue
                    after, limit = f.get("after", 0), min(f.get("limit", 50) or 50, 500)
                    page = ch["msgs"][after:after + limit]
                    reply({"type": "history_page", "id": rid, "channel": f["channel"], "messages": page,
                           "more_after": after + limit < len(ch["msgs"])})
                else:
                    reply({"type": "error", "id": rid, "code": "unknown_type"})
            if out:
                await ws.send("\n".join(out))  # several frames in one message, as the real server batches
                out.clear()
    except websockets.ConnectionClosed:
        pass
    finally:
        if user is not None:
            sessions.get(user, set()).discard(ws)


async def main():
    async with websockets.serve(handler, "127.0.0.1", args.port, subprotocols=["chatsdk.v1"], max_queue=None,
                                ping_interval=None, backlog=4096):
        await asyncio.Future()

asyncio.run(main())
