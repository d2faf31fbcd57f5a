"""A deckgen command that keeps running (watch, preview --serve), driven by a test: its
output read line by line as it comes, waits bounded in time, and a clean stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


class LiveCommand:
    """``python -m deckgen ARGS`` in ``cwd``, stdout and stderr together."""

    def __init__(self, args: list[str], *, cwd: Path) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deckgen", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []  # every line so far, for messages
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, pattern: str, *, timeout: float = 30) -> list[str]:
        """The lines up to and including the first that matches ``pattern``; fails after
        ``timeout`` seconds or when the command ends first."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(left, 0.01))
            except queue.Empty:
                message = f"no line matching {pattern!r} in {timeout} s: {self.lines}"
                raise AssertionError(message) from None
            if line is None:
                raise AssertionError(f"the command ended before {pattern!r}: {self.lines}")
            self.lines.append(line)
            seen.append(line)
            if re.search(pattern, line):
                return seen

    def interrupt(self, *, timeout: float = 15) -> int:
        """Ctrl-C: send SIGINT and return the exit code, within ``timeout`` seconds."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """Make sure the process is gone (a failed test must not leave it running)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        while True:  # drain what the reader collected
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
