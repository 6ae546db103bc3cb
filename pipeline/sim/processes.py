"""Stopping the processes adtrack starts (broker, workers, producers), always, even when they hang."""

from __future__ import annotations

import os
import signal
import subprocess


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process, and its whole group when it leads one (started with a new session)."""
    if process.poll() is not None:
        return
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass
    process.wait()


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` s: a Faust worker can hang in shutdown for ever."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)  # a paused (SIGSTOP) process cannot act on SIGTERM
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill(process)
