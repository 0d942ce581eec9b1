"""A poll's results in depth, for its results page (/polls/[id]): by
affiliation (国 / 都道府県 / 市区町村, region, prefecture, the tile map), the
その他 texts, and the CSV export. Never who voted in an anonymous poll."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.models import Ballot, BallotChoice, Organisation, Poll, PollOption, User
from kyoso.orgdata import PREFECTURES
from kyoso.services import affiliation, polls
from kyoso.services.affiliation import PrefectureCell
from kyoso.services.errors import NotAllowed
from kyoso.services.timefmt import jst_datetime


@dataclass
class SplitRow:
    label: str
    voters: int
    counts: list[int]
    hidden: bool = False  # fewer voters than the anonymity threshold (anonymous polls)


@dataclass
class AffiliationResults:
    """Results by affiliation: never who, only how many from where."""

    splits_by_group: list[SplitRow]
    splits_by_region: list[SplitRow]
    splits_by_prefecture: list[SplitRow]
    organisations_answered: int
    prefectures_silent: list[str]
    tiles: list[PrefectureCell]
    other_texts: list[tuple[str, str]] = field(default_factory=list)  # (団体, text)
    voters_by_option: list[list[str]] = field(default_factory=list)  # named polls only


def _suppress(rows: list[SplitRow]) -> list[SplitRow]:
    """k-anonymity: a cell with fewer voters than the threshold shows no
    counts (``affiliation.too_few``), only that it was too small to show."""
    return [SplitRow(affiliation.few_label(r.label), 0, [0] * len(r.counts), hidden=True)
            if affiliation.too_few(r.voters) else r for r in rows]


def affiliation_results(session: Session, user: User, poll_id: int) -> AffiliationResults:
    poll = polls.get_poll(session, poll_id)
    if not polls.can_see_results(session, user, poll):
        raise NotAllowed("このアンケートの結果はまだ公開されていません。")
    n_options = int(session.exec(
        select(sa.func.count()).select_from(PollOption).where(PollOption.poll_id == poll.id)
    ).one())
    rows = session.exec(
        select(Ballot.id, Ballot.other_text, User.name, Organisation)
        .join(User, User.id == Ballot.user_id)  # type: ignore[arg-type]
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(Ballot.poll_id == poll_id)
    ).all()
    choices: dict[int, list[int]] = defaultdict(list)
    for bid, pos in session.exec(
        select(BallotChoice.ballot_id, BallotChoice.position).where(BallotChoice.poll_id == poll_id)
    ).all():
        choices[bid].append(pos)

    def split(key_of, labels: list[tuple[str, str]]) -> list[SplitRow]:  # type: ignore[no-untyped-def]
        voters: Counter[str] = Counter()
        counts: dict[str, list[int]] = {k: [0] * n_options for k, _ in labels}
        for bid, _, _, org in rows:
            key = key_of(org)
            if key not in counts:
                continue
            voters[key] += 1
            for p in choices.get(bid, []):
                if 0 <= p < n_options:
                    counts[key][p] += 1
        return [SplitRow(label, voters[k], counts[k]) for k, label in labels]

    by_group = split(affiliation.group_of, list(affiliation.GROUP_LABELS.items()))
    by_region = split(lambda o: o.region, [(r, r) for r in affiliation.REGION_LABELS])
    by_pref = split(lambda o: o.prefecture_code, [(code, name) for code, name, _ in PREFECTURES])
    answered_prefs = {r.label for r in by_pref if r.voters}
    if poll.anonymous:
        by_group, by_region, by_pref = (_suppress(r) for r in (by_group, by_region, by_pref))
    tiles = affiliation.tiles({r.label: r.voters for r in by_pref if not r.hidden})
    options = session.exec(select(PollOption).where(PollOption.poll_id == poll_id)).all()
    other_positions = {o.position for o in options if o.is_other}
    # The その他 texts of an anonymous poll carry no 団体, in no 団体's order.
    other_texts = sorted(
        (affiliation.ANONYMOUS_LABEL if poll.anonymous else org.display_name, text)
        for bid, text, _, org in rows if text and other_positions & set(choices.get(bid, [])))
    if not poll.anonymous:
        other_texts = [(org.display_name, text) for bid, text, _, org in rows
                       if text and other_positions & set(choices.get(bid, []))]
    voters_by_option: list[list[str]] = []
    if not poll.anonymous:
        voters_by_option = [[] for _ in range(n_options)]
        for bid, _, name, org in rows:
            for p in choices.get(bid, []):
                if 0 <= p < n_options:
                    voters_by_option[p].append(f"{name}（{org.display_name}）")
    return AffiliationResults(
        splits_by_group=by_group, splits_by_region=by_region, splits_by_prefecture=by_pref,
        organisations_answered=len({org.code for *_, org in rows}),
        prefectures_silent=[name for _, name, _ in PREFECTURES if name not in answered_prefs],
        tiles=tiles, other_texts=other_texts, voters_by_option=voters_by_option,
    )


def ballots_for_export(session: Session, user: User, poll_id: int) -> tuple[Poll, list[str], list[list[str]]]:
    """Rows for the CSV: one per ballot for a named poll, aggregated for an anonymous one."""
    poll = polls.get_poll(session, poll_id)
    if not polls.can_manage(user, poll):
        raise NotAllowed("エクスポートできるのは作成者と運営だけです。")
    options = session.exec(
        select(PollOption).where(PollOption.poll_id == poll_id).order_by(PollOption.position)  # type: ignore[arg-type]
    ).all()
    labels = [o.label for o in options]
    if poll.anonymous:
        t = polls.tally(session, poll)
        results = affiliation_results(session, user, poll_id)
        header = ["区分", "回答者数", *labels]
        rows = [["全体", str(t.voters), *map(str, t.counts)]]
        rows += [[f"区分: {r.label}", str(r.voters), *map(str, r.counts)] for r in results.splits_by_group]
        rows += [[f"地方: {r.label}", str(r.voters), *map(str, r.counts)] for r in results.splits_by_region]
        rows += [[f"都道府県: {r.label}", str(r.voters), *map(str, r.counts)]
                 for r in results.splits_by_prefecture]
        return poll, header, rows
    header = ["回答日時", "氏名", "団体", "都道府県", "部課名", *labels, "その他の内容"]
    # Every choice of the poll in one query, not one per ballot.
    chosen_by_ballot: dict[int, set[int]] = defaultdict(set)
    for ballot_id, position in session.exec(
            select(BallotChoice.ballot_id, BallotChoice.position).where(BallotChoice.poll_id == poll_id)).all():
        chosen_by_ballot[ballot_id].add(position)
    rows = []
    for ballot, u, org in session.exec(
        select(Ballot, User, Organisation)
        .join(User, User.id == Ballot.user_id)  # type: ignore[arg-type]
        .join(Organisation, Organisation.code == User.org_code)  # type: ignore[arg-type]
        .where(Ballot.poll_id == poll_id).order_by(Ballot.id)  # type: ignore[arg-type]
    ).all():
        chosen = chosen_by_ballot.get(ballot.id or 0, set())
        rows.append([
            jst_datetime(ballot.updated_at), u.name, org.display_name, org.prefecture, u.department,
            *("1" if o.position in chosen else "" for o in options), ballot.other_text,
        ])
    return poll, header, rows
