"""The download route for attachments: ``/files/{id}`` and ``/files/{id}/preview``.

Never a static URL: every request asks the domain (``attachments.open_download``)
whether this member may see, now, what the file is attached to (a hidden or
deleted message, a suspended author, someone else's unsent upload all answer
404). The member is known by the ``kyoso_files`` cookie, which holds the same
session token as the browser's localStorage (``SessionState`` sets it on each
page load, for the path ``/files`` only, SameSite=Strict): an ``<a href>`` or
``<img src>`` cannot send a localStorage value, and a cookie keeps the token
out of URLs (history, logs, a link pasted in a chat), which a signed URL
would not. Logging out, "log out everywhere" and suspension end the session,
so the cookie stops working with it.

Responses cannot run anything: ``Content-Disposition: attachment`` (inline
only for previews, PNGs kyoso drew itself), ``X-Content-Type-Options:
nosniff``, ``Content-Security-Policy: default-src 'none'; sandbox``; the
allow-list has no SVG or HTML to begin with.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from kyoso import routes
from kyoso.db import read_scope
from kyoso.ops.http import add_api_transformer
from kyoso.services import accounts, attachments
from kyoso.services.errors import DomainError

COOKIE = "kyoso_files"
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    # Checked on every request: a browser may keep a copy but must ask again.
    "Cache-Control": "private, no-cache",
}


def disposition(name: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (Japanese names intact)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;%' else "_" for c in name) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _refuse(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status, headers=SAFE_HEADERS)


def download(request: Request) -> Response:
    """Sync on purpose: Starlette runs it in its thread pool, so the database
    reads never block the event loop."""
    try:
        attachment_id = int(request.path_params["attachment_id"])
    except (KeyError, ValueError):
        return _refuse(404, "ファイルが見つかりません。")
    preview = request.url.path.endswith("/preview")
    with read_scope() as session:
        user = accounts.user_for_token(session, request.cookies.get(COOKIE, ""))
        if user is None:
            return _refuse(401, "ログインしてから、もう一度開いてください。")
        try:
            found = attachments.open_download(session, user, attachment_id, preview=preview)
        except DomainError as exc:
            return _refuse(404, exc.message)
    headers = {**SAFE_HEADERS, "ETag": found.etag,
               "Content-Disposition": disposition(found.name, inline=found.inline)}
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(found.size)
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=found.mime)
    return StreamingResponse(attachments.read_bytes(found), media_type=found.mime, headers=headers)


def files_app(inner: Any) -> Starlette:
    """The backend with the file routes in front of it."""
    return Starlette(routes=[
        Route(routes.FILES + "/{attachment_id:int}", download, methods=["GET", "HEAD"]),
        Route(routes.FILES + "/{attachment_id:int}/preview", download, methods=["GET", "HEAD"]),
        Mount("", app=inner),
    ])


def mount_files(app: Any) -> None:
    """Add the file routes to a Reflex app (one line in kyoso.py), keeping
    any other ``api_transformer`` already set."""
    add_api_transformer(app, files_app)
