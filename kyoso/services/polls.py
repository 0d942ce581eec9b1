"""Polls (アンケート): the rules, one-click voting, live tallies.

A poll is posted as a message in a channel or thread, or run live in a 説明会.
Who may see its results is the poll's ``visibility``; every read of a tally
goes through ``can_see_results``, so a browser that may not see them is never
sent a count. An anonymous poll never exposes a voter: no view, event or
export of it carries who voted. Results by affiliation and the export are in
``poll_results``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kyoso.db import core, detached_copy, utcnow
from kyoso.models import (
    AuditLog,
    Ballot,
    BallotChoice,
    Channel,
    Message,
    Poll,
    PollOption,
    ResultsVisibility,
    User,
    UserStatus,
)
from kyoso.services import briefings, events, markup, messages, ratelimit, visibility
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.shared import SharedViews
from kyoso.services.events import AccessChanged, Event, MessageChanged, PollChanged, TallyChanged, record
from kyoso.services.text import clean_line
from kyoso.services.timefmt import jst_datetime

MIN_OPTIONS, MAX_OPTIONS = 2, 20
OTHER_LABEL = "その他"
OTHER_MAX = 300  # characters of an その他 text
VISIBILITY_LABELS = {
    ResultsVisibility.always: "いつでも見られる",
    ResultsVisibility.after_vote: "回答した人だけ見られる",
    ResultsVisibility.after_close: "締め切り後に公開",
    ResultsVisibility.owner: "作成者と運営だけ",
}


@dataclass
class PollInput:
    question: str
    options: list[str]
    multiple: bool = False
    max_choices: int = 0  # 0: as many as there are options
    allow_other: bool = False
    anonymous: bool = True
    visibility: str = ResultsVisibility.always
    deadline: datetime | None = None


@dataclass
class OptionView:
    index: int
    label: str
    is_other: bool


@dataclass
class PollView:
    """The poll as every reader sees it. No counts: those are in TallyView."""

    id: int
    question: str
    options: list[OptionView]
    multiple: bool
    max_choices: int
    anonymous: bool
    visibility: str
    visibility_label: str
    deadline: str
    closed: bool
    author_id: int
    channel_id: int
    briefing_id: int
    editable: bool  # no ballot yet


@dataclass
class TallyView:
    poll_id: int
    rev: int
    voters: int
    counts: list[int]
    percents: list[int]


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------


def get_poll(session: Session, poll_id: int) -> Poll:
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise NotFound("アンケートが見つかりません。")
    return poll


def is_closed(poll: Poll, now: datetime | None = None) -> bool:
    return visibility.poll_closed(poll, now)


def _poll_message(session: Session, poll: Poll) -> Message | None:
    return session.get(Message, poll.message_id) if poll.message_id else None


def can_view(session: Session, user: User, poll: Poll) -> bool:
    """The poll itself (``visibility.can_view_poll``): whoever can read the
    message it hangs on, or the 説明会 room once it has been shown."""
    return visibility.can_view_poll(session, user, poll)


def has_voted(session: Session, user: User, poll_id: int) -> bool:
    return session.exec(
        select(Ballot.id).where(Ballot.poll_id == poll_id, Ballot.user_id == user.id)
    ).first() is not None


def can_see_results(session: Session, user: User, poll: Poll, *, voted: bool | None = None) -> bool:
    return visibility.can_see_poll_results(session, user, poll, voted=voted)


def can_manage(user: User, poll: Poll) -> bool:
    return user.status == UserStatus.active and (poll.author_id == user.id or user.is_staff)


def results_topic(poll: Poll) -> str:
    """Where live tallies go: the whole room when every reader may see them,
    else a room that only those allowed have been put in."""
    if visibility.poll_results_public(poll):
        if poll.briefing_id:
            return f"briefing:{poll.briefing_id}"
        if poll.channel_id:
            return f"channel:{poll.channel_id}"
    return f"poll-results:{poll.id}"


def can_subscribe(session: Session, user: User, poll_id: int, *, results: bool) -> bool:
    poll = session.get(Poll, poll_id)
    if poll is None:
        return False
    return can_see_results(session, user, poll) if results else can_view(session, user, poll)


# ---------------------------------------------------------------------------
# Creating and managing
# ---------------------------------------------------------------------------


def _check_input(data: PollInput) -> tuple[str, list[str], int]:
    question = clean_line(data.question, label="質問", max_len=300)
    options = [clean_line(o, label="選択肢", max_len=100, required=False) for o in data.options]
    options = [o for o in options if o]
    if len(options) < MIN_OPTIONS:
        raise InvalidInput(f"選択肢を{MIN_OPTIONS}つ以上入力してください。", field="options")
    if len(options) > MAX_OPTIONS:
        raise InvalidInput(f"選択肢は{MAX_OPTIONS}個までです。", field="options")
    if len(set(options)) != len(options):
        raise InvalidInput("同じ選択肢が重複しています。", field="options")
    if data.allow_other and OTHER_LABEL in options:
        raise InvalidInput(f"「{OTHER_LABEL}」は自由記述の欄として自動で加わります。", field="options")
    if data.visibility not in set(ResultsVisibility):
        raise InvalidInput("結果の公開範囲を選んでください。", field="visibility")
    total = len(options) + (1 if data.allow_other else 0)
    if data.multiple:
        max_choices = data.max_choices or total
        if not 1 <= max_choices <= total:
            raise InvalidInput(f"選べる数は1〜{total}の範囲で指定してください。", field="max_choices")
    else:
        max_choices = 1
    if data.deadline is not None and data.deadline <= utcnow():
        raise InvalidInput("締め切りは未来の日時にしてください。", field="deadline")
    return question, options, max_choices


def _add_options(session: Session, poll: Poll, options: list[str], allow_other: bool) -> None:
    for i, label in enumerate(options):
        session.add(PollOption(poll_id=poll.id, position=i, label=label))  # type: ignore[arg-type]
    if allow_other:
        session.add(PollOption(poll_id=poll.id, position=len(options), label=OTHER_LABEL,  # type: ignore[arg-type]
                               is_other=True))


def create_poll(session: Session, user: User, channel_id: int, data: PollInput, *,
                parent_id: int | None = None) -> Poll:
    """Post a poll as a message in a channel (or in a thread)."""
    question, options, max_choices = _check_input(data)
    # The message's event must carry the poll: the poll's goes out first.
    first = events.count(session)
    body = f"📊 アンケート: {question}"
    message = messages.post_message(session, user, channel_id, body, parent_id=parent_id)
    poll = Poll(
        message_id=message.id, channel_id=channel_id, author_id=user.id,  # type: ignore[arg-type]
        question=question, multiple=data.multiple, max_choices=max_choices,
        anonymous=data.anonymous, visibility=data.visibility, deadline=data.deadline,
    )
    session.add(poll)
    session.flush()
    _add_options(session, poll, options, data.allow_other)
    session.flush()
    events.insert(session, first, PollChanged(poll.id or 0, channel_id))
    return poll


def create_briefing_poll(session: Session, user: User, briefing_id: int,
                         data: PollInput) -> Poll:
    briefing = briefings.get_briefing(session, briefing_id)
    briefings.require_manager(user, briefing)
    question, options, max_choices = _check_input(data)
    poll = Poll(
        briefing_id=briefing_id, author_id=user.id, question=question,  # type: ignore[arg-type]
        multiple=data.multiple, max_choices=max_choices, anonymous=data.anonymous,
        visibility=data.visibility, deadline=data.deadline,
    )
    session.add(poll)
    session.flush()
    _add_options(session, poll, options, data.allow_other)
    session.flush()
    record(session, PollChanged(poll.id or 0, None, briefing_id))
    return poll


def edit_poll(session: Session, user: User, poll_id: int, data: PollInput) -> None:
    """The asker may change a poll until the first vote."""
    poll = get_poll(session, poll_id)
    if not can_manage(user, poll):
        raise NotAllowed("アンケートを編集できるのは作成者と運営だけです。")
    if session.exec(select(Ballot.id).where(Ballot.poll_id == poll_id)).first() is not None:
        raise InvalidInput("回答が集まり始めたアンケートは編集できません。締め切って作り直してください。")
    question, options, max_choices = _check_input(data)
    poll.question, poll.multiple, poll.max_choices = question, data.multiple, max_choices
    poll.anonymous, poll.visibility, poll.deadline = data.anonymous, data.visibility, data.deadline
    for opt in session.exec(select(PollOption).where(PollOption.poll_id == poll_id)).all():
        session.delete(opt)
    session.flush()
    _add_options(session, poll, options, data.allow_other)
    poll.tally_rev += 1
    session.add(poll)
    changed: list[Event] = [PollChanged(poll.id or 0, poll.channel_id, poll.briefing_id)]
    message = _poll_message(session, poll)
    if message is not None:
        message.body = f"📊 アンケート: {question}"
        message.body_html = markup.render(message.body)
        message.edited_at = utcnow()
        message.rev += 1
        session.add(message)
        changed.append(MessageChanged(message.channel_id, message.id or 0, message.parent_id, "edited"))
    record(session, *changed)


def set_closed(session: Session, user: User, poll_id: int, closed: bool) -> None:
    poll = get_poll(session, poll_id)
    if not can_manage(user, poll):
        raise NotAllowed("アンケートを締め切れるのは作成者と運営だけです。")
    if closed:
        poll.closed_at = utcnow()
    else:
        poll.closed_at = None
        if poll.deadline is not None and poll.deadline <= utcnow():
            poll.deadline = None  # reopening lifts a passed deadline
    poll.tally_rev += 1
    session.add(poll)
    if user.id != poll.author_id:
        session.add(AuditLog(actor_id=user.id, action="poll.close" if closed else "poll.reopen",
                             target_type="poll", target_id=poll.id))
    record(session, PollChanged(poll.id or 0, poll.channel_id, poll.briefing_id), TallyChanged(poll.id or 0))


def close_due(session: Session) -> int:
    """Close polls whose deadline has passed (run periodically)."""
    now = utcnow()
    due = session.exec(
        select(Poll).where(col(Poll.closed_at).is_(None), col(Poll.deadline).is_not(None),
                           col(Poll.deadline) <= now)
    ).all()
    for poll in due:
        poll.closed_at = poll.deadline
        poll.tally_rev += 1
        session.add(poll)
        record(session, PollChanged(poll.id or 0, poll.channel_id, poll.briefing_id), TallyChanged(poll.id or 0))
    return len(due)


# ---------------------------------------------------------------------------
# Voting
# ---------------------------------------------------------------------------


# The vote's statements, built once: a 1,000-person vote burst runs each a
# thousand times in ten seconds, and building and keying a statement costs
# more than SQLite running it (measured: 55 vs 140-200 us for a lookup).
_BALLOT_T, _CHOICE_T, _POLL_T = Ballot.__table__, BallotChoice.__table__, Poll.__table__  # type: ignore[attr-defined]
_OPTION_T = PollOption.__table__  # type: ignore[attr-defined]
_OPTIONS = sa.select(_OPTION_T.c.position, _OPTION_T.c.is_other).where(
    _OPTION_T.c.poll_id == sa.bindparam("p_poll"))
_BALLOT_ID = sa.select(_BALLOT_T.c.id).where(
    _BALLOT_T.c.poll_id == sa.bindparam("p_poll"), _BALLOT_T.c.user_id == sa.bindparam("p_user"))
_INSERT_BALLOT = sa.insert(_BALLOT_T)
_UPDATE_BALLOT = sa.update(_BALLOT_T).where(_BALLOT_T.c.id == sa.bindparam("p_ballot")).values(
    other_text=sa.bindparam("p_other"), updated_at=sa.bindparam("p_now"))
_DELETE_BALLOT = sa.delete(_BALLOT_T).where(_BALLOT_T.c.id == sa.bindparam("p_ballot"))
_DELETE_CHOICES = sa.delete(_CHOICE_T).where(_CHOICE_T.c.ballot_id == sa.bindparam("p_ballot"))
_INSERT_CHOICE = sa.insert(_CHOICE_T)
_BUMP_TALLY = sa.update(_POLL_T).where(_POLL_T.c.id == sa.bindparam("p_poll")).values(
    tally_rev=_POLL_T.c.tally_rev + 1)


def vote(session: Session, user: User, poll_id: int, positions: list[int], *,
         other_text: str | None = None, client_key: str = "") -> None:
    """Cast or change the member's ballot. An empty list withdraws it."""
    poll = get_poll(session, poll_id)
    if not visibility.can_vote_poll(session, user, poll):
        raise NotFound("アンケートが見つかりません。")
    if is_closed(poll):
        raise NotAllowed("このアンケートは締め切られています。")
    conn = core(session)
    valid = dict(conn.execute(_OPTIONS, {"p_poll": poll_id}).all())  # position -> is_other
    chosen = sorted(set(int(p) for p in positions))
    if any(p not in valid for p in chosen):
        raise InvalidInput("選択肢が正しくありません。画面を更新してください。")
    if len(chosen) > poll.max_choices:
        raise InvalidInput(f"選べるのは{poll.max_choices}つまでです。")
    other = ""
    if any(valid[p] for p in chosen):
        other = clean_line(other_text or "", label="その他の内容", max_len=OTHER_MAX, required=False)
    # Per member, and per address generously: a whole 自治体 may sit behind one
    # LGWAN gateway.
    busy = "短時間に多くの回答がありました。少し待ってから、もう一度お試しください。"
    ratelimit.hit_local([f"vote:{user.id}"], limit=60, within=timedelta(minutes=1), message=busy)
    if client_key:
        ratelimit.hit_local([f"vote-addr:{client_key}"], limit=5000, within=timedelta(minutes=1),
                            message=busy)
    now = utcnow()
    who = {"p_poll": poll_id, "p_user": user.id}
    ballot_id = conn.execute(_BALLOT_ID, who).scalar()
    fresh = False
    if ballot_id is None and chosen:
        try:
            with session.begin_nested():
                ballot_id = conn.execute(_INSERT_BALLOT, {
                    "poll_id": poll_id, "user_id": user.id, "other_text": other,
                    "created_at": now, "updated_at": now}).inserted_primary_key[0]
            fresh = True
        except sa.exc.IntegrityError:
            # The same person voting in two tabs at once: take the other ballot.
            ballot_id = conn.execute(_BALLOT_ID, who).scalar_one()
    if ballot_id is not None:
        if not fresh:
            conn.execute(_DELETE_CHOICES, {"p_ballot": ballot_id})
        if chosen:
            conn.execute(_INSERT_CHOICE, [
                {"ballot_id": ballot_id, "position": p, "poll_id": poll_id} for p in chosen])
            if not fresh:
                conn.execute(_UPDATE_BALLOT, {"p_ballot": ballot_id, "p_other": other, "p_now": now})
        else:
            conn.execute(_DELETE_BALLOT, {"p_ballot": ballot_id})
            if poll.visibility == ResultsVisibility.after_vote:
                # Results "for voters": a withdrawn vote leaves the results room.
                record(session, AccessChanged(user.id or 0, topic=f"poll-results:{poll_id}"))
    conn.execute(_BUMP_TALLY, {"p_poll": poll_id})
    # Core statements bypass the session: rows it holds must be read again.
    session.expire(poll, ["tally_rev"])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, (Ballot, BallotChoice)):
            session.expire(obj)
    record(session, TallyChanged(poll_id))


