"""A one-line progress bar on a terminal (stderr), redrawn at most ten times a second."""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 30
REDRAW_S = 0.1


class ProgressBar:
    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total  # 0: open-ended, show a count only
        self.stream = stream
        self.started = time.monotonic()
        self._drawn_at = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self._drawn_at < REDRAW_S and done != self.total:
            return
        self._drawn_at = now
        rate = done / (now - self.started) if now > self.started else 0.0
        if self.total:
            filled = WIDTH * done // self.total
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{self.total}"
        else:
            bar = f"{done} events (Ctrl-C to stop)"
        self.stream.write(f"\r{bar}  {rate:,.0f}/s\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()
