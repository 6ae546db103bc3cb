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


def where_things_live() -> dict[str, str]:
    """The first column of the tree in "Where things live": path -> what it holds."""
    section = README.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return dict(re.findall(r"^(\S+) +(.+)$", block, flags=re.M))


def test_where_things_live_names_every_package_of_pipeline_and_only_what_exists() -> None:
    listed = where_things_live()
    assert [path for path in listed if not (ROOT / path).exists()] == []
    packages = {f"pipeline/{path.parent.name}/" for path in (ROOT / "pipeline").glob("*/__init__.py")}
    assert packages - set(listed) == set()


def test_every_path_the_readme_names_exists() -> None:
    named = set(re.findall(r"`((?:pipeline|agents|tables|config|tests|docs|docker)/[\w./-]*)`", README))
    assert len(named) > 20
    assert sorted(path for path in named if not (ROOT / path).exists()) == []