# What every page showing polls reads (a channel, a 説明会 room): built once,
# with the polls' ids as one expanding parameter.
_IDS = sa.bindparam("p_ids", expanding=True)
_MY_CHOICES = (
    select(BallotChoice.poll_id, BallotChoice.position)
    .join(Ballot, Ballot.id == BallotChoice.ballot_id)  # type: ignore[arg-type]
    .where(Ballot.user_id == sa.bindparam("p_user"), col(BallotChoice.poll_id).in_(_IDS))
)
_POLLS_BY_ID = select(Poll).where(col(Poll.id).in_(_IDS))
_MESSAGES_BY_ID = select(Message).where(col(Message.id).in_(_IDS))
_OPTIONS_OF = (select(PollOption).where(col(PollOption.poll_id).in_(_IDS))
               .order_by(PollOption.poll_id, PollOption.position))  # type: ignore[arg-type]
_N_OPTIONS = (select(PollOption.poll_id, sa.func.count()).where(col(PollOption.poll_id).in_(_IDS))
              .group_by(PollOption.poll_id))
_CHOICE_COUNTS = (select(BallotChoice.poll_id, BallotChoice.position, sa.func.count())
                  .where(col(BallotChoice.poll_id).in_(_IDS))
                  .group_by(BallotChoice.poll_id, BallotChoice.position))
