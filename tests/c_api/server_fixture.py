"""Runs the real chatsdk-server for the binding tests, like
tests/support/server_process.hpp: a free loopback port, a fresh temp data
dir, a random secret; waits for GET /healthz. Binary: $CHATSDK_SERVER_BINARY."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def native_env():
    """The environment for a native program we start: without the LD_PRELOAD
    that loads the sanitizer runtime into Python under asan/tsan builds (a
    sanitized executable carries its own runtime and refuses a second one)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


class Server:
    def __init__(self, extra_args=()):
        self.binary = os.environ["CHATSDK_SERVER_BINARY"]
        self.dir = tempfile.mkdtemp(prefix="chatsdk-capi-")
        self.port = free_port()
        self.secret = secrets.token_hex(32)
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--listen", f"127.0.0.1:{self.port}", "--data", os.path.join(self.dir, "data"),
             "--secret", self.secret, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=native_env())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not become healthy")

    def db(self, name: str) -> str:
        return os.path.join(self.dir, f"{name}.db")

    def log_text(self) -> str:
        self.log.flush()
        with open(os.path.join(self.dir, "server.log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
