"""``/archive`` (JSON twin ``/archive.json``): the archive's hours, files and rows, and its lag, on any worker.

The folder is ``ADTRACK_ARCHIVE_DIR`` (the archive's ``--out``), read by file names only, in a thread,
at most once a few seconds; the lag is read from the broker at most once a second.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from faust.web import Request, Response, View

from pipeline.app import app, settings
from pipeline.archive import progress, resume
from pipeline.web import render_archive
from pipeline.web.answers import answer, wants_json
from pipeline.web.readings import Reading
from pipeline.web.recent import Recent
from pipeline.web.routing import PEER_TIMEOUT_S, identity

files_cache = Recent(3.0)
archive_lag: Reading[list[dict[str, Any]]] = Reading(
    f"the lag of group {settings.archive_group} on {settings.topic_batch}", lambda: progress.lag(settings),
    ttl=1.0, timeout=PEER_TIMEOUT_S * 2)


async def hours(directory: str) -> list[resume.Hour]:
    return await files_cache.get(directory, lambda: asyncio.to_thread(
        lambda: resume.hours(resume.files(Path(directory)))))


class ArchivePage(View):
    async def get(self, request: Request) -> Response:
        who = identity(request)
        as_json = request.path.endswith(".json") or wants_json(request)[1]
        directory = settings.archive_dir or None
        if directory is None:
            model = render_archive.archive_model(None, [], [], 0, who)
        else:
            found, lag = await asyncio.gather(hours(directory), archive_lag.get())
            model = render_archive.archive_model(directory, found, lag, settings.web_page_size, who)
        return answer(self, as_json, model, lambda: render_archive.archive(model, who))


app.page("/archive")(ArchivePage)


@app.page("/archive.json")
class ArchiveJson(ArchivePage):
    pass