_VOTERS = select(Ballot.poll_id, sa.func.count()).where(col(Ballot.poll_id).in_(_IDS)).group_by(Ballot.poll_id)
_VOTED_ON = select(Ballot.poll_id).where(Ballot.user_id == sa.bindparam("p_user"), col(Ballot.poll_id).in_(_IDS))


def my_choices(session: Session, user: User, poll_ids: list[int]) -> dict[str, list[int]]:
    if not poll_ids:
        return {}
    rows = session.exec(_MY_CHOICES, params={"p_user": user.id, "p_ids": list(poll_ids)}).all()
    out: dict[str, list[int]] = defaultdict(list)
    for pid, pos in rows:
        out[str(pid)].append(pos)
    return {k: sorted(v) for k, v in out.items()}


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def view(session: Session, poll: Poll, viewer: User | None = None,
         options: Sequence[OptionView] | None = None, *, voters: int | None = None) -> PollView:
    """``editable`` (no ballot yet) is told only to who may edit: to anyone
    else it would say whether anybody voted, even when results are hidden.
    ``options``: the poll's options, and ``voters`` its ballots, when the
    caller read them already."""
    if options is None:
        options = _option_views(_options_of(session, [poll.id or 0]).get(poll.id or 0, []))
    editable = viewer is not None and can_manage(viewer, poll) and (voters == 0 if voters is not None else (
        session.exec(select(Ballot.id).where(Ballot.poll_id == poll.id)).first() is None))
    return PollView(
        id=poll.id or 0, question=poll.question,
        options=list(options),
        multiple=poll.multiple, max_choices=poll.max_choices, anonymous=poll.anonymous,
        visibility=poll.visibility,
        visibility_label=VISIBILITY_LABELS.get(ResultsVisibility(poll.visibility), ""),
        deadline=jst_datetime(poll.deadline) if poll.deadline else "", closed=is_closed(poll),
        author_id=poll.author_id, channel_id=poll.channel_id or 0,
        briefing_id=poll.briefing_id or 0, editable=editable,
    )


