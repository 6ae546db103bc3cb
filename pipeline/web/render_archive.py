"""The archive page's HTML, drawn by ``templates/archive.html`` from ``models.archive_model`` (re-exported)."""

from __future__ import annotations

from pipeline.web.models import Identity, Row, archive_model
from pipeline.web.templating import render_page

__all__ = ["archive", "archive_model"]


def archive(model: Row, who: Identity) -> str:
    return render_page("archive.html", model=model, who=who)
