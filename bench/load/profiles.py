"""The apps the load tool can drive: what a client's page is, which events a
scenario sends, and how a view shows that an update has arrived.

``KyosoChannel``: kyoso's real channel page ``/c/<slug>`` (on_load
``require_login`` -> ``ChannelState.open_channel`` -> ``SidebarState.load_sidebar``),
logged in through the session token in the hydrate's client storage vars.

``KyosoBriefing``: kyoso's live 説明会 room ``/briefings/<id>`` (on_load
``require_login`` -> ``BriefingState.open_room``): questions instead of
posts, upvotes instead of stamps, the organiser's live poll as the vote.

``SharedStateRoom``: the naive baseline (bench/sharedstate_app): every client
linked to one ``rx.SharedState``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bench.load.client import ROOT, Page, read_compiled
from bench.load.liveview import View

SESSION = f"{ROOT}.kyoso___states___session____session_state"
CHANNEL = f"{SESSION}.kyoso___states___channel____channel_state"
SIDEBAR = f"{SESSION}.kyoso___states___sidebar____sidebar_state"
POLL = f"{SESSION}.kyoso___states___polls____poll_state"
BRIEFING = f"{SESSION}.kyoso___states___briefings____briefing_state"
TOKEN_VAR = f"{SESSION}.token_rx_state_"

ROOM = f"{ROOT}.reflex___istate___shared____shared_state_base_internal.sharedstate_app___sharedstate_app____room"
PROBE = f"{ROOT}.sharedstate_app___sharedstate_app____probe_state"


@dataclass
class VoteSpec:
    """The generic burst: every client fires ``event(i)``; its ack is its own
    update; afterwards ``final(view)`` must hold on every client and
    ``db_check()`` must say every vote was counted exactly once."""

    name: str
    event: Callable[[int], tuple[str, dict[str, Any]]]
    reply_state: str | None
    final: Callable[[View], bool]
    db_check: Callable[[], tuple[bool, str]]
    describe: str = ""


class Profile:
    label = "?"
    post_kind = "message"  # what fanout's posts are called in the report
    probe_event: tuple[str, dict[str, Any]]
    probe_reply_state: str | None = None

    def page(self) -> Page:  # pragma: no cover - abstract
        raise NotImplementedError

    def storage_vars(self, i: int) -> dict[str, str]:
        return {}

    def post_event(self, i: int, body: str) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def post_reply_state(self) -> str | None:
        return None

    def shows_text(self, view: View, marker: str) -> bool:
        raise NotImplementedError

    def check_joined(self, view: View) -> bool:
        return True


class KyosoChannel(Profile):
    label = "kyoso room emit"
    probe_event = (f"{CHANNEL}.close_thread", {})
    probe_reply_state = CHANNEL

    def __init__(self, slug: str, channel_id: int, tokens: list[str], user_ids: list[int],
                 web_dir: Path | None) -> None:
        self.slug = slug
        self.channel_id = channel_id
        self.tokens = tokens
        self.user_ids = user_ids
        self.schema, self.hashes = read_compiled(web_dir)

    def page(self) -> Page:
        page = Page(f"/c/{self.slug}", {"slug": self.slug},
                    live_states=frozenset({CHANNEL, SIDEBAR, POLL}), me_state=SESSION,
                    schema=self.schema, hashes=self.hashes)
        page.watch_states = frozenset({CHANNEL, POLL})
        return page

    def storage_vars(self, i: int) -> dict[str, str]:
        return {TOKEN_VAR: self.tokens[i]}

    def post_event(self, i: int, body: str) -> tuple[str, dict[str, Any]]:
        return f"{CHANNEL}.post", {"form": {"body": body}}

    def post_reply_state(self) -> str | None:
        return CHANNEL

    @staticmethod
    def messages(view: View) -> list[dict]:
        return view.get(CHANNEL, {}).get("messages_rx_state_") or []

    def shows_text(self, view: View, marker: str) -> bool:
        # Newest last: a new post is found at once.
        return any(marker in (m.get("body_html") or "") for m in reversed(self.messages(view)))

    def message_id(self, view: View, marker: str) -> int:
        for m in self.messages(view):
            if marker in (m.get("body_html") or ""):
                return int(m["id"])
        return 0

    def check_joined(self, view: View) -> bool:
        ch = view.get(CHANNEL, {}).get("channel_rx_state_") or {}
        me = view.get(SESSION, {}).get("me_rx_state_") or {}
        return ch.get("id") == self.channel_id and bool(me.get("id"))

    @classmethod
    def stamp_of(cls, view: View, message_id: int, stamp: str) -> dict | None:
        for m in cls.messages(view):
            if m.get("id") == message_id:
                for s in m.get("stamps") or []:
                    if s.get("stamp") == stamp:
                        return s
                return None
        return None

    def toggle_stamp(self, message_id: int, stamp: str) -> tuple[str, dict[str, Any]]:
        return f"{CHANNEL}.toggle_stamp", {"message_id": message_id, "stamp": stamp}

    # The fan-out scenario's second kind of change, on the first post: here a
    # stamp toggled by one member after another.
    reaction = "stamp"
    organiser_idx = 0  # the client whose member creates the vote-burst poll

    def reaction_target(self, view: View, marker: str) -> int:
        return self.message_id(view, marker)

    def reaction_event(self, target: int) -> tuple[str, dict[str, Any]]:
        return self.toggle_stamp(target, "👍")

    def reaction_shown(self, view: View, target: int, uid: int, count: int) -> bool:
        """The r-th reaction (``count`` = r + 1, each by another member, ``uid``) is on screen
        (the view says how many pressed a stamp, not who: kyoso sends nobody the pressers' ids)."""
        return ((self.stamp_of(view, target, "👍") or {}).get("count") or 0) >= count

    def stamp_vote(self, db_url: str, message_id: int, stamp: str, voters: int) -> VoteSpec:
        """A stamp as the tally: every client presses ``stamp`` on one message once."""
        from bench.load import kyoso_db

        def db_check() -> tuple[bool, str]:
            rows, users = kyoso_db.stamp_rows(db_url, message_id, stamp)
            return rows == voters and users == voters, f"{rows} rows, {users} distinct voters in the DB"

        def final(view: View) -> bool:
            s = self.stamp_of(view, message_id, stamp)
            return s is not None and s.get("count") == voters

        return VoteSpec(
            name="stamp", event=lambda i: self.toggle_stamp(message_id, stamp),
            reply_state=CHANNEL, final=final, db_check=db_check,
            describe=f"toggle_stamp({message_id}, {stamp!r}) from every client; "
                     f"final view: that stamp's count == {voters}",
        )


    def create_poll(self, question: str) -> tuple[str, dict[str, Any]]:
        """The real handler the channel page's poll form calls (two options)."""
        return f"{POLL}.create", {"form": {"question": question, "option_0": "賛成", "option_1": "反対",
                                           "visibility": "always"}}

    @staticmethod
    def poll_id(view: View, question: str) -> int:
        for key, poll in (view.get(POLL, {}).get("polls_rx_state_") or {}).items():
            if poll.get("question") == question:
                return int(key)
        return 0

    def poll_vote(self, db_url: str, poll_id: int, voters: int) -> VoteSpec:
        """A real poll: every client answers it once through ``PollState.choose``; the
        tally (sent to the whole channel room, results being public) must reach everyone."""
        from bench.load import kyoso_db

        def db_check() -> tuple[bool, str]:
            rows, users = kyoso_db.ballot_rows(db_url, poll_id)
            return rows == voters and users == voters, f"{rows} ballots, {users} distinct voters in the DB"

        def final(view: View) -> bool:
            tally = (view.get(POLL, {}).get("tallies_rx_state_") or {}).get(str(poll_id)) or {}
            return tally.get("voters") == voters

        return VoteSpec(
            name="poll", event=lambda i: (f"{POLL}.choose", {"poll_id": poll_id, "index": i % 2}),
            reply_state=POLL, final=final, db_check=db_check,
            describe=f"PollState.choose({poll_id}, i % 2) from every client; final view: {voters} voters",
        )


class KyosoBriefing(KyosoChannel):
    """The 説明会 room: the same members and tokens as the channel (the bench
    channel is the briefing's related channel); the first member organises."""

    label = "kyoso briefing room"
    probe_event = (f"{BRIEFING}.toggle_poll_form", {})  # no database
    probe_reply_state = BRIEFING
    reaction = "upvote"
    post_kind = "question"

    def __init__(self, briefing_id: int, channel_id: int, tokens: list[str], user_ids: list[int],
                 web_dir: Path | None) -> None:
        super().__init__("", channel_id, tokens, user_ids, web_dir)
        self.briefing_id = briefing_id

    def page(self) -> Page:
        path = f"/briefings/{self.briefing_id}"
        page = Page(path, {"id": str(self.briefing_id)},
                    live_states=frozenset({BRIEFING, SIDEBAR, POLL}), me_state=SESSION,
                    schema=self.schema, hashes=self.hashes)
        page.watch_states = frozenset({BRIEFING, POLL})
        return page

    def post_event(self, i: int, body: str) -> tuple[str, dict[str, Any]]:
        return f"{BRIEFING}.submit_question", {"form": {"body": body}}

    def post_reply_state(self) -> str | None:
        return BRIEFING

    @staticmethod
    def questions(view: View) -> list[dict]:
        return view.get(BRIEFING, {}).get("questions_rx_state_") or []

    def shows_text(self, view: View, marker: str) -> bool:
        return any(marker in (q.get("body") or "") for q in reversed(self.questions(view)))

    def check_joined(self, view: View) -> bool:
        b = view.get(BRIEFING, {}).get("briefing_rx_state_") or {}
        me = view.get(SESSION, {}).get("me_rx_state_") or {}
        return b.get("id") == self.briefing_id and bool(me.get("id"))

    def reaction_target(self, view: View, marker: str) -> int:
        return next((int(q["id"]) for q in self.questions(view) if marker in (q.get("body") or "")), 0)

    def reaction_event(self, target: int) -> tuple[str, dict[str, Any]]:
        return f"{BRIEFING}.upvote", {"question_id": target}

    def reaction_shown(self, view: View, target: int, uid: int, count: int) -> bool:
        return any(q.get("id") == target and (q.get("votes") or 0) >= count for q in self.questions(view))

    def create_poll(self, question: str) -> tuple[str, dict[str, Any]]:
        """The organiser's form in the room: the poll is created and shown live."""
        return f"{BRIEFING}.create_poll", {"form": {"question": question, "option_0": "賛成",
                                                    "option_1": "反対", "visibility": "always"}}


class SharedStateRoom(Profile):
    label = "SharedState (naive)"
    probe_event = (f"{PROBE}.ping", {})
    probe_reply_state = PROBE

    def page(self) -> Page:
        page = Page("/", None)
        page.watch_states = frozenset({ROOM})
        return page

    def post_event(self, i: int, body: str) -> tuple[str, dict[str, Any]]:
        return f"{ROOM}.post", {"form": {"body": body}}

    def post_reply_state(self) -> str | None:
        return ROOM

    def shows_text(self, view: View, marker: str) -> bool:
        return any(marker in m for m in view.get(ROOM, {}).get("messages_rx_state_") or [])

    def check_joined(self, view: View) -> bool:
        return bool(view.get(ROOM, {}).get("linked_rx_state_", True))

    def tally_vote(self, voters: int) -> VoteSpec:
        return VoteSpec(
            name="shared-tally", event=lambda i: (f"{ROOM}.vote", {}), reply_state=ROOM,
            final=lambda view: view.get(ROOM, {}).get("tally_rx_state_") == voters,
            db_check=lambda: (True, "in memory (no DB)"),
            describe=f"Room.vote from every client; final view: tally == {voters}",
        )


def _subst(value: Any, i: int, uid: int, n: int) -> Any:
    """``"$i"``, ``"$uid"``, ``"$n"`` in a JSON payload become the client's index,
    its member id and the number of voters (whole strings become numbers)."""
    if isinstance(value, str):
        whole = {"$i": i, "$uid": uid, "$n": n}
        if value in whole:
            return whole[value]
        return value.replace("$uid", str(uid)).replace("$i", str(i)).replace("$n", str(n))
    if isinstance(value, list):
        return [_subst(v, i, uid, n) for v in value]
    if isinstance(value, dict):
        return {k: _subst(v, i, uid, n) for k, v in value.items()}
    return value


def _path(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def custom_vote(event: str, payload_json: str, final: str, reply_state: str | None,
                db_url: str, db_sql: str | None, user_ids: list[int], voters: int) -> VoteSpec:
    """A VoteSpec from the command line, for handlers the tool has no code for
    (polls). ``final`` is ``<state full name>:<var>[.<key or index>...]=<value>``;
    the value is JSON, or ``$n``. ``db_sql`` must return ``$n`` as one number."""
    import json

    payload = json.loads(payload_json or "{}")
    state, _, rest = final.partition(":")
    path, _, want_raw = rest.partition("=")
    if not state or not path or not want_raw:
        raise SystemExit("--vote-final must look like STATE:var.path=VALUE")
    want = voters if want_raw.strip() == "$n" else json.loads(want_raw)
    var, *parts = path.split(".")

    def check(view: View) -> bool:
        return _path(view.get(state, {}).get(var + "_rx_state_"), parts) == want

    def db_check() -> tuple[bool, str]:
        if not db_sql:
            return True, "not checked (no --vote-db-sql)"
        import sqlalchemy as sa

        from kyoso.db import read_scope

        with read_scope(db_url) as session:
            got = session.execute(sa.text(db_sql.replace("$n", str(voters)))).scalar()
        return got == voters, f"{db_sql!r} returned {got}, expected {voters}"

    return VoteSpec(
        name="custom",
        event=lambda i: (event, _subst(payload, i, user_ids[i] if i < len(user_ids) else 0, voters)),
        reply_state=reply_state, final=check, db_check=db_check,
        describe=f"{event.rsplit('.', 1)[-1]} {payload_json} from every client; final view: {final}",
    )
