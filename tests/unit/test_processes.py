"""Processes adtrack starts are always stopped: gracefully, or killed when they hang."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from pipeline.sim import processes
from pipeline.sim.workers import Worker
from tests.harness import ROOT

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"


def spawn(code: str, **kwargs: object) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, **kwargs)
    assert process.stdout is not None and process.stdout.readline() == b"up\n"
    return process


def test_stop_ends_a_process_gracefully() -> None:
    process = spawn("import time; print('up', flush=True); time.sleep(60)")
    processes.stop(process, timeout=10)
    assert process.returncode == -signal.SIGTERM


def test_stop_kills_a_process_that_ignores_sigterm() -> None:
    process = spawn(IGNORES_SIGTERM, start_new_session=True)
    processes.stop(process, timeout=0.5)
    assert process.returncode == -signal.SIGKILL


def test_stop_ends_a_paused_process() -> None:
    process = spawn("import time; print('up', flush=True); time.sleep(60)")
    process.send_signal(signal.SIGSTOP)
    processes.stop(process, timeout=10)
    assert process.returncode == -signal.SIGTERM


def test_stopping_an_ended_process_does_nothing() -> None:
    process = spawn("print('up', flush=True)")
    process.wait()
    processes.stop(process, timeout=1)
    processes.kill(process)
    assert process.returncode == 0


def test_a_worker_is_running_from_its_start_until_it_exits_or_is_stopped(tmp_path: Path) -> None:
    worker = Worker({}, tmp_path / "data", tmp_path / "worker.log")
    assert not worker.running()  # not started
    worker.process = spawn("import time; print('up', flush=True); time.sleep(60)")
    try:
        assert worker.running()
    finally:
        worker.stop(timeout=10)
    assert not worker.running()
    worker.process = spawn("print('up', flush=True)")
    worker.process.wait(timeout=10)
    assert not worker.running()  # exited on its own


def test_a_worker_runs_in_the_checkout_unless_told_otherwise(tmp_path: Path) -> None:
    worker = Worker({}, tmp_path / "data", tmp_path / "worker.log")
    assert worker.cwd == ROOT and (worker.cwd / "pyproject.toml").is_file()
