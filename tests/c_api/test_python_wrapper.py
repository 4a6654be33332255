"""The Python wrapper (ctypes over libchatsdk_c) against the real server:
two users chat, tags come back on their events, edits/reactions/reads flow,
errors map to exceptions, history pages load, asyncio helper works."""

import asyncio
import threading
import time
import unittest

import chatsdk
from chat_bot import mint_token
from server_fixture import Server


def live(e):
    return e.type == "connection" and e.state == "live"


class WrapperTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def client(self, user, **kw):
        s = self.server
        c = chatsdk.Client(s.url, s.db(f"{user}-{self.id().split('.')[-1]}"),
                           token=mint_token(s.secret, user), **kw)
        self.addCleanup(c.close)
        return c

    def connected(self, user, **kw):
        c = self.client(user, **kw)
        c.connect()
        c.wait_for(live, timeout=10)
        self.assertEqual(c.state, "live")
        self.assertEqual(c.user_id, user)
        return c

    def op_done(self, c, op, states=("sent",), timeout=10):
        return c.wait_for(lambda e: e.type == "op" and e.op["id"] == op and e.op["state"] in states + ("failed",),
                          timeout=timeout)

    def test_errors_are_exceptions(self):
        c = self.client("erin")
        with self.assertRaises(chatsdk.InvalidArgumentError) as cm:
            c.edit("general", "x")  # names no message
        self.assertEqual(cm.exception.status, 2)
        self.assertFalse(cm.exception.retryable)
        self.assertIn("seq", cm.exception.detail)
        with self.assertRaises(chatsdk.NotConnectedError):
            c.query_presence(["bob"])
        c.close()
        with self.assertRaises(chatsdk.MisuseError):
            c.poll(0)
        with self.assertRaises(chatsdk.InvalidArgumentError):
            chatsdk.Client("http://nowhere", ":memory:", token="x")

    def test_two_users_chat_with_tags(self):
        alice = self.connected("alice")
        bob = self.connected("bob")
        op = alice.create_group("room1", "Room 1", ["bob"], tag=11)
        ev = self.op_done(alice, op)
        self.assertEqual(ev.tag, 11)
        self.assertEqual(ev.op["state"], "sent")
        bob.wait_for(lambda e: e.type == "channel_list_diff" and any(
            it.get("key") == "room1" for o in e.ops for it in o["items"]), timeout=10)
        alice.open_timeline("room1")
        bob.open_timeline("room1")

        op = alice.send_text("room1", "hello bob", tag=21)
        ev = self.op_done(alice, op)
        self.assertEqual(ev.tag, 21)
        seq = ev.op["seq"]
        self.assertGreater(seq, 0)
        got = bob.wait_for(lambda e: any(m["body"] == "hello bob" and m["seq"] == seq for m in e.messages()))
        self.assertEqual(got.channel, "room1")
        self.assertEqual(got.messages()[-1]["sender"], "alice")

        # reply, react, edit, mark read
        r = bob.reply("room1", seq, "hi alice", tag=31)
        self.assertEqual(self.op_done(bob, r).tag, 31)
        alice.wait_for(lambda e: any(m["body"] == "hi alice" and m["reply_to"] == seq for m in e.messages()))
        self.op_done(bob, bob.react("room1", "👍", seq=seq, tag=32))
        alice.wait_for(lambda e: any(m["seq"] == seq and any(x["emoji"] == "👍" for x in m["reactions"])
                                     for m in e.messages()))
        self.op_done(alice, alice.edit("room1", "hello bob (edited)", seq=seq, tag=33))
        bob.wait_for(lambda e: any(m["seq"] == seq and m["body"] == "hello bob (edited)" and m["edited_at"] > 0
                                   for m in e.messages()))
        self.op_done(bob, bob.mark_read("room1", tag=34))
        self.assertEqual(next(ch for ch in bob.channels() if ch["id"] == "room1")["unread"], 0)
        self.assertTrue(any(m["body"] == "hi alice" for m in alice.messages("room1")))
        self.assertEqual({m["user"] for m in alice.members("room1")}, {"alice", "bob"})

        # delete by client_id of a local echo, before or after it was sent
        op = alice.send_text("room1", "oops")
        cid = next(o for o in alice.pending_ops() if o["id"] == op)["client_id"]
        self.op_done(alice, alice.delete("room1", client_id=cid, tag=35))
        bob.wait_for(lambda e: any(m["client_id"] == cid and m["deleted"] for m in e.messages()))

        # presence and profiles come back with their tags
        alice.fetch_profiles(["bob"], tag=41)
        ev = alice.wait_for(lambda e: e.type == "profiles")
        self.assertEqual(ev.tag, 41)
        self.assertEqual(ev.users[0]["id"], "bob")
        alice.query_presence(["bob"], tag=42)
        ev = alice.wait_for(lambda e: e.type == "presence" and e.user == "bob")
        self.assertEqual(ev.tag, 42)
        self.assertTrue(ev.online)

    def test_join_public_channel(self):
        alice = self.connected("alice")
        carol = self.connected("carol")
        self.op_done(alice, alice.create_group("plaza", "Plaza", [], public=True))
        self.op_done(alice, alice.create_group("backroom", "Backroom", []))
        # A private channel refuses the join: the op fails, permanently.
        ev = self.op_done(carol, carol.join("backroom", tag=51))
        self.assertEqual(ev.tag, 51)
        self.assertEqual(ev.op["state"], "failed")
        # A public one takes it; carol then chats there.
        ev = self.op_done(carol, carol.join("plaza", tag=52))
        self.assertEqual(ev.op["state"], "sent")
        carol.wait_for(lambda e: e.type == "channel_list_diff" and any(
            it.get("key") == "plaza" for o in e.ops for it in o["items"]), timeout=10)
        alice.open_timeline("plaza")
        self.op_done(carol, carol.send_text("plaza", "hi from carol"))
        alice.wait_for(lambda e: any(m["body"] == "hi from carol" for m in e.messages()))

    def until(self, clients, cond, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for c in clients:
                c.poll(10)
                while c.next_event() is not None:
                    pass
            if cond():
                return
        self.fail("condition not reached")

    def test_channel_admin_calls(self):
        # Offline: list_members is a live query, not queued.
        with self.assertRaises(chatsdk.NotConnectedError):
            self.client("alice").list_members("adm")
        alice = self.connected("alice")
        bob = self.connected("bob")
        self.op_done(alice, alice.create_group("adm", "Adm", ["bob"]))
        bob.wait_for(lambda e: e.type == "channel_list_diff" and any(
            it.get("key") == "adm" for o in e.ops for it in o["items"]), timeout=10)

        # update_channel: the owner's op is sent, bob sees the new name.
        ev = self.op_done(alice, alice.update_channel("adm", name="Admin room", public=True,
                                                      metadata='{"topic":"ops"}', tag=61))
        self.assertEqual(ev.tag, 61)
        self.assertEqual(ev.op["kind"], "channel_update")
        self.assertEqual(ev.op["state"], "sent")

        def bob_channel():
            return next((ch for ch in bob.channels() if ch["id"] == "adm"), {})
        self.until([alice, bob], lambda: bob_channel().get("name") == "Admin room")
        self.assertTrue(bob_channel()["is_public"])
        # A plain member is refused: a failed op.
        ev = self.op_done(bob, bob.update_channel("adm", name="Bob's", tag=62))
        self.assertEqual(ev.tag, 62)
        self.assertEqual(ev.op["state"], "failed")
        self.assertEqual(ev.op["failure"]["code"], "permission_denied")
        bob.cancel(ev.op["id"])

        # set_role: bob becomes a moderator.
        ev = self.op_done(alice, alice.set_role("adm", "bob", "moderator", tag=63))
        self.assertEqual(ev.tag, 63)
        self.assertEqual(ev.op["kind"], "member_role")
        self.assertEqual(ev.op["state"], "sent")
        self.until([alice, bob], lambda: any(
            m["user"] == "bob" and m["role"] == "moderator" for m in bob.members("adm")))
        with self.assertRaises(ValueError):
            alice.set_role("adm", "bob", "king")

        # list_members: two pages of one, tags on the answers.
        bob.list_members("adm", limit=1, tag=64)
        page = bob.wait_for(lambda e: e.type == "members_page")
        self.assertEqual(page.tag, 64)
        self.assertEqual(page.channel, "adm")
        self.assertEqual([m["user"] for m in page.members], ["alice"])
        self.assertEqual(page.members[0]["role"], "owner")
        self.assertTrue(page.more)
        self.assertEqual(page.next_after, "alice")
        bob.list_members("adm", after=page.next_after, limit=1, tag=65)
        page = bob.wait_for(lambda e: e.type == "members_page")
        self.assertEqual(page.tag, 65)
        self.assertEqual([(m["user"], m["role"]) for m in page.members], [("bob", "moderator")])
        self.assertFalse(page.more)
        self.assertEqual(page.code, "ok")
        # A refused request is answered too, with its tag and the error.
        carol = self.connected("carol")
        carol.list_members("adm", tag=66)
        page = carol.wait_for(lambda e: e.type == "members_page")
        self.assertEqual(page.tag, 66)
        self.assertEqual(page.channel, "adm")
        self.assertEqual(page.code, "not_member")
        self.assertEqual(page.members, [])

    def test_history_paging(self):
        alice = self.connected("hana")
        self.op_done(alice, alice.create_group("hist", "History", []))
        for i in range(30):
            alice.send_text("hist", f"m{i}")
        alice.wait_for(lambda e: e.type == "op" and e.op["state"] == "sent" and e.op["channel"] == "hist"
                       and next((o for o in alice.pending_ops() if o["channel"] == "hist"), None) is None,
                       timeout=20)
        # A second device with a small page: its timeline fills page by page.
        other = self.client("hana", history_page=10)
        other.connect()
        other.wait_for(live)
        other.open_timeline("hist")
        other.load_older("hist", tag=77)
        ev = other.wait_for(lambda e: e.type == "history_loaded")
        self.assertEqual(ev.tag, 77)
        self.assertEqual(ev.channel, "hist")
        self.assertGreater(len(other.timeline("hist")), 0)

    def test_token_provider_and_recursion_guard(self):
        s = self.server
        calls = []

        def provider():
            calls.append(1)
            return mint_token(s.secret, "tina")

        c = chatsdk.Client(s.url, s.db("tina"), token_provider=provider)
        self.addCleanup(c.close)
        c.connect()
        c.wait_for(live, timeout=10)
        self.assertGreaterEqual(len(calls), 1)
        self.assertEqual(c.token_provider_errors, [])

        # A provider that calls back into the client gets MisuseError (the
        # library refuses re-entry instead of deadlocking).
        holder = {}

        def bad_provider():
            holder["c"].poll(0)

        c2 = chatsdk.Client(s.url, s.db("tina2"), token_provider=bad_provider)
        self.addCleanup(c2.close)
        holder["c"] = c2
        c2.connect()
        for _ in c2.events(timeout=1.0):
            if c2.token_provider_errors:
                break
        self.assertTrue(c2.token_provider_errors)
        self.assertIsInstance(c2.token_provider_errors[0], chatsdk.MisuseError)

    def test_offline_queue_and_cancel_retry(self):
        c = self.client("olga")
        op = c.send_text("nowhere", "queued while offline", tag=5)
        self.assertEqual([o["id"] for o in c.pending_ops()], [op])
        c.cancel(op)
        ev = c.wait_for(lambda e: e.type == "op" and e.op["id"] == op and e.op["state"] == "cancelled", timeout=2)
        self.assertEqual(ev.tag, 5)
        with self.assertRaises(chatsdk.ChatError):
            c.retry(op)
        # A send to a channel the user is not in fails; retry keeps it failing.
        c.connect()
        c.wait_for(live)
        op = c.send_text("nowhere", "x", tag=6)
        ev = self.op_done(c, op)
        self.assertEqual(ev.op["state"], "failed")
        self.assertEqual(ev.tag, 6)
        self.assertIn(ev.op["failure"]["code"], ("not_member", "not_found"))
        c.cancel(op)

    def test_suspend_resume_and_run_thread(self):
        c = self.connected("sam")
        c.suspend()
        c.wait_for(lambda e: e.type == "connection" and e.state == "disconnected")
        c.resume()
        c.wait_for(live)
        # The SDK's own thread drives the loop; events() just drains.
        c.run()
        with self.assertRaises(chatsdk.InvalidStateError):
            c.poll(0)
        op = c.create_group("samroom", "S", [], tag=9)
        self.assertEqual(self.op_done(c, op).tag, 9)
        woke = threading.Event()
        threading.Thread(target=lambda: (c.wakeup(), woke.set())).start()
        self.assertTrue(woke.wait(2))
        c.stop()

    def test_wakeup_interrupts_blocking_poll(self):
        c = self.client("walt")  # never connected: nothing else would end the wait
        c.poll(0)
        t0 = time.monotonic()
        c.poll(200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.15)  # a real wait...
        threading.Timer(0.1, c.wakeup).start()
        t0 = time.monotonic()
        c.poll(10000)
        self.assertLess(time.monotonic() - t0, 5.0)  # ...that wakeup() from another thread ends

    def test_asyncio_helper(self):
        alice = self.connected("amy")
        self.op_done(alice, alice.create_group("aroom", "A", []))

        async def main():
            op = alice.send_text("aroom", "from asyncio", tag=99)
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.005)

            t = asyncio.ensure_future(ticker())
            ev = await alice.await_event(lambda e: e.type == "op" and e.op["id"] == op and e.op["state"] == "sent")
            t.cancel()
            return ev, ticks

        ev, ticks = asyncio.run(main())
        self.assertEqual(ev.tag, 99)
        self.assertGreater(ticks, 0)  # the event loop kept running while we waited


if __name__ == "__main__":
    unittest.main()
