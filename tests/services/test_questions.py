"""Questions (質問) and answers (解決済み): who may mark what, and the lists of
unresolved questions."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from kyoso.models import Role
from kyoso.services import channels, events, messages, questions
from kyoso.services.errors import InvalidInput, NotAllowed, NotFound
from kyoso.services.events import InboxChanged, MessageChanged
from tests.utils.factories import make_channel, make_user, post


def test_the_author_marks_a_thread_as_a_question(session: Session) -> None:
    author, other = make_user(session), make_user(session)
    channel = make_channel(session)
    thread = post(session, author, channel, "標準化の移行テストは何回しましたか")
    with pytest.raises(NotAllowed):
        questions.mark_question(session, other, thread.id or 0)
    events.take(session)
    questions.mark_question(session, author, thread.id or 0)
    assert events.take(session) == [MessageChanged(channel.id, thread.id, None, "marked")]  # type: ignore[arg-type]
    view = messages.view(session, thread.id or 0)
    assert view and view.is_question and not view.resolved
    questions.mark_question(session, author, thread.id or 0)  # already
    assert events.take(session) == []


def test_a_reply_cannot_be_a_question(session: Session) -> None:
    author = make_user(session)
    channel = make_channel(session)
    thread = post(session, author, channel, "質問です")
    reply = post(session, author, channel, "補足です", parent=thread)
    with pytest.raises(InvalidInput):
        questions.mark_question(session, author, reply.id or 0)


def test_the_asker_or_a_moderator_chooses_the_answer(session: Session) -> None:
    asker, helper, bystander = make_user(session), make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    channel = make_channel(session)
    thread = post(session, asker, channel, "コンビニ交付の手数料はどう決めましたか")
    first = post(session, helper, channel, "近隣市に合わせました", parent=thread)
    second = post(session, bystander, channel, "条例で定めています", parent=thread)
    with pytest.raises(InvalidInput):  # not a question yet
        questions.choose_answer(session, asker, first.id or 0)
    questions.mark_question(session, asker, thread.id or 0)
    with pytest.raises(NotAllowed):
        questions.choose_answer(session, bystander, second.id or 0)
    questions.choose_answer(session, asker, first.id or 0)
    views = {v.id: v for v in messages.thread(session, asker, thread.id or 0)[1]}
    assert views[first.id].is_answer and not views[second.id].is_answer  # type: ignore[index]
    assert messages.view(session, thread.id or 0).resolved  # type: ignore[union-attr]
    # 運営 may change it; both replies' views change, so both are announced.
    events.take(session)
    questions.choose_answer(session, moderator, second.id or 0)
    recorded = events.take(session)
    changed = {e.message_id for e in recorded if isinstance(e, MessageChanged)}
    assert changed == {thread.id, first.id, second.id}
    # The asker and the one whose reply was chosen hear of it in their inbox.
    assert {e.user_id for e in recorded if isinstance(e, InboxChanged)} == {asker.id, bystander.id}
    views = {v.id: v for v in messages.thread(session, asker, thread.id or 0)[1]}
    assert views[second.id].is_answer and not views[first.id].is_answer  # type: ignore[index]


def test_a_thread_starter_is_not_an_answer(session: Session) -> None:
    asker = make_user(session)
    channel = make_channel(session)
    thread = post(session, asker, channel, "質問")
    questions.mark_question(session, asker, thread.id or 0)
    with pytest.raises(NotFound):
        questions.choose_answer(session, asker, thread.id or 0)


def test_clearing_the_answer_or_the_question_unresolves(session: Session) -> None:
    asker, helper = make_user(session), make_user(session)
    channel = make_channel(session)
    thread = post(session, asker, channel, "質問")
    answer = post(session, helper, channel, "回答", parent=thread)
    questions.mark_question(session, asker, thread.id or 0)
    questions.choose_answer(session, asker, answer.id or 0)
    with pytest.raises(NotAllowed):
        questions.clear_answer(session, helper, thread.id or 0)
    questions.clear_answer(session, asker, thread.id or 0)
    assert not messages.view(session, thread.id or 0).resolved  # type: ignore[union-attr]
    questions.choose_answer(session, asker, answer.id or 0)
    questions.mark_question(session, asker, thread.id or 0, False)
    view = messages.view(session, thread.id or 0)
    assert view and not view.is_question and not view.resolved


def test_deleting_the_answer_unresolves_the_question(session: Session) -> None:
    asker, helper = make_user(session), make_user(session)
    channel = make_channel(session)
    thread = post(session, asker, channel, "質問")
    answer = post(session, helper, channel, "回答", parent=thread)
    questions.mark_question(session, asker, thread.id or 0)
    questions.choose_answer(session, asker, answer.id or 0)
    messages.delete_message(session, helper, answer.id or 0)
    assert not messages.view(session, thread.id or 0).resolved  # type: ignore[union-attr]


def test_nothing_changes_in_an_archived_channel(session: Session) -> None:
    asker = make_user(session)
    admin = make_user(session, role=Role.admin)
    channel = make_channel(session)
    thread = post(session, asker, channel, "質問")
    channels.set_archived(session, admin, channel.id or 0, True)
    with pytest.raises(NotAllowed):
        questions.mark_question(session, asker, thread.id or 0)


def test_unresolved_questions_across_and_per_channel(session: Session) -> None:
    asker, helper = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    a, b = make_channel(session), make_channel(session)
    open_a = post(session, asker, a, "未解決の質問A")
    open_b = post(session, asker, b, "未解決の質問B")
    solved = post(session, asker, a, "解決した質問")
    hidden = post(session, asker, b, "非表示になる質問")
    post(session, asker, a, "ただの投稿")
    for m in (open_a, open_b, solved, hidden):
        questions.mark_question(session, asker, m.id or 0)
    answer = post(session, helper, a, "回答", parent=solved)
    questions.choose_answer(session, asker, answer.id or 0)
    messages.hide_message(session, moderator, hidden.id or 0)
    session.commit()

    everywhere, more = questions.unresolved(session, helper)
    assert [q.id for q in everywhere] == [open_b.id, open_a.id] and not more
    assert everywhere[0].link == f"/c/{b.slug}?thread={open_b.id}&m={open_b.id}"
    in_a, _ = questions.unresolved(session, helper, channel_id=a.id)
    assert [q.id for q in in_a] == [open_a.id]
    counts = {c.slug: c.count for c in questions.unresolved_counts(session, helper)}
    assert counts == {a.slug: 1, b.slug: 1}
    first, more = questions.unresolved(session, helper, limit=1)
    assert more and [q.id for q in first] == [open_b.id]
    rest, more = questions.unresolved(session, helper, before_id=first[0].id, limit=1)
    assert [q.id for q in rest] == [open_a.id] and not more


def test_no_open_questions_is_an_empty_list_not_none(session: Session) -> None:
    # None reached the /questions page as null and crashed its render.
    member = make_user(session)
    assert questions.unresolved(session, member) == ([], False)