def _option_views(options: list[PollOption]) -> list[OptionView]:
    return [OptionView(o.position, o.label, o.is_other) for o in options]


def _options_of(session: Session, poll_ids: list[int]) -> dict[int, list[PollOption]]:
    """The options of these polls, in order: one statement for them all."""
    out: dict[int, list[PollOption]] = defaultdict(list)
    for option in session.exec(_OPTIONS_OF, params={"p_ids": list(poll_ids)}).all():
        out[option.poll_id].append(option)
    return out


def tally(session: Session, poll: Poll) -> TallyView:
    """Counts per option and the number of voters. Callers check can_see_results."""
    return tallies_for(session, [poll])[str(poll.id)]


def tallies_for(session: Session, polls: list[Poll],
                options: dict[int, list[PollOption]] | None = None) -> dict[str, TallyView]:
    """The tallies of these polls: three statements for them all (two when
    their ``options`` were read already). Callers check can_see_results."""
    ids = [p.id or 0 for p in polls]
    if not ids:
        return {}
    if options is not None:
        n_options = {pid: len(options.get(pid, [])) for pid in ids}
    else:
        n_options = {pid: 0 for pid in ids} | {int(pid): int(n) for pid, n in session.exec(
            _N_OPTIONS, params={"p_ids": ids}).all()}
    counts = {pid: [0] * n_options[pid] for pid in ids}
    for pid, pos, n in session.exec(_CHOICE_COUNTS, params={"p_ids": ids}).all():
        if 0 <= pos < n_options[pid]:
            counts[pid][pos] = int(n)
    voters = {int(pid): int(n) for pid, n in session.exec(_VOTERS, params={"p_ids": ids}).all()}
    out = {}
    for poll in polls:
        pid = poll.id or 0
        n = voters.get(pid, 0)
        percents = [round(100 * c / n) if n else 0 for c in counts[pid]]
        out[str(pid)] = TallyView(pid, poll.tally_rev, n, counts[pid], percents)
    return out


