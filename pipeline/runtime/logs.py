"""The worker's log format: plain text (Faust's own) by default, one JSON object per line with
``ADTRACK_LOG_FORMAT=json``.

Faust configures logging itself when the worker starts, from the app's ``logging_config``; merged
into its configuration, ours replaces the handler of the root logger, so every line is JSON,
Faust's and aiokafka's included. A line names, where its caller passed them with ``extra=``, the
``topic``, ``partition``, ``offset``, ``event_id`` and ``trace_id`` it is about.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.domain.errors import ConfigError

FORMATS = ("text", "json")
#: Attributes a log call may set with ``extra=``, written as fields of their own.
FIELDS = ("topic", "partition", "offset", "event_id", "trace_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


def logging_config(log_format: str) -> dict[str, Any] | None:
    """The app's ``logging_config`` for ``log_format``: None keeps Faust's plain text."""
    if log_format not in FORMATS:
        raise ConfigError(f"ADTRACK_LOG_FORMAT={log_format!r} is none of {', '.join(FORMATS)}")
    if log_format == "text":
        return None
    return {
        "version": 1,
        "merge": True,  # into Faust's configuration, which sets the level chosen with -l
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    }


def json_everywhere() -> None:
    """No text outside the JSON lines: Faust's start-up banner is left out, Python's warnings are logged."""
    from faust.cli.worker import worker

    # The banner is a text table printed to stdout before logging is configured; what it shows (app id,
    # broker, web port, data dir, log level) is in the settings.
    worker.on_worker_created = lambda self, faust_worker: None
    logging.captureWarnings(True)
