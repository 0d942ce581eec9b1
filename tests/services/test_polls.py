"""Polls: rules of voting, who sees results, anonymity, exports."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import Ballot, Poll, ResultsVisibility, Role
from kyoso.services import export, messages, poll_results, polls
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from tests.utils.factories import KOCHI, OSAKA, SAPPORO, SOUMU, make_channel, make_poll, make_user


def test_poll_is_a_message_in_the_channel(session: Session) -> None:
    author = make_user(session, role=Role.national)
    channel = make_channel(session)
    poll = make_poll(session, author, channel)
    views, _ = messages.channel_page(session, author, channel.id or 0)
    assert views[-1].poll_id == poll.id
    assert "移行の時期は？" in views[-1].body_html


@pytest.mark.parametrize("options,msg", [
    (["ひとつだけ"], "2つ以上"),
    ([f"選択肢{i}" for i in range(21)], "20個まで"),
    (["同じ", "同じ"], "重複"),
])
def test_option_rules(session: Session, options: list[str], msg: str) -> None:
    author = make_user(session)
    with pytest.raises(InvalidInput) as err:
        make_poll(session, author, make_channel(session), options=options)
    assert msg in err.value.message


def test_deadline_in_the_past_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput):
        make_poll(session, make_user(session), make_channel(session),
                  deadline=utcnow() - timedelta(minutes=1))


def test_vote_change_and_withdraw(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    polls.vote(session, voter, poll.id or 0, [0])
    session.commit()
    assert polls.tally(session, poll).counts == [1, 0, 0]
    polls.vote(session, voter, poll.id or 0, [2])
    session.commit()
    t = polls.tally(session, poll)
    assert t.counts == [0, 0, 1] and t.voters == 1
    polls.vote(session, voter, poll.id or 0, [])
    session.commit()
    assert polls.tally(session, poll).voters == 0


def test_one_ballot_per_person_is_a_database_constraint(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    session.add(Ballot(poll_id=poll.id, user_id=voter.id))  # type: ignore[arg-type]
    session.commit()
    session.add(Ballot(poll_id=poll.id, user_id=voter.id))  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()


def test_double_vote_counts_once(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    polls.vote(session, voter, poll.id or 0, [1])
    polls.vote(session, voter, poll.id or 0, [1])
    session.commit()
    assert polls.tally(session, poll).counts == [0, 1, 0]
    assert len(session.exec(select(Ballot)).all()) == 1


def test_too_many_picks_and_single_choice(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    channel = make_channel(session)
    single = make_poll(session, author, channel)
    with pytest.raises(InvalidInput):
        polls.vote(session, voter, single.id or 0, [0, 1])
    multi = make_poll(session, author, channel, options=["A", "B", "C", "D"], multiple=True, max_choices=2)
    polls.vote(session, voter, multi.id or 0, [0, 3])
    with pytest.raises(InvalidInput) as err:
        polls.vote(session, voter, multi.id or 0, [0, 1, 2])
    assert "2つまで" in err.value.message
    with pytest.raises(InvalidInput):
        polls.vote(session, voter, multi.id or 0, [7])


def test_vote_after_close_and_after_deadline_is_refused(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    channel = make_channel(session)
    poll = make_poll(session, author, channel)
    polls.set_closed(session, author, poll.id or 0, True)
    with pytest.raises(NotAllowed):
        polls.vote(session, voter, poll.id or 0, [0])
    polls.set_closed(session, author, poll.id or 0, False)
    polls.vote(session, voter, poll.id or 0, [0])
    timed = make_poll(session, author, channel, deadline=utcnow() + timedelta(hours=1))
    timed.deadline = utcnow() - timedelta(seconds=1)
    session.add(timed)
    session.commit()
    with pytest.raises(NotAllowed):
        polls.vote(session, voter, timed.id or 0, [0])
    assert polls.close_due(session) == 1 and session.get(Poll, timed.id).closed_at is not None  # type: ignore[union-attr]

def test_only_asker_and_staff_close(session: Session) -> None:
    author, other = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    poll = make_poll(session, author, make_channel(session))
    with pytest.raises(NotAllowed):
        polls.set_closed(session, other, poll.id or 0, True)
    polls.set_closed(session, moderator, poll.id or 0, True)
    assert polls.is_closed(poll)


def test_edit_until_the_first_vote(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    polls.edit_poll(session, author, poll.id or 0, polls.PollInput("時期は？", ["早い", "遅い"]))
    assert [o.label for o in polls.view(session, poll).options] == ["早い", "遅い"]
    polls.vote(session, voter, poll.id or 0, [0])
    with pytest.raises(InvalidInput):
        polls.edit_poll(session, author, poll.id or 0, polls.PollInput("時期は？", ["x", "y"]))


def test_vote_on_a_poll_the_member_cannot_see(session: Session) -> None:
    author, voter = make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    messages.delete_message(session, author, poll.message_id or 0)
    with pytest.raises(NotFound):
        polls.vote(session, voter, poll.id or 0, [0])
    with pytest.raises(NotFound):
        polls.vote(session, voter, 999999, [0])


@pytest.mark.parametrize("visibility", [ResultsVisibility.after_vote, ResultsVisibility.after_close,
                                        ResultsVisibility.owner])
def test_hidden_results_are_not_in_any_view(session: Session, visibility: str) -> None:
    author, voter, other = make_user(session), make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session), visibility=visibility)
    polls.vote(session, other, poll.id or 0, [1])
    views, tallies = polls.views_for(session, voter, [poll.id or 0])
    assert str(poll.id) in views and tallies == {}
    # The poll view carries no count of any kind.
    blob = json.dumps(dataclasses.asdict(views[str(poll.id)]), ensure_ascii=False)
    assert "voters" not in blob and "counts" not in blob
    with pytest.raises(NotAllowed):
        poll_results.affiliation_results(session, voter, poll.id or 0)
    # The asker always sees them.
    assert polls.views_for(session, author, [poll.id or 0])[1][str(poll.id)].counts == [0, 1, 0]
    polls.vote(session, voter, poll.id or 0, [0])
    visible = polls.views_for(session, voter, [poll.id or 0])[1]
    assert (str(poll.id) in visible) == (visibility == ResultsVisibility.after_vote)
    polls.set_closed(session, author, poll.id or 0, True)
    visible = polls.views_for(session, voter, [poll.id or 0])[1]
    assert (str(poll.id) in visible) == (visibility != ResultsVisibility.owner)


def test_results_topic_follows_visibility(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    assert polls.results_topic(make_poll(session, author, channel)) == f"channel:{channel.id}"
    hidden = make_poll(session, author, channel, visibility=ResultsVisibility.after_close)
    assert polls.results_topic(hidden) == f"poll-results:{hidden.id}"
    polls.set_closed(session, author, hidden.id or 0, True)
    assert polls.results_topic(hidden) == f"channel:{channel.id}"


def _people(session: Session):  # type: ignore[no-untyped-def]
    return [
        make_user(session, org=SAPPORO, name="札幌の人"),
        make_user(session, org=OSAKA, name="大阪の人"),
        make_user(session, org=KOCHI, name="高知県の人"),
        make_user(session, org=SOUMU, role=Role.national, name="総務省の人"),
    ]


def test_results_by_affiliation(session: Session) -> None:
    author = make_user(session, role=Role.national)
    # Named: every cell shows (an anonymous poll hides small ones, test_anonymity.py).
    poll = make_poll(session, author, make_channel(session), anonymous=False)
    sapporo, osaka, kochi, soumu = _people(session)
    for person, choice in ((sapporo, 0), (osaka, 0), (kochi, 1), (soumu, 2)):
        polls.vote(session, person, poll.id or 0, [choice])
    r = poll_results.affiliation_results(session, author, poll.id or 0)
    groups = {row.label: (row.voters, row.counts) for row in r.splits_by_group}
    assert groups == {"都道府県": (1, [0, 1, 0]), "市区町村": (2, [2, 0, 0]), "国": (1, [0, 0, 1])}
    regions = {row.label: row.voters for row in r.splits_by_region}
    assert regions["北海道"] == 1 and regions["近畿"] == 1 and regions["四国"] == 1 and regions["国"] == 1
    assert regions["関東"] == 0
    assert r.organisations_answered == 4
    assert "北海道" not in r.prefectures_silent and "東京都" in r.prefectures_silent
    assert len(r.prefectures_silent) == 44
    tiles = {t.name: t.voters for t in r.tiles}
    assert len(tiles) == 47 and tiles["大阪府"] == 1 and tiles["沖縄県"] == 0


def test_anonymous_poll_never_exposes_a_voter(session: Session) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=True, allow_other=True)
    people = _people(session)
    for person in people:
        polls.vote(session, person, poll.id or 0, [3], other_text="独自の方法で対応")
    r = poll_results.affiliation_results(session, author, poll.id or 0)
    assert r.voters_by_option == []
    _, header, rows = poll_results.ballots_for_export(session, author, poll.id or 0)
    everything = json.dumps([dataclasses.asdict(r), header, rows,
                             dataclasses.asdict(polls.tally(session, poll)),
                             dataclasses.asdict(polls.view(session, poll))], ensure_ascii=False)
    for person in people:
        assert person.name not in everything and person.email not in everything
    # The free texts of an anonymous poll carry no 団体 (issue 14).
    assert ("匿名の回答", "独自の方法で対応") in r.other_texts
    assert "北海道札幌市" not in json.dumps(r.other_texts, ensure_ascii=False)


def test_named_poll_export_one_row_per_ballot(session: Session) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=False)
    sapporo, osaka, *_ = _people(session)
    polls.vote(session, sapporo, poll.id or 0, [0])
    polls.vote(session, osaka, poll.id or 0, [2])
    _, header, rows = poll_results.ballots_for_export(session, author, poll.id or 0)
    assert header[:5] == ["回答日時", "氏名", "団体", "都道府県", "部課名"]
    names = [r[1] for r in rows]
    assert names == ["札幌の人", "大阪の人"]
    assert rows[0][5:8] == ["1", "", ""] and rows[1][5:8] == ["", "", "1"]
    r = poll_results.affiliation_results(session, author, poll.id or 0)
    assert r.voters_by_option[0] == ["札幌の人（北海道札幌市）"]


def test_export_is_for_the_asker_and_staff_only(session: Session) -> None:
    author, other = make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    with pytest.raises(NotAllowed):
        poll_results.ballots_for_export(session, other, poll.id or 0)


def test_csv_opens_with_japanese_and_numbers_match(session: Session) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=True)
    for person, choice in zip(_people(session), (0, 0, 1, 2)):
        polls.vote(session, person, poll.id or 0, [choice])
    _, header, rows = poll_results.ballots_for_export(session, author, poll.id or 0)
    data = export.to_csv(header, rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["区分", "回答者数", "今年度", "来年度", "未定"]
    assert table[1] == ["全体", "4", "2", "1", "1"]
    t = polls.tally(session, poll)
    assert [int(x) for x in table[1][2:]] == t.counts


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1",
                                  "＝1+1"])
def test_formula_injection_is_neutralised(cell: str) -> None:
    data = export.to_csv(["名前"], [[cell]]).decode("utf-8-sig")
    value = list(csv.reader(io.StringIO(data)))[1][0]
    assert value.startswith("'") and value[1:] == cell


def test_plain_negative_numbers_stay_numbers() -> None:
    data = export.to_csv(["n"], [["-12"], ["3"]]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(data)))[1:] == [["-12"], ["3"]]


def test_named_cell_starting_with_equals_is_neutralised_in_a_real_export(session: Session) -> None:
    author = make_user(session, role=Role.national)
    poll = make_poll(session, author, make_channel(session), anonymous=False)
    evil = make_user(session, name="=cmd|' /C calc'!A0")
    polls.vote(session, evil, poll.id or 0, [0])
    _, header, rows = poll_results.ballots_for_export(session, author, poll.id or 0)
    table = list(csv.reader(io.StringIO(export.to_csv(header, rows).decode("utf-8-sig"))))
    assert table[1][1] == "'=cmd|' /C calc'!A0"


def test_chart_svg_escapes_labels() -> None:
    svg = export.bar_chart_svg("<script>", ["<b>A</b>", "B"], [3, 1])
    assert "<script>" not in svg and "&lt;b&gt;A&lt;/b&gt;" in svg and "3（75%）" in svg


def test_a_pages_polls_load_in_the_same_statements_however_many(session: Session) -> None:
    author, reader = make_user(session), make_user(session)
    channel = make_channel(session)
    public = [make_poll(session, author, channel) for _ in range(5)]
    private = make_poll(session, author, channel, visibility=ResultsVisibility.after_vote)
    for i, poll in enumerate(public):
        polls.vote(session, reader, poll.id or 0, [i % 3])
    polls.vote(session, reader, private.id or 0, [2])
    session.commit()
    ids = [p.id or 0 for p in [*public, private]]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.startswith("BEGIN"):  # SQLite's, where this session's transaction starts
            statements.append(statement)

    def load(ids: list[int]) -> polls.PagePolls:
        session.expunge_all()  # nothing already in the session
        statements.clear()
        sa.event.listen(sa.Engine, "before_cursor_execute", count)
        try:
            return polls.page_polls(session, session.get(type(reader), reader.id), ids)
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", count)

    load([ids[0], ids[-1]])  # one of each kind: each kind of statement once
    one, first = len(statements), list(statements)
    page = load(ids)
    assert len(statements) == one, (first, statements)
    # The same views and tallies as one at a time, and the private results' room.
    me = session.get(type(reader), reader.id)
    for pid in ids:
        assert page.views[str(pid)] == polls.views_for(session, me, [pid])[0][str(pid)]
        assert page.tallies[str(pid)] == polls.tally(session, polls.get_poll(session, pid))
    assert page.results_rooms == {f"poll-results:{ids[-1]}"}


def test_arrivals_share_a_polls_rows_while_its_rev_holds(session: Session, db_url: str) -> None:
    """A page's polls: the row, options and tally are read once per
    ``tally_rev`` and shared; each member's own part is read for each, and a
    vote or an edit shows at the next load."""
    from sqlalchemy import event

    from kyoso import db

    author, voter, reader = make_user(session), make_user(session), make_user(session)
    poll = make_poll(session, author, make_channel(session))
    pid = poll.id or 0

    def load(member):  # type: ignore[no-untyped-def]
        seen: list[str] = []

        def statement(_conn, _cur, sql: str, *_a) -> None:  # type: ignore[no-untyped-def]
            seen.append(sql.split("FROM")[1].split()[0] if "FROM" in sql else sql)

        event.listen(sa.Engine, "before_cursor_execute", statement)
        try:
            with db.read_scope(db_url) as s:
                page = polls.page_polls(s, s.get(type(member), member.id), [pid])
        finally:
            event.remove(sa.Engine, "before_cursor_execute", statement)
        return page, seen

    first, read = load(reader)
    assert any("polloption" in t for t in read)  # the first arrival reads it all
    again, read = load(author)
    assert not any("polloption" in t or "ballotchoice" in t for t in read)
    assert again.tallies == first.tallies and again.views[str(pid)].options == first.views[str(pid)].options
    assert again.views[str(pid)].editable and not first.views[str(pid)].editable  # the author's, before any vote

    polls.vote(session, voter, pid, [1])
    session.commit()
    after, read = load(reader)
    assert any("ballotchoice" in t for t in read)
    assert after.tallies[str(pid)].counts == [0, 1, 0] and after.tallies[str(pid)].rev > first.tallies[str(pid)].rev
    assert not load(author)[0].views[str(pid)].editable  # voted on: no longer editable

    # The shared copy is the poll at its rev: a change that bumps it shows.
    session.execute(sa.update(Poll).where(Poll.id == pid).values(question="変えた"))  # no rev bump: as kept
    session.commit()
    assert load(reader)[0].views[str(pid)].question == "移行の時期は？"
    polls.set_closed(session, author, pid, True)  # bumps the rev
    session.commit()
    closed = load(reader)[0].views[str(pid)]
    assert closed.closed and closed.question == "変えた"