@dataclass
class PagePolls:
    """The polls a page shows, for one member: their views, the tallies this
    member may see, and the results rooms (``poll-results:<id>``) those
    tallies come through live when the whole room may not see them."""

    views: dict[str, PollView]
    tallies: dict[str, TallyView]
    results_rooms: set[str]


def views_for(session: Session, user: User, poll_ids: list[int]) -> tuple[
        dict[str, PollView], dict[str, TallyView]]:
    """Poll views, and tallies only for the polls whose results the member may see."""
    page = page_polls(session, user, poll_ids)
    return page.views, page.tallies


@dataclass(frozen=True)
class _SharedPoll:
    """A poll as all its readers see it at one ``tally_rev`` (which every
    vote, edit, close and reopen bumps): a detached copy of its row, its
    options and its tally."""

    poll: Poll
    options: tuple[OptionView, ...]
    tally: TallyView


# A page load reads its polls' revs (one statement) and reuses what every
# reader shares while they hold, rather than reading the polls, their
# options, their counts and their voters (four statements) for each arrival
# in a room with a live poll. What is each member's own (may they see it,
# their choices, "回答した人だけ") is still read for each.
SHARED_SECONDS = 30.0
_shared: SharedViews[_SharedPoll] = SharedViews(SHARED_SECONDS)
_REVS = sa.select(_POLL_T.c.id, _POLL_T.c.tally_rev).where(_POLL_T.c.id.in_(_IDS))


