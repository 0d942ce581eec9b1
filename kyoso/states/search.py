"""/search: words and filters in the URL (so back, reload and sharing work),
hits from the domain."""

from __future__ import annotations

from urllib.parse import urlencode

from typing import Any

import reflex as rx

from kyoso import routes
from kyoso.services import channels, organisations, search
from kyoso.states.session import SessionState

# URL parameter ↔ form field.
_FIELDS = ("q", "channel", "org", "pref", "from", "to")


def search_url(values: dict[str, str]) -> str:
    params = {k: v for k, v in values.items() if v}
    return routes.SEARCH + ("?" + urlencode(params) if params else "")


class SearchState(SessionState):
    query: str = ""
    channel: str = ""
    org: str = ""
    prefecture: str = ""
    date_from: str = ""
    date_to: str = ""
    resolved_only: bool = False
    files_only: bool = False
    hits: list[search.SearchHit] = []
    more: bool = False
    searched: bool = False
    loading_more: bool = False
    error: str = ""
    channel_options: list[dict[str, str]] = []
    prefecture_options: list[dict[str, str]] = []
    # The URL's words and filters: the (uncontrolled) form is made again when
    # they change, so it shows them, and not otherwise, so typing is kept.
    form_key: str = ""
    _next_before: int = 0

    @rx.var
    def filtered(self) -> bool:
        return bool(self.channel or self.org or self.prefecture or self.date_from or self.date_to
                    or self.resolved_only or self.files_only)

    def _params(self) -> dict[str, str]:
        q = self._router("url").query_parameters
        return {k: str(q.get(k, "") or "")[:200] for k in (*_FIELDS, "resolved", "files")}

    def _current(self) -> dict[str, str]:
        return {"q": self.query, "channel": self.channel, "org": self.org, "pref": self.prefecture,
                "from": self.date_from, "to": self.date_to, "resolved": "1" if self.resolved_only else "",
                "files": "1" if self.files_only else ""}

    def _run(self, session: Any, user: Any, *, more: bool = False) -> None:
        filters = search.make_filters(
            session, channel=self.channel, org=self.org, prefecture=self.prefecture,
            date_from=self.date_from, date_to=self.date_to, resolved_only=self.resolved_only,
            files_only=self.files_only)
        page = search.search(session, user, self.query, filters,
                             before_id=self._next_before if more else None)
        self.hits = (self.hits + page.hits) if more else page.hits
        self.more = page.more
        self._next_before = page.next_before

    @rx.event
    async def open_search(self):
        """on_load: read the words and filters from the URL and search."""
        p = self._params()
        self.query, self.channel, self.org = p["q"], p["channel"], p["org"]
        self.prefecture, self.date_from, self.date_to = p["pref"], p["from"], p["to"]
        self.resolved_only = p["resolved"] == "1"
        self.files_only = p["files"] == "1"
        self.form_key = search_url(p)
        self.searched = any(p.values())
        self.hits, self.more = [], False
        return await self._open(self._load)

    def _load(self, session: Any, user: Any) -> None:
        self.channel_options = [{"slug": slug, "name": name} for slug, name in channels.name_options(session)]
        self.prefecture_options = [{"code": code, "name": name}
                                   for code, name in organisations.prefecture_options(session)]
        if self.searched:
            self._run(session, user)

    @rx.event
    def submit(self, form: dict):
        """The search form: put everything in the URL; the page's on_load searches."""
        values = {
            "q": str(form.get("q", "")).strip(), "channel": str(form.get("channel", "")),
            "org": str(form.get("org", "")).strip(), "pref": str(form.get("pref", "")),
            "from": str(form.get("from", "")), "to": str(form.get("to", "")),
            "resolved": "1" if form.get("resolved") in (True, "on", "true", "1") else "",
            "files": "1" if form.get("files") in (True, "on", "true", "1") else "",
        }
        if values == self._current() and self.searched:
            return SearchState.open_search  # the same URL: search again
        return rx.redirect(search_url(values))

    @rx.event
    def go(self, form: dict):
        """The box in the header."""
        return rx.redirect(search_url({"q": str(form.get("q", "")).strip()}))

    @rx.event
    async def load_more(self):
        if not self.more or self.loading_more:
            return None
        self.loading_more = True
        await self._read(self._run, more=True)
        self.loading_more = False
        return None
