"""Importing a small Slack export: people, channels, threads, stamps, markup,
search, unread counts, and a second run that changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from kyoso.models import (
    UNSET_ORG_CODE,
    Channel,
    Membership,
    Message,
    SlackImportMessage,
    SlackImportUser,
    Stamp,
    User,
    UserStatus,
)
from kyoso.services import channels, messages, search
from tests.services.slack_import.conftest import counts, do_import
from tests.services.slack_import.export import T0, standard, ts, write
from tests.utils.factories import OSAKA, SAPPORO, make_user, post


@pytest.fixture
def member(session: Session) -> User:
    """A kyoso member whose address is U01's in another case."""
    user = make_user(session, email="taro.yamada@city.sapporo.lg.jp", name="山田 太郎", org=SAPPORO)
    session.rollback()  # the import writes: let go of SQLite's lock
    return user


def _users(session: Session) -> dict[str, User]:
    session.expire_all()
    keys = {k.slack_id: k.user_id for k in session.exec(select(SlackImportUser)).all()}
    return {sid: session.get(User, uid) for sid, uid in keys.items()}  # type: ignore[misc]


def _message(session: Session, channel_slack_id: str, stamp_ts: str) -> Message:
    key = session.exec(select(SlackImportMessage).where(SlackImportMessage.channel == channel_slack_id,
                                                        SlackImportMessage.ts == stamp_ts)).one()
    message = session.get(Message, key.message_id)
    assert message is not None
    return message


def test_people_are_matched_by_email_or_become_unclaimed(session: Session, db_url: str, member: User,
                                                          export_dir: Path) -> None:
    report = do_import(db_url, export_dir)
    people = _users(session)
    assert people["U01"].id == member.id and people["U01"].status == UserStatus.active
    hanako = people["U02"]
    assert (hanako.status, hanako.name, hanako.org_code, hanako.email) == (
        UserStatus.unclaimed, "佐藤 花子", "270008", "hanako@pref.osaka.lg.jp")  # 大阪府 from pref.osaka.lg.jp
    assert hanako.password_hash == ""
    assert people["U03"].org_code == UNSET_ORG_CODE  # example.com: 未設定
    assert people["U04"].email.endswith("@slack-import.invalid")
    assert people["U05"].org_code == "131016" and "削除済み" in people["U05"].department
    assert "ボット" in people["B01USER"].department
    assert report.users_matched == 1
    assert [u["slack_id"] for u in report.users_without_email] == ["U04"]
    assert {u["slack_id"] for u in report.unmatched_users} == {"U02", "U03", "U04", "U05", "B01USER", "B99"}
    kinds = {k.slack_id: k.kind for k in session.exec(select(SlackImportUser)).all()}
    assert kinds["B99"] == "bot" and kinds["U05"] == "deleted" and kinds["U01"] == "member"


def test_org_map_overrides_the_builtin_domains(session: Session, db_url: str, export_dir: Path) -> None:
    report = do_import(db_url, export_dir, org_map={"example.com": OSAKA, "pref.osaka.lg.jp": "999999"})
    people = _users(session)
    assert people["U03"].org_code == OSAKA
    assert people["U02"].org_code == "270008"  # the unknown code is reported and not used
    assert any("999999" in w["message"] for w in report.warnings)


