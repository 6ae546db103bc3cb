"""The JSON log format: one object per line, with the fields a log call passed in ``extra=``."""

from __future__ import annotations

import io
import logging
import logging.config

import orjson
import pytest

from pipeline.domain.errors import ConfigError
from pipeline.runtime.logs import JsonFormatter, logging_config


def logged(*args: object, **kwargs: object) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("adtrack.test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(*args, **kwargs)
    finally:
        logger.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    return orjson.loads(line)


def test_a_line_has_level_logger_message_and_time() -> None:
    line = logged("dead-lettered %d records", 3)
    assert line["level"] == "WARNING" and line["logger"] == "adtrack.test"
    assert line["message"] == "dead-lettered 3 records"
    assert line["time"].endswith("+00:00")


def test_the_location_and_ids_passed_in_extra_are_fields_of_their_own() -> None:
    extra = {"topic": "tracking.raw", "partition": 2, "offset": 41, "event_id": "e1", "trace_id": "ab" * 16}
    line = logged("failed", extra={**extra, "unlisted": "x"})
    assert {k: line[k] for k in extra} == extra
    assert "unlisted" not in line


def test_an_exception_stays_on_its_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        line = logged("failed", exc_info=True)
    assert "ValueError: boom" in line["exception"]


def test_text_is_faust_own_format_and_an_unknown_format_is_refused() -> None:
    assert logging_config("text") is None
    with pytest.raises(ConfigError, match="ADTRACK_LOG_FORMAT"):
        logging_config("yaml")


def test_the_json_config_is_a_valid_dict_config() -> None:
    config = {k: v for k, v in logging_config("json").items() if k != "merge"}
    before = logging.root.handlers[:]
    try:
        logging.config.dictConfig({**config, "root": {"handlers": ["default"]}, "disable_existing_loggers": False})
        assert isinstance(logging.root.handlers[0].formatter, JsonFormatter)
    finally:
        logging.root.handlers[:] = before
