"""Settings: typed, frozen, read from the environment once."""

from __future__ import annotations

import dataclasses

import pytest

from config.settings import FIELDS, Settings, get_settings
from pipeline.domain.errors import ConfigError



def test_an_empty_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_every_setting_has_an_environment_variable_a_typed_default_and_help() -> None:
    envs = [f.metadata["env"] for f in FIELDS]
    assert len(set(envs)) == len(FIELDS)
    for field in FIELDS:
        assert field.metadata["env"].isupper()
        assert field.metadata["help"].strip()
        assert type(field.default).__name__ == field.type


def test_ints_floats_and_strings_are_parsed_from_the_environment() -> None:
    settings = Settings.from_env(
        {"ADTRACK_PARTITIONS": "12", "ADTRACK_BARRIER_TIMEOUT_S": "2.5", "ADTRACK_TOPIC_RAW": "raw.v2",
         "ADTRACK_SESSION_TIMEOUT_S": "7"}
    )
    assert (settings.partitions, settings.barrier_timeout_s, settings.topic_raw) == (12, 2.5, "raw.v2")
    assert type(settings.session_timeout_s) is float and settings.session_timeout_s == 7.0


def test_every_setting_is_read_from_its_own_variable() -> None:
    values = {"str": "x", "int": "7", "float": "7.5"}
    environ = {f.metadata["env"]: values[f.type] for f in FIELDS}
    settings = Settings.from_env(environ)
    assert dataclasses.asdict(settings) == {f.name: type(f.default)(values[f.type]) for f in FIELDS}


def test_an_empty_variable_keeps_the_default() -> None:
    assert Settings.from_env({"ADTRACK_PARTITIONS": "", "ADTRACK_APP_ID": ""}) == Settings()


def test_variables_that_are_not_settings_are_ignored() -> None:
    assert Settings.from_env({"PATH": "/bin", "ADTRACK_UNKNOWN": "1"}) == Settings()


@pytest.mark.parametrize("value", ["four", "4.0", "4x", "0x10"])
def test_an_invalid_int_is_a_config_error_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"ADTRACK_PARTITIONS": value})
    assert str(info.value) == (
        f"ADTRACK_PARTITIONS={value!r} is not a valid int: "
        "Partitions of the tracking topics and the per-campaign state tables."
    )


def test_an_invalid_float_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^ADTRACK_BARRIER_TIMEOUT_S='soon' is not a valid float: "):
        Settings.from_env({"ADTRACK_BARRIER_TIMEOUT_S": "soon"})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.partitions = 8  # type: ignore[misc]


def test_bootstrap_servers_are_split_on_commas_and_trimmed() -> None:
    settings = Settings(kafka_bootstrap_servers=" a:9092, b:9093 ,,")
    assert settings.bootstrap_servers == ["a:9092", "b:9093"]


def test_from_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADTRACK_APP_ID", "from-env")
    assert Settings.from_env().app_id == "from-env"


def test_the_process_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("ADTRACK_APP_ID", "first")
        first = get_settings()
        monkeypatch.setenv("ADTRACK_APP_ID", "second")
        assert get_settings() is first
        assert first.app_id == "first"
    finally:
        get_settings.cache_clear()
