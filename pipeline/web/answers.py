"""How a view answers: HTML or its JSON twin, with the same headers on every page.

Any page answers JSON for a ``.json`` suffix or ``Accept: application/json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.web import Request, Response, View

from pipeline.web import render

HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
COMMON_HEADERS = {"Vary": "Accept", "Cache-Control": "no-store"}


def wants_json(request: Request, name: str = "") -> tuple[str, bool]:
    """(name without ``.json``, whether to answer JSON)."""
    if name.endswith(".json"):
        return name[: -len(".json")], True
    accept = request.headers.get("Accept", "")
    return name, "application/json" in accept and "text/html" not in accept


def answer(view: View, as_json: bool, model: Any, page: Callable[[], str], status: int = 200) -> Response:
    """``model`` as JSON, or the HTML ``page`` draws (only drawn when it is asked for)."""
    if as_json:
        return view.json(model, status=status, headers=dict(COMMON_HEADERS))
    return view.html(page(), status=status, headers={**COMMON_HEADERS, **HTML_HEADERS})


def json(view: View, model: Any) -> Response:
    """A JSON-only answer (the twins that have no page)."""
    return view.json(model, headers=dict(COMMON_HEADERS))


def not_found(view: View, who: render.Identity, as_json: bool, message: str) -> Response:
    model = {"error": message, "worker": who.url}
    return answer(view, as_json, model, lambda: render.not_found(message, who), status=404)
