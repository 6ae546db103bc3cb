"""One typed, frozen settings object, read from the environment once.

Every setting has a default and a line of help; the README's settings table is
checked against ``FIELDS`` by the test suite.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from config.errors import ConfigError


def _setting(env: str, default: Any, help: str) -> Any:
    return dataclasses.field(default=default, metadata={"env": env, "help": help})


@dataclasses.dataclass(frozen=True)
class Settings:
    kafka_bootstrap_servers: str = _setting(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "Kafka bootstrap servers (host:port[,host:port])."
    )
    kafka_security_protocol: str = _setting(
        "KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, for every Kafka client."
    )
    kafka_sasl_mechanism: str = _setting(
        "KAFKA_SASL_MECHANISM", "PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL protocols only)."
    )
    kafka_sasl_username: str = _setting("KAFKA_SASL_USERNAME", "", "SASL user name.")
    kafka_sasl_password: str = dataclasses.field(
        default="", repr=False, metadata={"env": "KAFKA_SASL_PASSWORD", "help": "SASL password (never shown or logged)."}
    )
    kafka_ssl_cafile: str = _setting("KAFKA_SSL_CAFILE", "", "CA bundle that signs the brokers' certificates.")
    kafka_ssl_certfile: str = _setting("KAFKA_SSL_CERTFILE", "", "Client certificate for mutual TLS.")
    kafka_ssl_keyfile: str = _setting("KAFKA_SSL_KEYFILE", "", "Key of the client certificate.")
    app_id: str = _setting("ADTRACK_APP_ID", "adtrack", "Consumer group and changelog prefix of the workers.")
    partitions: int = _setting(
        "ADTRACK_PARTITIONS", 4, "Partitions of the tracking topics and the per-campaign state tables."
    )
    replication_factor: int = _setting(
        "ADTRACK_REPLICATION_FACTOR", 1, "Replication factor of every topic adtrack creates."
    )
    min_insync_replicas: int = _setting(
        "ADTRACK_MIN_INSYNC_REPLICAS",
        1,
        "min.insync.replicas of every topic adtrack creates: replicas that must have a write before it is acknowledged.",
    )
    web_port: int = _setting("WEB_PORT", 6066, "Port of the worker's web server (faust --web-port wins).")
    web_bind: str = _setting("WEB_BIND", "127.0.0.1", "Address the worker's web server binds to.")
    web_host: str = _setting(
        "WEB_HOST", "", "Host name or address the other workers reach this worker's web server at (empty: the host name)."
    )
    data_dir: str = _setting("ADTRACK_DATA_DIR", "data", "Local table store directory (faust --datadir wins).")
    max_event_bytes: int = _setting(
        "ADTRACK_MAX_EVENT_BYTES", 65536, "Raw events larger than this go to the DLQ as `oversized`."
    )
    dedupe_window_s: int = _setting(
        "ADTRACK_DEDUPE_WINDOW_S", 86400, "How long an accepted event_id is remembered; older events are stale."
    )
    max_clock_skew_s: int = _setting(
        "ADTRACK_MAX_CLOCK_SKEW_S", 300, "How far in the future an event's ts may be before it is rejected."
    )
    barrier_timeout_s: float = _setting(
        "ADTRACK_BARRIER_TIMEOUT_S",
        30.0,
        "Longest a partition waits for core-data changelogs to catch up with a published change.",
    )
    send_timeout_s: float = _setting(
        "ADTRACK_SEND_TIMEOUT_S",
        60.0,
        "Longest a core-data, fan-out or dead-letter send may take, retries included, before the worker stops.",
    )
    rebalance_timeout_s: float = _setting(
        "ADTRACK_REBALANCE_TIMEOUT_S", 60.0, "Consumer-group rebalance timeout (low values speed up tests and demos)."
    )
    session_timeout_s: float = _setting(
        "ADTRACK_SESSION_TIMEOUT_S",
        30.0,
        "Consumer-group session timeout: a dead worker's partitions move after this long.",
    )
    commit_interval_s: float = _setting(
        "ADTRACK_COMMIT_INTERVAL_S",
        1.0,
        "How often the tracking path commits its input offsets (replayed after a crash: at most this much input).",
    )
    producer_linger_ms: int = _setting(
        "ADTRACK_PRODUCER_LINGER_MS", 5, "How long the producer waits to fill a batch before sending it."
    )
    ingest_timeout_s: float = _setting(
        "ADTRACK_INGEST_TIMEOUT_S", 5.0, "How long ingest waits for the broker's ack before answering 503."
    )
    ingest_max_body_bytes: int = _setting(
        "ADTRACK_INGEST_MAX_BODY_BYTES", 1_048_576, "Largest POST /events body; larger ones get 413."
    )
    ingest_max_batch: int = _setting(
        "ADTRACK_INGEST_MAX_BATCH", 500, "Most events in one NDJSON POST /events; more get 413."
    )
    web_page_size: int = _setting("ADTRACK_WEB_PAGE_SIZE", 50, "Rows per page in the web table views.")
    web_max_line_bytes: int = _setting(
        "ADTRACK_WEB_MAX_LINE_BYTES", 8190, "Longest HTTP request line or header line; longer ones get 400."
    )
    web_max_headers: int = _setting("ADTRACK_WEB_MAX_HEADERS", 64, "Most headers in one HTTP request; more get 400.")
    # Limits on hostile input (README "Limits on hostile input").
    control_secret: str = dataclasses.field(
        default="", repr=False, metadata={
            "env": "ADTRACK_CONTROL_SECRET",
            "help": "Signs core-data barriers on tracking.raw; empty: a development secret anyone can forge.",
        },
    )
    max_user_agent_chars: int = _setting(
        "ADTRACK_MAX_USER_AGENT_CHARS", 512, "A user agent is cut to this many characters before bot matching."
    )
    bot_cache_size: int = _setting("ADTRACK_BOT_CACHE_SIZE", 16384, "Most user agents whose bot verdict is cached.")
    stats_max_campaigns: int = _setting(
        "ADTRACK_STATS_MAX_CAMPAIGNS", 10000, "Most campaigns counted in memory; the least recently counted goes first."
    )
    dlq_log_interval_s: float = _setting(
        "ADTRACK_DLQ_LOG_INTERVAL_S", 10.0, "Dead letters are logged as one warning per reason per this many seconds."
    )
    # Exposure and overload (README, Security): the public ingest listener and the limits of both HTTP servers.
    ingest_port: int = _setting("ADTRACK_INGEST_PORT", 8080, "Port of the public ingest listener (pixel, events, probe).")
    ingest_bind: str = _setting("ADTRACK_INGEST_BIND", "127.0.0.1", "Address the public ingest listener binds to.")
    web_faust_routes: int = _setting(
        "ADTRACK_WEB_FAUST_ROUTES", 0, "1 serves Faust's /table/ and /router/ views on the web port (internals)."
    )
    web_head_timeout_s: float = _setting(
        "ADTRACK_WEB_HEAD_TIMEOUT_S", 10.0, "A request head must arrive whole within this; else the connection is closed."
    )
    # Longer than aiohttp's client keep-alive (15 s), which workers use to forward pages to each other:
    # the client lets go first, so it never sends a request on a connection the server is closing.
    web_keepalive_s: float = _setting(
        "ADTRACK_WEB_KEEPALIVE_S", 20.0, "An idle keep-alive connection is closed after this long."
    )
    ingest_body_timeout_s: float = _setting(
        "ADTRACK_INGEST_BODY_TIMEOUT_S", 10.0, "A POST /events body must arrive whole within this; else 408."
    )
    ingest_max_pixels: int = _setting(
        "ADTRACK_INGEST_MAX_PIXELS", 4096, "Pixel requests in flight per worker; more get 503 at once."
    )
    ingest_max_posts: int = _setting(
        "ADTRACK_INGEST_MAX_POSTS", 32, "POST /events requests in flight per worker; more get 503 at once."
    )
    ingest_max_posts_per_client: int = _setting(
        "ADTRACK_INGEST_MAX_POSTS_PER_CLIENT",
        4,
        "POST /events requests in flight per client address (0: no limit); more get 503.",
    )
    log_format: str = _setting(
        "ADTRACK_LOG_FORMAT", "text", "text, or json: one JSON object per log line (README, Operations)."
    )
    broker_check_timeout_s: float = _setting(
        "ADTRACK_BROKER_CHECK_TIMEOUT_S", 15.0, "Start-up check: the brokers must answer within this, else a clear error."
    )
    archive_dir: str = _setting(
        "ADTRACK_ARCHIVE_DIR", "", "The archive's --out folder, shown on the worker's /archive page; empty: not shown."
    )
    topic_raw: str = _setting("ADTRACK_TOPIC_RAW", "tracking.raw", "Raw tracking events in.")
    topic_realtime: str = _setting("ADTRACK_TOPIC_REALTIME", "tracking.realtime", "Enriched events, real-time consumers.")
    topic_batch: str = _setting("ADTRACK_TOPIC_BATCH", "tracking.batch", "Enriched events, batch consumers (compressed).")
    topic_rejected: str = _setting("ADTRACK_TOPIC_REJECTED", "tracking.rejected", "Business-rule rejections with a reason.")
    topic_dlq: str = _setting("ADTRACK_TOPIC_DLQ", "tracking.dlq", "Poison raw events, original bytes.")
    topic_archive_dlq: str = _setting(
        "ADTRACK_TOPIC_ARCHIVE_DLQ", "tracking.archive.dlq", "Records on tracking.batch the archive cannot read."
    )
    topic_coredata_updates: str = _setting(
        "ADTRACK_TOPIC_COREDATA_UPDATES", "coredata.updates", "Versioned core-data updates from back-office systems."
    )
    topic_coredata_changes: str = _setting(
        "ADTRACK_TOPIC_COREDATA_CHANGES", "coredata.changes", "One notification per applied core-data update."
    )
    topic_coredata_subscriptions: str = _setting(
        "ADTRACK_TOPIC_COREDATA_SUBSCRIPTIONS",
        "coredata.subscriptions",
        "Subscriptions to core-data changes (compacted; key = name).",
    )
    topic_coredata_dlq: str = _setting("ADTRACK_TOPIC_COREDATA_DLQ", "coredata.dlq", "Invalid core-data updates.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(field.metadata["env"])
            if raw is None or raw == "":
                continue
            kind = type(field.default)
            try:
                values[field.name] = kind(raw)
            except ValueError:
                raise ConfigError(
                    f"{field.metadata['env']}={raw!r} is not a valid {kind.__name__}: {field.metadata['help']}"
                ) from None
        return cls(**values)

    @property
    def tracking_group(self) -> str:
        """The consumer group of the tracking path (the workers' Faust group is ``app_id``)."""
        return f"{self.app_id}-tracking"

    @property
    def archive_group(self) -> str:
        """The consumer group of the archive (``python -m pipeline archive``), apart from the workers'."""
        return f"{self.app_id}-archive"

    @property
    def tracking_state_topic(self) -> str:
        """The compacted changelog of the per-campaign tracking state, partitioned like the raw topic."""
        return f"{self.app_id}-tracking-state"

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]


FIELDS = dataclasses.fields(Settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
