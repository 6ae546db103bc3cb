"""The Faust application: wiring only.

    tracking.raw ──► agents.tracking ──► tracking.realtime, tracking.batch
                          │    ▲          tracking.rejected, tracking.dlq
                          │    └── tables.coredata (global), tables.spend (per campaign)
    coredata.updates ─► agents.coredata ─► tables.coredata ─► coredata.changes

Run it with ``faust -A pipeline.app worker -l info``. The agents, tables and pages import ``app`` from
here and register on it; this module imports none of them (no import circle): the ``faust`` command
imports the packages in ``DISCOVERED`` (Faust's autodiscover) before the worker starts.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import faust
from faust.exceptions import AlreadyConfiguredWarning

from config.clients import faust_credentials
from config.settings import get_settings
from config.topics import DLQ_MAX_BYTES
from pipeline.kafka.admin import check_brokers, ensure_topics
from pipeline.kafka.recovery import TableManager
from pipeline.kafka.transport import Transport
from pipeline.runtime import logs
from pipeline.web.server import Web

settings = get_settings()

#: What a worker registers on the app: its agents and services, its tables, and its web pages.
DISCOVERED = ["agents", "tables", "pipeline.web"]


class AdtrackApp(faust.App):
    async def on_first_start(self) -> None:
        # `faust -A pipeline.app --datadir D` imports this module before it exports F_DATADIR,
        # so honour the option here, before any table store is opened.
        cli_datadir = os.environ.get("F_DATADIR")
        if cli_datadir and Path(cli_datadir) != self.conf.datadir:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AlreadyConfiguredWarning)
                self.conf.datadir = cli_datadir
        # A broker that never answers (a TLS or SASL protocol it does not speak) is an error, not a hang.
        await check_brokers(settings)
        # Create every topic with its intended partitions before anything subscribes to it, and refuse to
        # start on topics that exist but do not fit (auto-created by a producer that came first).
        await ensure_topics(settings, check=True)
        await super().on_first_start()

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Transport:
        return Transport(self.conf.broker_producer, self)

    def _new_web(self) -> Web:
        return Web(self)

    def _on_autodiscovery_error(self, name: str) -> None:
        # Faust logs a module that fails to import and carries on: a worker without that agent or page.
        raise ImportError(f"{name}, a module of the worker, cannot be imported") from sys.exc_info()[1]


app = AdtrackApp(
    settings.app_id,
    # No origin: with a list, Faust scans exactly these packages (and the module ``faust -A`` names).
    autodiscover=DISCOVERED,
    broker=[f"kafka://{server}" for server in settings.bootstrap_servers],
    store="rocksdb://",
    datadir=os.environ.get("F_DATADIR") or settings.data_dir,
    web_port=settings.web_port,
    web_bind=settings.web_bind,
    # Empty: Faust's default, the host name (faust --web-host wins either way).
    **({"web_host": settings.web_host} if settings.web_host else {}),
    # Faust's /table/ and /router/ views show table contents and worker assignments: internals, off by default.
    web_tables_enabled=bool(settings.web_faust_routes),
    web_router_enabled=bool(settings.web_faust_routes),
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    broker_rebalance_timeout=settings.rebalance_timeout_s,
    broker_session_timeout=settings.session_timeout_s,
    broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
    consumer_auto_offset_reset="earliest",
    producer_linger=settings.producer_linger_ms / 1000,
    producer_acks=-1,
    # A dead-lettered record is its original bytes plus dlq.* headers: room for a raw record at Kafka's
    # default 1 MB limit, with headers (tracking.dlq allows as much, config/topics.py).
    producer_max_request_size=DLQ_MAX_BYTES,
    broker_credentials=faust_credentials(settings),
    table_standby_replicas=0,
    # Seeks stream partitions before resuming them after a rebalance (pipeline/kafka/recovery.py).
    TableManager=TableManager,
    logging_config=logs.logging_config(settings.log_format),
)
if settings.log_format == "json":
    logs.json_everywhere()

