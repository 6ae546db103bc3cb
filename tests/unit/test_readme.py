"""The README documents what the code does."""

from __future__ import annotations

import re

from config.settings import FIELDS
from tests.harness import ROOT

README = (ROOT / "README.md").read_text()


def test_the_settings_table_lists_every_setting_with_its_default_and_help() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| `([^`]*)` \| (.+?) \|$", README, flags=re.M)
    documented = {env: (default, help_) for env, default, help_ in rows}
    expected = {f.metadata["env"]: (str(f.default), f.metadata["help"]) for f in FIELDS}
    assert documented == expected


def test_the_readme_names_both_set_up_commands() -> None:
    assert "make run" in README and "make test" in README


def test_every_adtrack_variable_the_readme_names_is_a_setting() -> None:
    named = set(re.findall(r"\b(ADTRACK_[A-Z_]*[A-Z])\b", README))
    assert named - {f.metadata["env"] for f in FIELDS} == set()
