"""docker/: the compose file, the image and the build context, held to config/settings.py.

No container engine runs here, so the files are checked as text: every service, environment variable
and port against the settings, the replication and durability a production cluster needs, and, where
the `docker-compose` binary is installed (Debian's package; `make test` installs it), its own `config`.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml

from config.settings import FIELDS, Settings
from pipeline.cli.main import build_parser
from tests.harness import ROOT

DOCKER = ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
DEFAULTS = Settings()
SETTING_NAMES = {field.metadata["env"] for field in FIELDS}

KAFKA = sorted(name for name, service in SERVICES.items() if service.get("image", "").startswith("apache/kafka:"))
ADTRACK = sorted(name for name, service in SERVICES.items() if "build" in service)


def interpolated(value: Any) -> str:
    """A value as compose passes it on: ``${X:-default}`` is its default, ``${X:?message}`` a set value."""
    text = str(value).replace("$$", "\0")
    text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)
    text = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "set-by-the-operator", text)
    return text.replace("\0", "$")


def environment(name: str) -> dict[str, str]:
    return {key: interpolated(value) for key, value in SERVICES[name].get("environment", {}).items()}


def command(name: str) -> str:
    value = SERVICES[name].get("command", "")
    return " ".join(value) if isinstance(value, list) else value


def dockerfile_environment() -> dict[str, str]:
    found: dict[str, str] = {}
    for block in re.findall(r"^ENV (.+?)(?<!\\)$", DOCKERFILE, flags=re.M | re.S):
        found.update(pair.split("=", 1) for pair in shlex.split(block.replace("\\\n", " ")))
    return found


def adtrack_settings(name: str) -> Settings:
    """The settings a process of this service reads: the image's ENV, then the service's environment."""
    return Settings.from_env({**dockerfile_environment(), **environment(name)})


def pipeline_commands(name: str) -> list[list[str]]:
    """Every ``python -m pipeline ...`` the service runs, as its argument lists."""
    return [shlex.split(part)[3:] for part in re.findall(r"python -m pipeline [^&;]+", command(name))]


def kafka_listener_port(name: str, listener: str) -> int:
    listeners = dict(entry.split("://") for entry in environment(name)["KAFKA_LISTENERS"].split(","))
    return int(listeners[listener].rsplit(":", 1)[1])


def test_the_deployment_is_three_kafka_nodes_an_init_step_the_workers_and_the_archive() -> None:
    assert KAFKA == ["kafka-1", "kafka-2", "kafka-3"]
    assert ADTRACK == ["archive", "init", "worker"]
    assert set(SERVICES) == {*KAFKA, *ADTRACK}
    assert {SERVICES[name]["build"]["dockerfile"] for name in ADTRACK} == {"docker/Dockerfile"}
    assert {SERVICES[name]["build"]["context"] for name in ADTRACK} == {".."}  # the repository root


@pytest.mark.parametrize("service", ADTRACK)
def test_every_variable_an_adtrack_process_is_given_is_a_setting_and_parses(service: str) -> None:
    given = set(environment(service)) | set(re.findall(r"\b([A-Z][A-Z_]+)=", command(service)))
    assert given <= SETTING_NAMES
    adtrack_settings(service)  # raises ConfigError on a value of the wrong type


def test_the_image_sets_only_settings_and_python_s_own_variables() -> None:
    variables = set(dockerfile_environment())
    assert {v for v in variables if not v.startswith("PYTHON")} <= SETTING_NAMES
    assert "ADTRACK_DATA_DIR" in variables and "WEB_BIND" in variables


@pytest.mark.parametrize("service", ADTRACK)
def test_every_adtrack_topic_is_replicated_three_times_with_min_insync_two(service: str) -> None:
    settings = adtrack_settings(service)
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)


@pytest.mark.parametrize("service", ADTRACK)
def test_adtrack_reaches_every_kafka_node_on_its_advertised_listener(service: str) -> None:
    advertised = {environment(name)["KAFKA_ADVERTISED_LISTENERS"].split("://", 1)[1] for name in KAFKA}
    assert set(adtrack_settings(service).bootstrap_servers) == advertised
    assert advertised == {f"{name}:{kafka_listener_port(name, 'PLAINTEXT')}" for name in KAFKA}


def test_the_kafka_nodes_form_one_kraft_quorum_with_a_fixed_cluster_id() -> None:
    environments = [environment(name) for name in KAFKA]
    node_ids = [int(env["KAFKA_NODE_ID"]) for env in environments]
    assert sorted(node_ids) == [1, 2, 3]
    voters = {f"{env['KAFKA_NODE_ID']}@{name}:{kafka_listener_port(name, 'CONTROLLER')}"
              for name, env in zip(KAFKA, environments)}
    for env in environments:
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
    (cluster_id,) = {env["CLUSTER_ID"] for env in environments}
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16  # what kafka-storage.sh accepts


@pytest.mark.parametrize("service", KAFKA)
def test_the_brokers_replicate_and_never_elect_an_unclean_leader(service: str) -> None:
    env = environment(service)
    assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3
    assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
    assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 3
    assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_kafka_log_dirs_and_the_archive_live_on_named_volumes_of_their_own() -> None:
    named = set(COMPOSE["volumes"])
    mounts = {name: dict(v.split(":")[:2] for v in SERVICES[name].get("volumes", []) if ":" in v) for name in SERVICES}
    for name in KAFKA:
        (volume,) = [v for v, target in mounts[name].items() if target == environment(name)["KAFKA_LOG_DIRS"]]
        assert volume in named
    archive_out = pipeline_commands("archive")[0][pipeline_commands("archive")[0].index("--out") + 1]
    assert {v for v, target in mounts["archive"].items() if target == archive_out} <= named
    assert archive_out in mounts["archive"].values()
    # The workers read the archive's files (their /archive page), never write them.
    assert mounts["worker"]["archive"] == environment("worker")["ADTRACK_ARCHIVE_DIR"]
    assert "archive:/data/archive:ro" in SERVICES["worker"]["volumes"]
    used = [v for name in SERVICES for v in mounts[name] if (name, v) != ("worker", "archive")]
    assert sorted(used) == sorted(named)  # one volume per node and one for the archive, none shared


@pytest.mark.parametrize("service", [*KAFKA, "worker"])
def test_every_long_running_service_has_a_healthcheck(service: str) -> None:
    check = SERVICES[service]["healthcheck"]
    assert check["test"][0] == "CMD" and not check.get("disable")
    assert {"interval", "timeout", "retries"} <= set(check)


@pytest.mark.parametrize("service", ADTRACK)
def test_adtrack_starts_once_every_kafka_node_is_healthy_and_after_the_init_step(service: str) -> None:
    depends = SERVICES[service]["depends_on"]
    assert {name: depends[name] for name in KAFKA} == {name: {"condition": "service_healthy"} for name in KAFKA}
    if service != "init":
        assert depends["init"] == {"condition": "service_completed_successfully"}
    assert set(depends) <= {*KAFKA, "init"}


def test_the_init_step_creates_the_topics_then_loads_the_sample_core_data() -> None:
    steps = pipeline_commands("init")
    assert [step[0] for step in steps] == ["create-topics", "load-core-data"]
    assert command("init").index("create-topics") < command("init").index("&& python -m pipeline load-core-data")
    for step in steps:
        build_parser().parse_args(step)
    assert (ROOT / steps[1][1]).is_file() and steps[1][1].startswith("config/")
    assert "COPY config ./config" in DOCKERFILE and SERVICES["init"]["restart"] == "no"


def test_the_archive_runs_its_command() -> None:
    (arguments,) = pipeline_commands("archive")
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    if "archive" not in commands:
        pytest.skip("python -m pipeline archive is not part of this checkout yet")
    build_parser().parse_args(arguments)


def test_workers_publish_only_their_ingest_listener_and_scale() -> None:
    worker = SERVICES["worker"]
    settings = adtrack_settings("worker")
    assert settings.ingest_port == DEFAULTS.ingest_port and settings.web_port == DEFAULTS.web_port
    (published,) = worker["ports"]
    host, container = published.rsplit(":", 1)
    assert int(container) == settings.ingest_port
    assert re.fullmatch(r"\d+-\d+", host)  # a range: one host port per replica, so --scale works
    assert "container_name" not in worker and "hostname" not in worker
    assert [int(port) for port in worker["expose"]] == [settings.web_port]
    assert settings.ingest_bind == settings.web_bind == "0.0.0.0"
    assert [name for name in SERVICES if SERVICES[name].get("ports") and name != "worker"] == []


def test_workers_are_ready_when_their_web_port_says_so_and_tell_the_others_where_they_are() -> None:
    probe = " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{adtrack_settings('worker').web_port}/ready" in probe
    shell, option, script = SERVICES["worker"]["command"]
    assert (shell, option) == ("sh", "-c")
    started = "exec faust -A pipeline.app worker -l info"
    assert script.endswith(started)
    # The script as the container's shell runs it, with the worker replaced by what it would be told.
    told = script.replace("$$", "$").replace(started, "exec python -c 'import os; print(os.environ[\"WEB_HOST\"])'")
    path = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    answer = subprocess.run([shell, option, told], env={"PATH": path}, capture_output=True, text=True, timeout=30)
    assert answer.returncode == 0, answer.stderr
    assert ipaddress.ip_address(answer.stdout.strip()).version == 4  # this host's own address


def test_the_image_runs_as_a_user_of_its_own_with_a_healthcheck_on_healthz() -> None:
    users = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert DOCKERFILE.index(f"USER {users[-1]}") > DOCKERFILE.rindex("\nRUN ")
    (healthcheck,) = re.findall(r"^HEALTHCHECK (.+?)(?<!\\)$", DOCKERFILE, flags=re.M | re.S)
    # Exec form: a JSON array, or Docker would run the text through a shell instead.
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert probe[:2] == ["python", "-c"] and "/healthz" in probe[2] and "'WEB_PORT', '6066'" in probe[2]
    assert json.loads(re.findall(r"^CMD (.+)$", DOCKERFILE, flags=re.M)[-1]) == [
        "faust", "-A", "pipeline.app", "worker", "-l", "info"
    ]
    assert dockerfile_environment()["ADTRACK_INGEST_PORT"] == str(DEFAULTS.ingest_port)
    assert dockerfile_environment()["WEB_PORT"] == str(DEFAULTS.web_port)


def test_the_build_context_leaves_out_the_virtualenv_data_and_git_but_not_what_the_image_copies() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", "data", ".git"} <= ignored
    copied = {part for line in re.findall(r"^COPY (.+)$", DOCKERFILE, flags=re.M) for part in line.split()[:-1]}
    assert copied and not copied & ignored


def docker_compose(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose; `make test` installs it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADTRACK_", "COMPOSE_"))}
    env.update(environment)
    return subprocess.run(
        [binary, "--file", str(DOCKER / "compose.yaml"), *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def test_docker_compose_accepts_the_file_and_resolves_every_service() -> None:
    resolved = docker_compose("config", ADTRACK_CONTROL_SECRET="a-shared-secret")
    assert resolved.returncode == 0, resolved.stderr
    services = yaml.safe_load(resolved.stdout)["services"]
    assert set(services) == set(SERVICES)
    assert services["worker"]["environment"]["ADTRACK_CONTROL_SECRET"] == "a-shared-secret"


def test_docker_compose_refuses_to_start_without_the_shared_control_secret() -> None:
    refused = docker_compose("config")
    assert refused.returncode != 0
    assert "set ADTRACK_CONTROL_SECRET, shared by every worker" in refused.stderr