def test_channels_threads_edits_pins_bots_files_and_stamps(session: Session, db_url: str, member: User,
                                                             export_dir: Path) -> None:
    report = do_import(db_url, export_dir)
    general = channels.get_channel_by_slug(session, "general")
    cloud = session.exec(select(Channel).where(Channel.name == "ガバメントクラウド")).one()
    assert general.description == "全体の連絡" and general.archived_at is None
    assert cloud.slug == "slack-c02" and cloud.description == "移行の相談" and cloud.archived_at is not None
    assert general.created_at == datetime.fromtimestamp(T0 - 86400, timezone.utc)

    people = _users(session)
    parent = _message(session, "C01", ts(1))
    reply = _message(session, "C01", ts(2, 123456))
    broadcast = _message(session, "C01", ts(4))
    assert parent.author_id == member.id and parent.parent_id is None
    assert (reply.parent_id, broadcast.parent_id) == (parent.id, parent.id)
    assert parent.reply_count == 2 and parent.last_reply_at == broadcast.created_at
    # Exact timestamps, to the microsecond; the edit shown as edited.
    assert reply.created_at == datetime(2023, 11, 14, 22, 15, 20, 123456, tzinfo=timezone.utc)
    assert reply.edited_at == datetime.fromtimestamp(int(ts(3).split(".")[0]), timezone.utc)
    assert parent.edited_at is None
    pins = session.exec(select(SlackImportMessage.ts).where(col(SlackImportMessage.pinned).is_(True))).all()
    assert pins == [ts(1)]

    stamps = {(s.stamp, s.user_id) for s in session.exec(select(Stamp).where(Stamp.message_id == parent.id))}
    assert stamps == {("👍", people["U02"].id), ("👍", people["U03"].id), ("参考になります", people["U02"].id),
                      (":custom_kansha:", people["U03"].id)}
    view = messages.view(session, parent.id or 0)
    assert view is not None
    thumbs = next(s for s in view.stamps if s.stamp == "👍")
    assert thumbs.count == 2 and thumbs.who == "佐藤 花子、鈴木 一郎"

    file_msg = _message(session, "C01", ts(1501))
    assert "報告書.pdf" in file_msg.body_html and "Slackに残っています" in file_msg.body_html
    bot_msg = _message(session, "C01", ts(1502))
    bot = session.get(User, bot_msg.author_id)
    assert bot is not None and bot.name == "リマインダー" and bot.status == UserStatus.unclaimed
    assert "🔔" in bot_msg.body_html

    assert report.skipped_subtypes == {"channel_join": 1, "channel_topic": 1}
    assert report.not_imported == {"非公開チャンネル": 1, "ダイレクトメッセージ": 2}
    by_slug = {c.slug: c for c in report.channels}
    assert (by_slug["general"].messages, by_slug["general"].threads, by_slug["general"].replies,
            by_slug["general"].stamps, by_slug["general"].broadcast_replies) == (6, 1, 2, 4, 1)
    assert (by_slug["general"].edited, by_slug["general"].pinned, by_slug["general"].files,
            by_slug["general"].bot_messages) == (1, 1, 1, 1)
    assert report.warnings == []


def test_markup_becomes_kyoso_html_with_mention_and_channel_links(session: Session, db_url: str,
                                                                   export_dir: Path) -> None:
    do_import(db_url, export_dir)
    people = _users(session)
    parent = _message(session, "C01", ts(1))
    assert f'<a class="mention" href="/u/{people["U02"].id}" data-user-id="{people["U02"].id}" rel="noopener noreferrer nofollow">@佐藤 花子</a>' in parent.body_html
    reply = _message(session, "C01", ts(2, 123456))
    assert "<strong>共同調達</strong>" in reply.body_html
    assert 'href="https://www.digital.go.jp/a_b?x=1&amp;y=2"' in reply.body_html and ">デジタル庁</a>" in reply.body_html
    broadcast = _message(session, "C01", ts(4))
    assert "&lt;重要&gt;" in broadcast.body_html
    link = _message(session, "C01", ts(1503))
    assert '<a href="/c/slack-c02"' in link.body_html and "#ガバメントクラウド" in link.body_html
    assert "@here" in link.body_html
    code = _message(session, "C02", ts(3000))
    assert "<pre><code>terraform apply" in code.body_html and "<blockquote>" in code.body_html


def test_a_matched_member_is_mentioned_by_their_kyoso_name(session: Session, db_url: str,
                                                           tmp_path: Path) -> None:
    member = make_user(session, email="hanako@pref.osaka.lg.jp", name="佐藤花子", org="270008")
    session.rollback()
    do_import(db_url, write(tmp_path / "ws", standard()))
    parent = _message(session, "C01", ts(1))
    assert f'<a class="mention" href="/u/{member.id}" data-user-id="{member.id}" rel="noopener noreferrer nofollow">@佐藤花子</a>' in parent.body_html


