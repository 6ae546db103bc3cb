"""Worker processes: ``faust -A pipeline.app worker`` started, awaited, stopped and killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.domain.errors import WorkerError
from pipeline.kafka.broker import free_port
from pipeline.sim import processes

#: The checkout (pipeline/sim/ is two levels down): where a worker runs unless told otherwise.
ROOT = Path(__file__).resolve().parents[2]
READY_LINE = b"[^Worker]: Ready"


def worker_env(bootstrap: str, app_id: str, *, inherit_settings: bool = True, **extra: str) -> dict[str, str]:
    """The environment of a worker process started here: this one's, with quick rebalances.

    Faust's own ``F_*`` variables are never passed on (each worker gets its data dir and ports); with
    ``inherit_settings`` False the ``ADTRACK_*`` ones are not either, so only ``extra`` sets them.
    """
    dropped = ("F_",) if inherit_settings else ("ADTRACK_", "F_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(KAFKA_BOOTSTRAP_SERVERS=bootstrap, ADTRACK_APP_ID=app_id, ADTRACK_REBALANCE_TIMEOUT_S="3",
               ADTRACK_SESSION_TIMEOUT_S="6")
    env.update(extra)
    return env


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Worker:
    """A real ``faust -A pipeline.app worker`` process with its own data dir, web port and ingest port."""

    env: dict[str, str]
    datadir: Path
    log_path: Path
    web_port: int = field(default_factory=free_port)
    ingest_port: int = field(default_factory=free_port)
    #: Where it runs: the checkout, or elsewhere for a worker of an installed copy (``-m`` puts cwd on sys.path).
    cwd: Path = ROOT
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faust", "-A", "pipeline.app", "--datadir", str(self.datadir),
                 "worker", "-l", "info", "--web-port", str(self.web_port)],
                cwd=self.cwd, env={**self.env, "ADTRACK_INGEST_PORT": str(self.ingest_port)},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        """Started and not exited (nor stopped or killed)."""
        return self.process is not None and self.process.poll() is None

    def log(self) -> bytes:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            return f.read()

    def wait_ready(self, timeout: float = 60.0) -> Worker:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise WorkerError(f"worker exited with {self.process.returncode}:\n{self.log()[-3000:].decode()}")
            return READY_LINE in self.log()

        wait_until(ready, timeout, f"worker ready (log {self.log_path})", interval=0.1)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Graceful stop, escalating to SIGKILL: a Faust worker can hang in shutdown."""
        process, self.process = self.process, None
        if process is not None:
            processes.stop(process, timeout)

    def kill(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            processes.kill(process)
