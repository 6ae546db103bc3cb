"""The templates' environment and the pure pieces the pages are drawn from."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from pipeline.web import render
from pipeline.web.models import notification_row
from pipeline.web.templating import pages, render_page

WHO = render.Identity("http://127.0.0.1:6066", "adtrack", (0,))


def test_every_value_is_escaped_unless_it_is_markup() -> None:
    assert pages.from_string("{{ value }}").render(value="<b title='x'>&") == "&lt;b title=&#39;x&#39;&gt;&amp;"
    assert pages.get_template("base.html").environment.autoescape is True


def test_a_name_a_template_is_not_given_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        render_page("not_found.html", who=WHO)


def test_campaign_facts_list_id_version_and_update_time_first_and_each_field_once() -> None:
    stored = {"version": 2, "deleted": False, "at": 1_700_000_000_000, "data": {"name": "Spring", "version": 7}}
    html = render.campaign(render.campaign_model("c", stored, None, 0, {}, [], WHO), WHO)
    facts = html.split('<table class="facts">')[1].split("</table>")[0]
    assert [row.split("</th>")[0] for row in facts.split("<tr><th>")[1:]] == ["id", "version", "updated at", "name"]
    assert '<th>version</th><td class="num">7</td>' in facts  # the stored data's own field, as the twin has it


def test_a_notification_shows_its_fields_and_one_that_is_not_a_json_object_is_refused() -> None:
    value = b'{"entity": "budget", "op": "upsert", "version": 3, "changed_fields": ["total"], "at": 5, "data": {}}'
    assert notification_row(value) == {"at": 5, "entity": "budget", "op": "upsert", "version": 3,
                                       "changed_fields": ["total"]}
    for bad in (b"{not json", b"[1, 2]", b'"text"', None):
        with pytest.raises(ValueError):
            notification_row(bad)
