"""``python -m pipeline broker``: a real Kafka-protocol broker in the foreground, stopped by Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
from kafka import KafkaProducer

from pipeline.kafka.broker import free_port
from pipeline.sim import processes
from tests.harness import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("stop", "sigint_ignored"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["ctrl-c", "sigterm", "ctrl-c-started-by-a-script-ignoring-sigint"],
)
def test_the_broker_command_serves_kafka_until_ctrl_c_or_sigterm(stop: signal.Signals, sigint_ignored: bool) -> None:
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "broker", "--port", str(port)]
    if sigint_ignored:
        # As a background job of a non-interactive shell is started: SIGINT ignored, and inherited so.
        command = ["sh", "-c", "trap '' INT; exec \"$@\"", "sh", *command]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.strip() == f"adtrack embedded broker ready: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}"
        producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{port}")
        assert producer.send("broker-probe", b"hello").get(timeout=10).offset == 0
        producer.close()
        process.send_signal(stop)
        assert process.wait(timeout=20) == 0
        # and the broker went with it: nothing listens on the port any more
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        processes.kill(process)
