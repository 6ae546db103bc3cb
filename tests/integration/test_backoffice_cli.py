"""The back-office and subscriber commands, run as an operator would, against a real worker."""

from __future__ import annotations

import signal
import subprocess
import sys

import orjson
import pytest

from tests import factories
from tests.harness import ROOT, Kafka, unique, wait_until, worker_env

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def cli(settings, worker):  # noqa: ANN001, ANN201
    env = worker_env(settings.kafka_bootstrap_servers, settings.app_id)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    run.env = env
    return run


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def campaign_fields(**overrides: object) -> list[str]:
    return [f"{name}={orjson.dumps(value).decode() if not isinstance(value, str) else value}"
            for name, value in factories.campaign_data(**overrides).items()]


def subscription_row(cli, name: str) -> list[str] | None:  # noqa: ANN001
    for line in ok(cli("subscriptions")).splitlines():
        if line.split()[0] == name:
            return line.split(maxsplit=4)
    return None


def test_set_creates_a_campaign_then_changes_one_field_and_show_reads_the_new_version(cli) -> None:  # noqa: ANN001
    cid = unique("cmp")
    created = ok(cli("coredata", "set", "campaign", cid, *campaign_fields(name="Spring Sale")))
    assert f"  campaign:{cid}  upsert v1 (new)  changed: advertiser_id, advertiser_name, end_ts, name" in created

    assert ok(cli("coredata", "set", "campaign", cid, "price=4.5")).rstrip().endswith(
        f"  campaign:{cid}  upsert v2 (was v1)  changed: price")

    shown = orjson.loads(ok(cli("coredata", "show", "campaign", cid)))
    assert (shown["version"], shown["deleted"], shown["previous_version"]) == (2, False, 1)
    assert shown["data"] == factories.campaign_data(name="Spring Sale", price=4.5, start_ts=shown["data"]["start_ts"])


def test_set_refuses_an_unknown_field_and_a_bad_value_and_writes_nothing(cli) -> None:  # noqa: ANN001
    cid = unique("cmp")
    unknown = cli("coredata", "set", "campaign", cid, *campaign_fields(), "colour=red")
    assert unknown.returncode == 2
    assert "campaign: unknown field 'colour'" in unknown.stderr
    bad = cli("coredata", "set", "campaign", cid, *campaign_fields(status="running"))
    assert bad.returncode == 2
    assert "status must be one of active, paused, ended, got 'running'" in bad.stderr

    missing = cli("coredata", "show", "campaign", cid)
    assert missing.returncode == 1
    assert f"campaign {cid} does not exist" in missing.stderr


def test_delete_leaves_a_tombstone_that_show_reports_and_a_second_delete_is_refused(cli) -> None:  # noqa: ANN001
    pid = unique("pub")
    ok(cli("coredata", "set", "publisher", pid, "name=Daily Ledger", "domain=dailyledger.example", "status=active"))
    assert ok(cli("coredata", "delete", "publisher", pid)).rstrip().endswith(f"publisher:{pid}  delete v2 (was v1)")

    shown = cli("coredata", "show", "publisher", pid)
    assert f"publisher {pid} is deleted (v2)" in ok(shown) + shown.stderr
    assert orjson.loads(shown.stdout)["deleted"] is True
    again = cli("coredata", "delete", "publisher", pid)
    assert (again.returncode, again.stderr.strip()) == (1, f"error: publisher {pid} is already deleted (v2)")


def test_subscribe_refuses_an_invalid_policy_and_a_filter_that_is_not_json(cli, kafka: Kafka) -> None:  # noqa: ANN001
    invalid = cli("subscribe", unique("bad"), "--filter", '{"entity": "campaign"}')
    assert invalid.returncode == 2
    assert 'entity: expected a list of alternatives, got "campaign"' in invalid.stderr
    not_json = cli("subscribe", unique("bad"), "--filter", "{entity")
    assert not_json.returncode == 2
    assert "--filter is not JSON" in not_json.stderr
    names = [r.key for r in kafka.read(kafka.settings.topic_coredata_subscriptions)]
    assert not any(key.startswith(b"bad-") for key in names)


def test_a_subscription_goes_live_counts_its_deliveries_shows_them_and_ends(cli) -> None:  # noqa: ANN001
    name, tag = unique("pacing"), unique("sub")
    topic = f"backoffice.{name}"  # created by subscribe, after the worker started
    policy = f'{{"entity": ["budget"], "id": [{{"prefix": "{tag}"}}]}}'
    subscribed = ok(cli("subscribe", name, "--filter", policy, "--topic", topic))
    assert subscribed.rstrip() == f"subscribed {name} -> {topic} (live)"
    row = subscription_row(cli, name)
    assert row is not None
    assert row[1:4] == [topic, "no", "0"]
    assert orjson.loads(row[4]) == {"entity": ["budget"], "id": [{"prefix": tag}]}

    applied = ok(cli("coredata", "set", "budget", f"{tag}-1", "total=50")).strip()
    ok(cli("coredata", "set", "budget", unique("other"), "total=50"))  # not for this subscription
    wait_until(lambda: subscription_row(cli, name)[3] == "1", 20, "the delivered count to reach 1", interval=0.2)
    watched = ok(cli("watch-changes", "--subscription", name, "--from-beginning", "--limit", "1"))
    assert watched.splitlines() == [applied]

    assert ok(cli("unsubscribe", name)).strip() == f"unsubscribed {name}"
    assert subscription_row(cli, name) is None


def test_unsubscribing_or_watching_an_unknown_subscription_is_refused(cli) -> None:  # noqa: ANN001
    name = unique("nobody")
    gone = cli("unsubscribe", name)
    assert (gone.returncode, gone.stderr.strip()) == (1, f"error: {name} is not subscribed")
    watch = cli("watch-changes", "--subscription", name, "--limit", "1")
    assert (watch.returncode, watch.stderr.strip()) == (1, f"error: no subscription named {name}")


def test_watch_changes_from_the_beginning_prints_one_line_per_notification(cli, kafka: Kafka) -> None:  # noqa: ANN001
    last = ok(cli("coredata", "set", "budget", unique("watched"), "total=1")).strip()
    count = len(kafka.read(kafka.settings.topic_coredata_changes))
    lines = ok(cli("watch-changes", "--from-beginning", "--limit", str(count))).splitlines()
    assert len(lines) == count
    assert lines[-1] == last
    assert all(" upsert v" in line or " delete v" in line for line in lines)


def test_watch_changes_ends_quietly_on_ctrl_c(cli) -> None:  # noqa: ANN001
    ok(cli("coredata", "set", "budget", unique("watched"), "total=1"))
    watch = subprocess.Popen([sys.executable, "-m", "pipeline", "watch-changes", "--from-beginning"], cwd=ROOT,
                             env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert " upsert v1 (new)" in watch.stdout.readline()  # watching: the first change ever was a creation
        watch.send_signal(signal.SIGINT)
        _, stderr = watch.communicate(timeout=20)
    finally:
        watch.kill()
    assert (watch.returncode, stderr) == (0, "")