def _shared_polls(session: Session, poll_ids: list[int]) -> dict[int, tuple[Poll, _SharedPoll]]:
    """The polls among ``poll_ids`` that exist, each as a row in ``session``
    (rules look it up there) and its shared part."""
    revs = dict(core(session).execute(_REVS, {"p_ids": list(poll_ids)}).all())
    kept = {pid: _shared.get(pid, rev) for pid, rev in revs.items()}
    out: dict[int, tuple[Poll, _SharedPoll]] = {}
    missing = [pid for pid, shared in kept.items() if shared is None]
    if missing:
        rows = list(session.exec(_POLLS_BY_ID, params={"p_ids": missing}).all())
        options = _options_of(session, [p.id or 0 for p in rows])
        tallies = tallies_for(session, rows, options)
        for poll in rows:
            pid = poll.id or 0
            shared = _SharedPoll(detached_copy(poll), tuple(_option_views(options.get(pid, []))),
                                 tallies[str(pid)])
            _shared.keep(pid, poll.tally_rev, shared)
            out[pid] = (poll, shared)
    for pid, shared in kept.items():
        if shared is not None:
            out[pid] = (session.merge(shared.poll, load=False), shared)
    return out


def page_polls(session: Session, user: User, poll_ids: list[int]) -> PagePolls:
    """A page's polls in a fixed number of statements, whatever their number
    (each kind of row read once for all of them; the shared part of each
    poll kept while its ``tally_rev`` holds)."""
    if not poll_ids:
        return PagePolls({}, {}, set())
    shared = _shared_polls(session, list(poll_ids))
    found = {pid: poll for pid, (poll, _) in shared.items()}
    # The messages they hang on, into the session: the visibility checks
    # below find them there (and a reply's thread parent) without a query each.
    message_ids = {p.message_id for p in found.values() if p.message_id}
    if message_ids:
        loaded = session.exec(_MESSAGES_BY_ID, params={"p_ids": list(message_ids)}).all()
        parents = {m.parent_id for m in loaded if m.parent_id} - message_ids
        if parents:
            session.exec(_MESSAGES_BY_ID, params={"p_ids": list(parents)}).all()
    shown = [found[pid] for pid in dict.fromkeys(poll_ids) if pid in found and can_view(session, user, found[pid])]
    polls = {str(p.id): view(session, p, user, options=shared[p.id or 0][1].options,
                             voters=shared[p.id or 0][1].tally.voters) for p in shown}
    # "回答した人だけ": which of them this member voted on, in one statement.
    after_vote = [p.id for p in shown if p.visibility == ResultsVisibility.after_vote]
    voted = set(session.exec(_VOTED_ON, params={"p_user": user.id, "p_ids": after_vote}).all()) if after_vote else set()
    seen = [p for p in shown if can_see_results(session, user, p, voted=p.id in voted)]
    rooms = {room for room in map(results_topic, seen) if room.startswith("poll-results:")}
    return PagePolls(polls, {str(p.id): shared[p.id or 0][1].tally for p in seen}, rooms)


def channel_of(session: Session, poll: Poll) -> Channel | None:
    return session.get(Channel, poll.channel_id) if poll.channel_id else None

