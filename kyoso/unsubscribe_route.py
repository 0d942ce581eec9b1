"""/unsubscribe?token=: the one-click unsubscribe link of every mail a
setting can stop (``List-Unsubscribe``), without login.

GET answers a small Japanese page with a confirm button (a mail scanner that
opens links changes nothing); POST turns the one setting off, which is also
what a mail program sends for RFC 8058's ``List-Unsubscribe-Post``. The page
has no script and loads nothing, from kyoso or elsewhere.

A plain Starlette route beside Reflex's, added with ``mount_unsubscribe(app)``
in kyoso.py.
"""

from __future__ import annotations

import html
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from kyoso import routes
from kyoso.db import session_scope
from kyoso.ops.http import add_api_transformer
from kyoso.services.errors import DomainError
from kyoso.services.mail import prefs

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
STYLE = ("body{font-family:system-ui,'Hiragino Sans','Noto Sans CJK JP',Meiryo,sans-serif;"
         "background:#f5f6f8;color:#1d2740;margin:0;padding:2em 1em}"
         "main{max-width:520px;margin:0 auto;background:#fff;border:1px solid #d8dce6;"
         "border-radius:8px;padding:1.5em}h1{font-size:1.2em;margin-top:0}"
         "button{font-size:1em;padding:.5em 1.2em;border-radius:6px;border:none;"
         "background:#3b4d7a;color:#fff;cursor:pointer}p{line-height:1.7}")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (f'<!doctype html><html lang="ja"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)} | 共創 kyoso</title><style>{STYLE}</style></head>"
            f"<body><main><h1>{html.escape(title)}</h1>{body}"
            f'<p><a href="{routes.SETTINGS}">通知の設定を開く</a>（ログインが必要です）</p>'
            f"</main></body></html>")
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def _token(request: Request) -> str:
    return str(request.query_params.get("token", ""))[:200]


def _check(token: str) -> prefs.Unsubscribed:
    """What the link would turn off, without changing anything."""
    with session_scope() as session:  # not a read scope: the link secret is made if missing
        return prefs.check_unsubscribe(session, token)


def confirm(request: Request) -> HTMLResponse:
    """GET: say what the link turns off, with a button that does it."""
    token = _token(request)
    try:
        target = _check(token)
    except DomainError as exc:
        return _page("配信停止のリンク", f"<p>{html.escape(exc.message)}</p>", 400)
    action = html.escape(f"{routes.UNSUBSCRIBE}?token={token}", quote=True)
    return _page("メールの配信停止", (
        f"<p>「{html.escape(target.label)}」のメールを止めます。ほかの種類のメールはこれまでどおり届きます。</p>"
        f'<form method="post" action="{action}"><button type="submit">配信を停止する</button></form>'))


def unsubscribe(request: Request) -> HTMLResponse:
    """POST: turn the one setting off (RFC 8058 one-click, or the button)."""
    try:
        with session_scope() as session:
            done = prefs.unsubscribe(session, _token(request))
    except DomainError as exc:
        return _page("配信停止のリンク", f"<p>{html.escape(exc.message)}</p>", 400)
    return _page("配信を停止しました", (
        f"<p>「{html.escape(done.label)}」のメールは、今後お送りしません。"
        "また受け取りたくなったら、通知の設定でいつでも戻せます。</p>"))


# Plain (sync) functions: Starlette runs them in its thread pool, so the
# database work never holds up the event loop.
unsubscribe_app = Starlette(routes=[
    Route(routes.UNSUBSCRIBE, confirm, methods=["GET"]),
    Route(routes.UNSUBSCRIBE, unsubscribe, methods=["POST"]),
])


def mount_unsubscribe(app: Any) -> None:
    """Add /unsubscribe to a Reflex app (one line in kyoso.py), keeping any
    other ``api_transformer`` already set."""
    add_api_transformer(app, unsubscribe_app)