def test_imported_text_is_found_by_search(session: Session, db_url: str, member: User, export_dir: Path) -> None:
    do_import(db_url, export_dir)
    session.expire_all()
    parent = _message(session, "C01", ts(1))
    reader = session.get(User, member.id)
    assert reader is not None
    hits = search.search(session, reader, "回線費用").hits
    assert [h.ref_id for h in hits] == [parent.id]
    assert [h.ref_id for h in search.search(session, reader, "共同調達").hits] == [
        _message(session, "C01", ts(2, 123456)).id]


def test_history_counts_as_read(session: Session, db_url: str, member: User, export_dir: Path) -> None:
    do_import(db_url, export_dir)
    session.expire_all()
    reader = session.get(User, member.id)
    assert reader is not None
    general = channels.get_channel_by_slug(session, "general")
    assert channels.is_member(session, reader, general.id or 0)
    assert channels.unread_counts(session, reader) == {}
    # Unclaimed members keep their channels but are not counted.
    assert general.member_count == 1
    assert len(session.exec(select(Membership).where(Membership.channel_id == general.id)).all()) == 3
    # What is posted after the import is unread as usual.
    other = make_user(session)
    post(session, other, general, "移行後の最初の投稿です")
    assert channels.unread_counts(session, reader) == {general.id: 1}


def test_a_second_run_changes_nothing(session: Session, db_url: str, member: User, export_dir: Path) -> None:
    first = do_import(db_url, export_dir)
    after_first = counts(db_url)
    second = do_import(db_url, export_dir)
    after_second = counts(db_url)
    assert after_second == {**after_first, "auditlog": after_first["auditlog"] + 1}
    assert first.new_messages == 7 and second.new_messages == 0
    a, b = first.to_dict(), second.to_dict()
    for d in (a, b):
        d.pop("seconds")
        d["totals"].pop("new_messages")
        for c in d["channels"]:
            c.pop("new_messages")
    assert a == b


def test_dry_run_writes_nothing_and_reports_the_same(session: Session, db_url: str, member: User,
                                                      export_dir: Path) -> None:
    before = counts(db_url)
    dry = do_import(db_url, export_dir, dry_run=True)
    assert counts(db_url) == before
    real = do_import(db_url, export_dir)
    a, b = dry.to_dict(), real.to_dict()
    for d in (a, b):
        d.pop("seconds")
        d.pop("dry_run")
    assert a == b
    assert "試行" in dry.to_text() and "試行" not in real.to_text()


def test_zip_and_folder_import_alike(session: Session, db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "ws", standard(), as_zip=True)
    report = do_import(db_url, path)
    assert report.messages == 7 and report.warnings == []
    assert counts(db_url)["message"] == 7


def test_two_slack_users_with_one_address_become_one_member(session: Session, db_url: str,
                                                            tmp_path: Path) -> None:
    data = standard()
    data["users.json"].append({"id": "U09", "team_id": "T0KYOSO", "name": "hanako2",
                               "profile": {"real_name": "佐藤 花子", "email": "HANAKO@pref.osaka.lg.jp"}})
    data["general"]["2023-11-16.json"] = [{"type": "message", "user": "U09", "text": "別アカウントから", "ts": ts(5000)}]
    data["private-room"] = {"2023-11-14.json": [{"type": "message", "user": "U02", "text": "非公開", "ts": ts(7)}]}
    data["groups.json"] = [{"id": "G1", "name": "private-room"}]
    report = do_import(db_url, write(tmp_path / "ws", data))
    people = _users(session)
    assert people["U09"].id == people["U02"].id
    assert _message(session, "C01", ts(5000)).author_id == people["U02"].id
    assert report.warnings == []  # the private channel's folder is not imported, and not a surprise
    session.rollback()
    assert counts(db_url)["message"] == 8
