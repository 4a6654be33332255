"""End-to-end test of the terminal client example (examples/chat_tui).

    /usr/bin/python3 test_chat_tui.py path/to/chatsdk-server path/to/chatsdk-chat

Starts the real server (free loopback port, temp data dir, random secret),
runs two chatsdk-chat instances (alice mints her own token from the secret,
bob gets one from `chatsdk-server token`) in tmux sessions on a private tmux
socket, drives them with `tmux send-keys` and reads their screens with
`tmux capture-pane -p`. Then kills the server, sends from alice while offline,
restarts the server on the same port and data dir and checks the message
reaches bob. Exit status 0 only when every check passed; bounded to 60 s.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

DEADLINE_S = 60


class Failed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The real chatsdk-server; restartable on the same port and data dir."""

    def __init__(self, binary: str, root: str):
        self.binary = binary
        self.data = os.path.join(root, "data")
        self.port = free_port()
        self.secret = secrets.token_hex(32)
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        self.log = open(os.path.join(root, "server.log"), "ab")
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--listen", f"127.0.0.1:{self.port}", "--data", self.data,
             "--secret", self.secret], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failed(f"server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise Failed("server did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no graceful drain, like a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def token(self, user: str) -> str:
        out = subprocess.run([self.binary, "token", "--user", user, "--secret", self.secret],
                             check=True, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()


class Tmux:
    """tmux on a private socket in the temp dir: cleanup never touches anyone else's sessions."""

    def __init__(self, root: str):
        self.sock = os.path.join(root, "tmux.sock")  # removed with the temp dir
        self.env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")

    def run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(["tmux", "-u", "-S", self.sock, *args], env=self.env,
                             capture_output=True, text=True, timeout=10)
        if check and out.returncode != 0:
            raise Failed(f"tmux {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def new(self, name: str, argv: list) -> None:
        cmd = " ".join(shlex.quote(a) for a in argv)
        self.run("new-session", "-d", "-s", name, "-x", "120", "-y", "40", cmd)

    def keys(self, name: str, text: str, enter: bool = True) -> None:
        self.run("send-keys", "-t", name, "-l", text)
        if enter:
            self.run("send-keys", "-t", name, "Enter")

    def screen(self, name: str) -> str:
        out = self.run("capture-pane", "-p", "-t", name, check=False)
        return "\n".join(line.rstrip() for line in out.splitlines())

    def alive(self, name: str) -> bool:
        return subprocess.run(["tmux", "-S", self.sock, "has-session", "-t", name],
                              capture_output=True, timeout=10).returncode == 0

    def kill_server(self) -> None:
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True, timeout=10)


class Test:
    def __init__(self, tmux: Tmux, t0: float):
        self.tmux = tmux
        self.t0 = t0
        self.passed = 0

    def wait_for(self, who: str, pattern: str, what: str, timeout: float = 10, absent: bool = False) -> None:
        """Polls `who`'s screen until `pattern` (a regex) matches (or, with absent, stops matching)."""
        end = min(time.monotonic() + timeout, self.t0 + DEADLINE_S)
        rx = re.compile(pattern, re.M)
        while True:
            found = rx.search(self.tmux.screen(who)) is not None
            if found != absent:
                self.passed += 1
                print(f"  ok {self.passed:2d}  {what}  ({time.monotonic() - self.t0:.1f}s)", flush=True)
                return
            if time.monotonic() >= end:
                raise Failed(f"{what}: {who}'s screen {'still shows' if absent else 'never showed'} /{pattern}/")
            time.sleep(0.1)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    server_bin, chat_bin = sys.argv[1], sys.argv[2]
    if shutil.which("tmux") is None:
        print("tmux is not installed")
        return 1
    root = tempfile.mkdtemp(prefix="chatsdk-tui-")
    server = Server(server_bin, root)
    tmux = Tmux(root)
    t0 = time.monotonic()
    test = Test(tmux, t0)

    def overtime(_sig, _frame):
        raise Failed(f"over the {DEADLINE_S} s budget")

    signal.signal(signal.SIGALRM, overtime)  # a safety net; every wait is bounded too
    signal.alarm(DEADLINE_S + 5)
    try:
        server.start()
        chat = [chat_bin, "--url", server.url]
        tmux.new("alice", chat + ["--user", "alice", "--secret", server.secret,
                                  "--db", os.path.join(root, "alice.db")])
        tmux.new("bob", chat + ["--token", server.token("bob"), "--db", os.path.join(root, "bob.db")])
        test.wait_for("alice", r"alice │ ● live", "alice is live (token minted from --secret)")
        test.wait_for("bob", r"bob │ ● live", "bob is live (--token)")

        # A group: alice creates it and talks; bob has not opened it.
        tmux.keys("alice", "/new group general bob")
        test.wait_for("alice", r"#general · group · 2 members", "alice created #general and opened it")
        test.wait_for("bob", r"#general", "bob's channel list shows #general")
        tmux.keys("alice", "hello bob")
        tmux.keys("alice", "second msg")
        test.wait_for("bob", r"#general\s+\(2\)│", "bob's list shows 2 unread in #general")
        test.wait_for("alice", r"\[1\] \d\d:\d\d alice: hello bob ✓✓$", "alice sees ✓✓ (delivered to bob)")
        test.wait_for("alice", r"bob ● online", "alice sees bob online")

        # Bob opens it: messages shown, unread cleared.
        tmux.keys("bob", "/sw general")
        test.wait_for("bob", r"\[2\] \d\d:\d\d alice: second msg$", "bob sees alice's messages")
        test.wait_for("bob", r"#general\s+│", "bob's unread count cleared once read")

        # Typing indicator, then the message.
        tmux.keys("bob", "hey ali", enter=False)
        test.wait_for("alice", r"bob is typing…", "alice sees 'bob is typing…'")
        tmux.keys("bob", "ce")
        test.wait_for("alice", r"\[3\] \d\d:\d\d bob: hey alice$", "alice receives bob's message")
        test.wait_for("alice", r"is typing", "typing indicator gone after the send", absent=True)

        # Edit, react, delete.
        tmux.keys("alice", "/edit 1 hello bob, edited")
        test.wait_for("bob", r"\[1\] \d\d:\d\d alice: hello bob, edited \(edited\)", "bob sees the edit")
        tmux.keys("bob", "/react 1 👍")
        test.wait_for("alice", r"alice: hello bob, edited \(edited\)  👍 1 ✓✓", "alice sees bob's 👍")
        tmux.keys("alice", "/del 2")
        test.wait_for("bob", r"\[2\] \d\d:\d\d alice: \(deleted\)$", "bob sees the delete")

        # A direct channel with a user who never connects: sent, never delivered.
        tmux.keys("alice", "/dm carol")
        test.wait_for("alice", r"@carol · direct", "alice opened the direct channel with carol")
        tmux.keys("alice", "hi carol")
        test.wait_for("alice", r"alice: hi carol ✓$", "alice sees a single ✓ (sent, not delivered)")
        tmux.keys("alice", "/sw general")
        test.wait_for("alice", r"#general · group", "alice switched back to #general")

        # History: 60 more messages; bob scrolls up past the first window (50)
        # so older pages are loaded.
        for i in range(1, 61):
            tmux.keys("alice", f"bulk {i}")
        test.wait_for("bob", r"alice: bulk 60$", "bob received 60 more messages", timeout=15)
        # Reopen the timeline so it starts from the newest window (50 rows).
        tmux.keys("bob", "/dm carol")
        test.wait_for("bob", r"@carol · direct", "bob opened another channel")
        tmux.keys("bob", "/sw #general")
        test.wait_for("bob", r"#general · group[\s\S]*alice: bulk 60$", "bob reopened #general")
        for _ in range(20):  # each /up scrolls a page; at the top it loads an older page
            tmux.keys("bob", "/up")
            time.sleep(0.2)
            if re.search(r"^.*│ \[1\] ", tmux.screen("bob"), re.M):
                break
        test.wait_for("bob", r"alice: bulk 1$", "bob scrolled up to older history (/up loads pages)")
        test.wait_for("bob", r"\[1\] \d\d:\d\d alice: hello bob, edited", "bob reached the first message")
        for _ in range(6):
            tmux.keys("bob", "/down")
        test.wait_for("bob", r"alice: bulk 60$", "bob scrolled back down (/down)")

        # Offline: the server dies; alice's message waits in the outbox.
        server.kill()
        test.wait_for("alice", r"alice │ ○ offline", "alice shows offline")
        tmux.keys("alice", "while offline")
        test.wait_for("alice", r"\[p1\] \d\d:\d\d alice: while offline ⋯ pending$", "alice shows it pending")
        server.start()
        test.wait_for("alice", r"alice │ ● live", "alice reconnected", timeout=15)
        test.wait_for("bob", r"alice: while offline$", "bob received the offline message", timeout=15)
        test.wait_for("alice", r"\[\d+\] \d\d:\d\d alice: while offline ✓✓?$", "alice's message is sent")

        # Quit; presence turns into "last seen".
        tmux.keys("bob", "/quit")
        end = time.monotonic() + 5
        while tmux.alive("bob") and time.monotonic() < end:
            time.sleep(0.1)
        if tmux.alive("bob"):
            raise Failed("bob's client did not exit on /quit")
        test.passed += 1
        print(f"  ok {test.passed:2d}  /quit exits", flush=True)
        test.wait_for("alice", r"bob ○ last seen", "alice sees bob's last seen")
        print(f"PASS: {test.passed} checks in {time.monotonic() - t0:.1f}s")
        return 0
    except (Failed, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}")
        for who in ("alice", "bob"):
            if tmux.alive(who):
                print(f"---- {who}'s screen ----\n{tmux.screen(who)}")
        return 1
    finally:
        signal.alarm(0)
        tmux.kill_server()
        server.stop()
        server.log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
