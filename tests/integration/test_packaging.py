"""``pip install .`` yields the whole of adtrack: every subpackage, the web page's static files, the sample data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from config.settings import Settings
from tests.harness import ROOT, Worker, call, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACKAGES = ("pipeline", "agents", "tables", "config")


def checkout(dest: Path) -> Path:
    """The files a clean checkout has (tracked, or new and not ignored), without the venv, builds and caches."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def expected_files(src: Path) -> set[str]:
    """Every module and data file under the four package folders of the checkout."""
    return {
        path.relative_to(src).as_posix()
        for package in PACKAGES
        for path in (src / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_every_package_and_static_file_and_runs_installed(
    tmp_path: Path, settings: Settings, artifacts: Path
) -> None:
    src = checkout(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
                   check=True, timeout=120, stdin=subprocess.DEVNULL)
    (wheel,) = wheels.glob("adtrack-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert expected_files(src) - names == set()
    assert {"pipeline/web/static/app.css", "pipeline/web/static/live.js", "config/coredata.sample.jsonl"} <= names
    assert not any(n.startswith("tests/") for n in names)

    # Installed apart from the checkout; the project venv's python supplies the dependencies.
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, timeout=120, stdin=subprocess.DEVNULL)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=outside, env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)

    helped = run("-m", "pipeline", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "load-core-data" in helped.stdout
    # The worker's modules and the pages' files come from the installed copy, not from the checkout.
    # Discovery imports every agent, table and page of a worker, as the faust command does.
    found = run("-c", "import pathlib, pipeline.app, pipeline.sim.bench.command; pipeline.app.app.discover(); "
                      "print(pathlib.Path(pipeline.web.render.__file__).parent)")
    assert found.returncode == 0, found.stderr
    web = Path(found.stdout.strip())
    assert web.is_relative_to(site)
    assert (web / "static" / "app.css").is_file() and (web / "static" / "live.js").is_file()

    # A worker of the installed copy (same PYTHONPATH and cwd as above) starts and serves its pages.
    worker = Worker(env=worker_env(settings.kafka_bootstrap_servers, settings.app_id, PYTHONPATH=str(site)),
                    datadir=tmp_path / "data", log_path=artifacts / "installed-worker.log", cwd=outside)
    try:
        worker.start().wait_ready()
        assert call(worker.web_port, "GET", "/").status == 200
        css = call(worker.web_port, "GET", "/static/app.css")
        assert (css.status, css.body) == (200, (web / "static" / "app.css").read_bytes())
    finally:
        worker.stop()
