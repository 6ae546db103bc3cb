"""The archive page's model and HTML, pure."""

from __future__ import annotations

from pipeline.archive.resume import Hour
from pipeline.web.render import Identity
from pipeline.web.render_archive import archive, archive_model

WHO = Identity("http://127.0.0.1:6066", "adtrack", [0, 1])
HOURS = [Hour("2026-12-01", 10, 2, 1500, 9000, (0, 1)), Hour("2026-12-01", 9, 1, 20, 700, (1,))]
LAG = [{"partition": 0, "end": 900, "committed": 880, "lag": 20}, {"partition": 1, "end": 5, "committed": 5, "lag": 0}]


def test_the_model_counts_every_hour_and_lists_the_newest_shown() -> None:
    model = archive_model("/srv/archive", HOURS, LAG, 1, WHO)
    assert model["totals"] == {"hours": 2, "files": 3, "rows": 1520, "bytes": 9700}
    assert model["hours"] == [{"dt": "2026-12-01", "hour": 10, "files": 2, "rows": 1500, "bytes": 9000,
                               "partitions": [0, 1]}]
    assert model["behind"] == 20 and model["lag_error"] is None


def test_an_unknown_lag_says_why_and_is_not_zero() -> None:
    model = archive_model("/srv/archive", HOURS, "KafkaConnectionError: no broker", 50, WHO)
    assert (model["lag"], model["behind"], model["lag_error"]) == ([], None, "KafkaConnectionError: no broker")
    assert "Lag unknown: KafkaConnectionError: no broker" in archive(model, WHO)


def test_without_a_folder_the_page_says_how_to_set_one() -> None:
    html = archive(archive_model(None, [], [], 50, WHO), WHO)
    assert "No archive folder is set" in html and "ADTRACK_ARCHIVE_DIR" in html


def test_the_page_lists_hours_says_when_some_are_left_out_and_escapes_the_folder() -> None:
    html = archive(archive_model("/srv/<b>archive", HOURS, LAG, 1, WHO), WHO)
    assert "/srv/&lt;b&gt;archive/tracking/" in html and "<b>archive" not in html
    assert "The newest 1 of 2 hours." in html
    assert '<td class="num">1,500</td>' in html
