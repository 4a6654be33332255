"""The bot example against the real server: run chat_bot.py as a process,
talk to it through the Python wrapper as a user, check its answers; and check
its token minting against the server (a forged token is refused)."""

import os
import subprocess
import sys
import time
import unittest

import chatsdk
from chat_bot import answer, mint_token
from server_fixture import Server

BOT = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "bot", "chat_bot.py")


class BotTest(unittest.TestCase):
    def test_answer_table(self):
        self.assertEqual(answer("!ping"), "pong")
        self.assertEqual(answer("!echo hello  world"), "hello  world")
        self.assertRegex(answer("!time"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(answer("just chatting"))
        self.assertIn("unknown", answer("!nope"))

    def test_bot_answers_in_channel(self):
        s = Server()
        self.addCleanup(s.stop)
        user = chatsdk.Client(s.url, s.db("uma"), token=mint_token(s.secret, "uma"))
        self.addCleanup(user.close)
        user.connect()
        user.wait_for(lambda e: e.type == "connection" and e.state == "live")

        env = dict(os.environ, CHATSDK_JWT_SECRET=s.secret)
        bot = subprocess.Popen([sys.executable, BOT, "--url", s.url, "--user", "bot", "--channel", "lobby",
                                "--create", "--db", s.db("bot"), "--duration", "60"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def stop(proc):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        self.addCleanup(stop, bot)

        line = bot.stdout.readline()  # "bot 'bot' is in 'lobby' ..." once it is ready
        self.assertIn("is in 'lobby'", line, line)

        # --create made a public channel. The client API cannot join one yet,
        # so the conversation happens where the user invited the bot: the bot
        # restarts (same cache) in "games", which it is a member of.
        op = user.create_group("games", "Games", ["bot"])
        user.wait_for(lambda e: e.type == "op" and e.op["id"] == op and e.op["state"] == "sent")
        user.open_timeline("games")
        stop(bot)
        bot2 = subprocess.Popen([sys.executable, BOT, "--url", s.url, "--user", "bot", "--channel", "games",
                                 "--db", s.db("bot"), "--duration", "60"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(stop, bot2)
        line = bot2.stdout.readline()
        self.assertIn("is in 'games'", line, line)

        def bot_reply(command, expect):
            op = user.send_text("games", command)
            sent = user.wait_for(lambda e: e.type == "op" and e.op["id"] == op and e.op["state"] == "sent")
            seq = sent.op["seq"]
            ev = user.wait_for(lambda e: any(m["sender"] == "bot" and m["reply_to"] == seq
                                             for m in e.messages()), timeout=15)
            body = next(m["body"] for m in ev.messages() if m["sender"] == "bot" and m["reply_to"] == seq)
            if callable(expect):
                self.assertTrue(expect(body), body)
            else:
                self.assertEqual(body, expect)

        bot_reply("!ping", "pong")
        bot_reply("!echo hi there", "hi there")
        bot_reply("!time", lambda b: b.endswith("Z") and b.startswith(time.strftime("%Y", time.gmtime())))

    def test_minted_token_accepted_and_forgery_refused(self):
        s = Server()
        self.addCleanup(s.stop)
        good = chatsdk.Client(s.url, s.db("g"), token=mint_token(s.secret, "gina"))
        self.addCleanup(good.close)
        good.connect()
        good.wait_for(lambda e: e.type == "connection" and e.state == "live")
        bad = chatsdk.Client(s.url, s.db("b"), token=mint_token("x" * 32, "gina"))
        self.addCleanup(bad.close)
        bad.connect()
        ev = bad.wait_for(lambda e: e.type == "connection" and e.state == "disconnected" and e.code != "ok")
        self.assertEqual(ev.code, "auth_failed")
        expired = chatsdk.Client(s.url, s.db("e"), token=mint_token(s.secret, "gina", ttl_s=-3600))
        self.addCleanup(expired.close)
        expired.connect()
        ev = expired.wait_for(lambda e: e.type == "connection" and e.state == "disconnected" and e.code != "ok")
        self.assertEqual(ev.code, "token_expired")


if __name__ == "__main__":
    unittest.main()
