"""The import itself: people, channels, then each channel's messages.

Exact and resumable: every written message has its key (workspace, channel,
ts) in ``slack_import_message``, written in the same transaction as the
message, its stamps and its search document. A batch of messages is one
transaction; a run skips the keys already there, so a second run writes
nothing and a run killed at any point, run again, ends as one clean run.
Reply counts, memberships and channel counts are recomputed (not added to),
so they are idempotent too.

Fast: messages are converted and tokenised outside any transaction, then
written with Core ``executemany`` in batches, with ids reserved up front
(SQLite: the write lock is held, so max(id) + n; PostgreSQL: the sequence),
so threads, stamps and search documents point at them in the same batch.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from kyoso.db import utcnow
from kyoso.models import (
    UNSET_ORG_CODE,
    AuditLog,
    Channel,
    ChannelKind,
    Membership,
    Message,
    Organisation,
    Role,
    SearchDoc,
    SlackImportChannel,
    SlackImportMessage,
    SlackImportUser,
    Stamp,
    User,
    UserStatus,
)
from kyoso.services import markup
from kyoso.services.search.index import MESSAGE, plain_body
from kyoso.services.search.tokens import document_tokens, tsvector
from kyoso.services.slack_import.mrkdwn import Converter, stamp_for
from kyoso.services.slack_import.people import builtin_domains, display_name, org_for_email
from kyoso.services.slack_import.reader import Export, ExportError, FileProblem, line_of
from kyoso.services.slack_import.report import ChannelReport, Report

BATCH = 2000
MAX_BODY = 8000  # Message.body
MAX_HTML = 40000  # Message.body_html
# Subtypes that are conversation; every other one (joins, topic changes, ...) is skipped and counted.
CONVERSATION = {"", "thread_broadcast", "reply_broadcast", "bot_message", "file_share", "me_message",
                "slackbot_response", "tombstone"}
BROADCAST = {"thread_broadcast", "reply_broadcast"}
_TS = re.compile(r"^\d{1,12}(\.\d{1,6})?$")
_SLUG_OK = re.compile(r"[^a-z0-9-]+")

_U, _C, _M, _MB = (User.__table__, Channel.__table__, Message.__table__,  # type: ignore[attr-defined]
                   Membership.__table__)  # type: ignore[attr-defined]
_S, _D = Stamp.__table__, SearchDoc.__table__  # type: ignore[attr-defined]
_KU, _KC, _KM = (SlackImportUser.__table__, SlackImportChannel.__table__,  # type: ignore[attr-defined]
                 SlackImportMessage.__table__)  # type: ignore[attr-defined]
_A = AuditLog.__table__  # type: ignore[attr-defined]

# Built once: each runs for every batch.
_INSERT_MESSAGE = sa.insert(_M)
_INSERT_KEY = sa.insert(_KM)
_INSERT_STAMP = sa.insert(_S)
_INSERT_DOC = sa.insert(_D)
_INSERT_FTS = sa.text("INSERT INTO search_fts(rowid, grams, tails) VALUES (:id, :g, :t)")
_r = _M.alias("r")
_visible_replies = sa.and_(_r.c.parent_id == _M.c.id, _r.c.deleted_at.is_(None), _r.c.hidden_at.is_(None))
_RECOUNT_REPLIES = (
    sa.update(_M).where(_M.c.id == sa.bindparam("p_id"))
    .values(reply_count=sa.select(sa.func.count()).select_from(_r).where(_visible_replies).scalar_subquery(),
            last_reply_at=sa.select(sa.func.max(_r.c.created_at)).where(_visible_replies).scalar_subquery(),
            rev=_M.c.rev + 1)
)


def ts_to_datetime(ts: str) -> datetime:
    """Slack's ``ts`` ("1700000000.123456", seconds since 1970 in UTC) exactly."""
    secs, _, frac = ts.partition(".")
    return datetime.fromtimestamp(int(secs), timezone.utc) + timedelta(microseconds=int((frac or "0").ljust(6, "0")[:6]))


@dataclass
class Options:
    dry_run: bool = False
    org_map: dict[str, str] = field(default_factory=dict)
    batch: int = BATCH
    max_file_bytes: int = 64 * 1024 * 1024
    # (bytes of day files done, bytes in all, messages seen): for a progress bar.
    progress: Callable[[int, int, int], None] | None = None


class _Item:
    """One message on its way to the database."""

    __slots__ = ("ts", "id", "parent", "author_id", "body", "html", "created_at", "edited_at",
                 "deleted_at", "pinned", "stamps", "doc_body", "grams", "tails", "tsv")

    def __init__(self) -> None:
        self.id = 0
        self.parent: _Item | int | None = None
        self.edited_at: datetime | None = None
        self.deleted_at: datetime | None = None
        self.stamps: list[tuple[int, str]] = []
        self.doc_body = ""


class Importer:
    def __init__(self, engine: sa.Engine, export: Export, options: Options) -> None:
        self.engine = engine
        # Reads need not take SQLite's write lock (db.get_engine begins writers IMMEDIATE).
        self.reader = engine.execution_options(kyoso_write=False)
        self.export = export
        self.opt = options
        self.dry = options.dry_run
        self.pg = engine.dialect.name == "postgresql"
        self.report = Report(source=export.path.name, dry_run=options.dry_run)
        self.people: dict[str, tuple[str, int]] = {}  # slack id -> (name, user id)
        self.bots: dict[str, int] = {}  # bot id -> user id
        self.new_bots: list[dict[str, Any]] = []
        self._bot_real: dict[int, int] = {}  # a bot's stand-in id until written -> its user id
        self._fake_id = 0
        self.seen = 0
        self.bytes_done = 0
        self.bytes_total = 0

    # -- helpers -----------------------------------------------------------

    def _fake(self) -> int:
        self._fake_id -= 1
        return self._fake_id

    def _reserve(self, conn: sa.Connection, table: sa.Table, n: int) -> list[int]:
        """``n`` fresh ids of ``table``. SQLite: the transaction holds the
        write lock (BEGIN IMMEDIATE), so nobody else takes max(id) + 1."""
        if n == 0:
            return []
        if self.pg:
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"),
                               {"t": f'"{table.name}"'}).scalar_one()
            return list(conn.execute(sa.text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                                     {"s": seq, "n": n}).scalars())
        top = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())
        return list(range(top + 1, top + 1 + n))

    # -- the run -----------------------------------------------------------

    def run(self) -> Report:
        start = datetime.now()
        users = self._required_list("users.json")
        channels = self._required_list("channels.json")
        private: set[str] = set()  # folders of what is not imported: no warning for them
        for name, label in (("groups.json", "非公開チャンネル"), ("dms.json", "ダイレクトメッセージ"),
                            ("mpims.json", "グループダイレクトメッセージ")):
            if self.export.has(name):
                try:
                    data, _ = self.export.read_json(name)
                except FileProblem as exc:
                    self.report.warn(exc.name, exc.message, exc.line)
                    continue
                data = data if isinstance(data, list) else []
                self.report.not_imported[label] = len(data)
                private |= {str(d.get(k)) for d in data if isinstance(d, dict) for k in ("id", "name") if d.get(k)}
        for name in self.export.unsafe:
            self.report.warn(name, "安全でないファイル名（フォルダの外を指す名前）のため読み飛ばしました。")
        teams = Counter(u.get("team_id") for u in users if isinstance(u, dict) and u.get("team_id"))
        self.report.workspace = str(teams.most_common(1)[0][0] if teams else "slack")[:30]
        self._people(users)
        chans = [c for c in channels if isinstance(c, dict) and c.get("id") and c.get("name")]
        known_folders = {str(c["name"]) for c in chans} | private
        for name in sorted(set(n.split("/", 1)[0] for n in self.export.other_json(known_folders))):
            self.report.warn(name, f"channels.json にないチャンネルのフォルダ「{name}」は取り込みませんでした。")
        self.bytes_total = sum(self.export.size(f) for c in chans for f in self.export.day_files(str(c["name"])))
        self.converter = Converter(self.people, self._channel_names(chans))
        for chan in chans:
            self._channel(chan)
        if not self.dry:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(_A), [{
                    "actor_id": None, "action": "import.slack", "target_type": "workspace", "target_id": None,
                    "detail": f"{self.report.source}: メッセージ {self.report.new_messages:,}件を取り込みました",
                    "created_at": utcnow()}])
        self.report.finished = True
        self.report.seconds = (datetime.now() - start).total_seconds()
        return self.report

    def _required_list(self, name: str) -> list[Any]:
        try:
            data, _ = self.export.read_json(name)
        except FileProblem as exc:
            raise ExportError(f"{exc.message} この一覧がないと取り込めません。") from None
        if not isinstance(data, list):
            raise ExportError(f"{name} の形式が正しくありません（一覧ではありません）。")
        return data

    # -- people ------------------------------------------------------------

    def _people(self, users: list[Any]) -> None:
        ws = self.report.workspace
        builtin = builtin_domains()
        with self.reader.connect() as conn:
            mapped = {r.slack_id: (r.user_id, r.kind) for r in conn.execute(
                sa.select(_KU.c.slack_id, _KU.c.user_id, _KU.c.kind).where(_KU.c.workspace == ws))}
            rows = conn.execute(sa.select(_U.c.id, _U.c.email, _U.c.status, _U.c.name)).all()
            by_email: dict[str, tuple[Any, str]] = {e.lower(): (i, s) for i, e, s, _ in rows}
            status_of = {i: s for i, _, s, _ in rows}
            # A member is shown (in mentions too) by the name they chose in kyoso.
            kyoso_name = {i: n for i, _, s, n in rows if s != UserStatus.unclaimed}
            orgs = set(conn.execute(sa.select(Organisation.__table__.c.code)).scalars())  # type: ignore[attr-defined]
        for domain, code in list(self.opt.org_map.items()):
            if code not in orgs:
                self.report.warn("--org-map", f"ドメイン {domain} の団体コード {code} に当たる団体がありません。未設定として扱います。")
                del self.opt.org_map[domain]
        new_users: list[dict[str, Any]] = []
        new_keys: list[dict[str, Any]] = []
        r = self.report
        now = utcnow()
        for u in users:
            if not isinstance(u, dict) or not isinstance(u.get("id"), str):
                r.warn("users.json", "IDのないメンバーを読み飛ばしました。")
                continue
            sid = u["id"][:30]
            name = display_name(u)
            profile = u.get("profile") or {}
            email = str(profile.get("email") or u.get("email") or "").strip().lower()[:254]
            kind = "bot" if u.get("is_bot") or sid == "USLACKBOT" else ("deleted" if u.get("deleted") else "member")
            r.users_total += 1
            r.bots += kind == "bot"
            r.deleted_users += kind == "deleted"
            if not email and kind == "member":
                r.users_without_email.append({"slack_id": sid, "name": name})
            if sid in mapped:
                uid = mapped[sid][0]
                if status_of.get(uid) == UserStatus.unclaimed:
                    r.unmatched_users.append({"slack_id": sid, "name": name, "email": email})
                else:
                    r.users_matched += 1
                self.people[sid] = (kyoso_name.get(uid, name), uid)
                continue
            new_row: dict[str, Any] | None = None
            if email and email in by_email:
                # A member of kyoso, or a Slack user of this run with the same address.
                found, status = by_email[email]
                uid, new_row = (0, found) if isinstance(found, dict) else (found, None)
                if status == UserStatus.unclaimed:
                    r.unmatched_users.append({"slack_id": sid, "name": name, "email": email})
                else:
                    r.users_matched += 1
            else:
                uid = 0
                r.unmatched_users.append({"slack_id": sid, "name": name, "email": email})
                new_row = self._unclaimed_row(sid, name, email, kind, builtin, now)
                new_users.append(new_row)
                by_email[new_row["email"]] = (new_row, UserStatus.unclaimed)
            as_imported = new_row or self._unclaimed_row(sid, name, email, kind, builtin, now)
            new_keys.append({"workspace": ws, "slack_id": sid, "user_id": uid, "kind": kind, "_row": new_row,
                             "name": name, "org_code": as_imported["org_code"],
                             "department": as_imported["department"]})
            self.people[sid] = (kyoso_name.get(uid, name), uid)
        # One transaction: every new member with its key.
        if self.dry:
            for row in new_users:
                row["id"] = self._fake()
        else:
            with self.engine.begin() as conn:
                for row, i in zip(new_users, self._reserve(conn, _U, len(new_users))):
                    row["id"] = i
                if new_users:
                    conn.execute(sa.insert(_U), new_users)
                for k in new_keys:
                    if k["_row"] is not None:
                        k["user_id"] = k["_row"]["id"]
                if new_keys:
                    conn.execute(sa.insert(_KU), [_key_row(k) for k in new_keys])
        for k in new_keys:
            if k["_row"] is not None:
                k["user_id"] = k["_row"]["id"]
                name = self.people[k["slack_id"]][0]
                self.people[k["slack_id"]] = (name, k["user_id"])
        self._builtin = builtin

    def _unclaimed_row(self, sid: str, name: str, email: str, kind: str, builtin: dict[str, str],
                       now: datetime) -> dict[str, Any]:
        ws = self.report.workspace.lower()
        address = email or f"{sid.lower()}.{ws}@slack-import.invalid"
        code = (org_for_email(email, self.opt.org_map, builtin) if email else None) or UNSET_ORG_CODE
        department = {"bot": "ボット（Slack）", "deleted": "Slackで削除済みのメンバー"}.get(kind, "")
        return {"email": address, "name": name, "org_code": code, "department": department,
                "role": Role.member, "status": UserStatus.unclaimed, "password_hash": "", "bio": "",
                "interests": "", "rejection_reason": "", "created_at": now, "reviewed_at": None,
                "last_login_at": None, "session_epoch": 0}

    def _bot_user(self, msg: dict[str, Any]) -> int:
        """The member standing for a bot that is not in users.json (made in the next batch)."""
        bot_id = str(msg.get("bot_id") or msg.get("username") or "bot")[:30]
        if bot_id in self.people:
            return self.people[bot_id][1]
        if bot_id in self.bots:
            return self.bots[bot_id]
        name = str(msg.get("username") or (msg.get("bot_profile") or {}).get("name") or "ボット")
        name = re.sub(r"[\[\]\n]", "", name).strip()[:50] or "ボット"
        with self.reader.connect() as conn:
            uid = conn.execute(sa.select(_KU.c.user_id).where(
                _KU.c.workspace == self.report.workspace, _KU.c.slack_id == bot_id)).scalar()
        if uid is None:
            row = self._unclaimed_row(bot_id, name, "", "bot", self._builtin, utcnow())
            row["id"] = 0
            self.new_bots.append(row)
            uid = self._fake()
            row["_fake"] = uid
        self.report.bots += 1
        self.report.unmatched_users.append({"slack_id": bot_id, "name": name, "email": ""})
        self.bots[bot_id] = uid
        return uid

    # -- channels ----------------------------------------------------------

    def _channel_names(self, chans: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
        ws = self.report.workspace
        with self.reader.connect() as conn:
            self.chan_ids = {r.slack_id: (r.channel_id, r.finished_at) for r in conn.execute(
                sa.select(_KC.c.slack_id, _KC.c.channel_id, _KC.c.finished_at).where(_KC.c.workspace == ws))}
            slugs = {r.id: r.slug for r in conn.execute(sa.select(_C.c.id, _C.c.slug))}
            taken = set(slugs.values())
        self.slugs: dict[str, str] = {}
        for c in chans:
            sid = str(c["id"])
            if sid in self.chan_ids:
                self.slugs[sid] = slugs.get(self.chan_ids[sid][0], "")
                continue
            base = _SLUG_OK.sub("-", str(c["name"]).lower().replace("_", "-")).strip("-")[:40]
            if len(base) < 2 or not base[0].isalnum():
                base = f"slack-{sid.lower()}"[:40]
            slug, n = base, 2
            while slug in taken:
                slug = f"{base[:36]}-{n}"
                n += 1
            taken.add(slug)
            self.slugs[sid] = slug
        return {str(c["id"]): (str(c["name"]), self.slugs.get(str(c["id"]), "")) for c in chans}

    def _channel(self, chan: dict[str, Any]) -> None:
        ws, sid, folder = self.report.workspace, str(chan["id"])[:30], str(chan["name"])
        name = folder[:60]
        cr = ChannelReport(slack_id=sid, name=name, slug=self.slugs[sid], archived=bool(chan.get("is_archived")))
        self.report.channels.append(cr)
        created = ts_to_datetime(str(chan.get("created") or 0)) if _TS.match(str(chan.get("created") or "")) else utcnow()
        creator = self.people.get(str(chan.get("creator") or ""))
        if sid in self.chan_ids:
            channel_id = self.chan_ids[sid][0]
        else:
            description = ((chan.get("purpose") or {}).get("value") or (chan.get("topic") or {}).get("value") or "")
            row = {"slug": cr.slug, "name": name, "description": str(description)[:500], "kind": ChannelKind.topic,
                   "allow_replies": True, "archived_at": utcnow() if cr.archived else None,
                   "created_by_id": creator[1] if creator and not self.dry else None, "created_at": created,
                   "last_message_at": None, "member_count": 0}
            if self.dry:
                channel_id = self._fake()
            else:
                with self.engine.begin() as conn:
                    channel_id = self._reserve(conn, _C, 1)[0]
                    conn.execute(sa.insert(_C), [{**row, "id": channel_id}])
                    conn.execute(sa.insert(_KC), [{"workspace": ws, "slack_id": sid, "channel_id": channel_id,
                                                   "finished_at": None}])
        self.channel_id = channel_id
        # What is already written: ts -> message id.
        known: dict[str, int] = {}
        if not self.dry or channel_id > 0:
            with self.reader.connect() as conn:
                known = dict(conn.execute(sa.select(_KM.c.ts, _KM.c.message_id).where(
                    _KM.c.workspace == ws, _KM.c.channel == sid)).all())
        self.known: dict[str, _Item | int] = dict(known)
        self.batch: list[_Item] = []
        self.touched_parents: set[int] = set()
        threads: set[str] = set()
        for day in self.export.day_files(folder):
            self._day(day, sid, cr, threads)
            self.bytes_done += self.export.size(day)
            if self.opt.progress:
                self.opt.progress(self.bytes_done, self.bytes_total, self.seen)
        self._flush(sid, cr)
        cr.threads = len(threads)
        members = [self.people[m][1] for m in chan.get("members") or [] if m in self.people]
        for m in chan.get("members") or []:
            if m not in self.people:
                self.report.warn("channels.json", f"チャンネル「{name}」のメンバー {m} は users.json にいないため、メンバーにしませんでした。")
        if not self.dry:
            self._finish_channel(sid, channel_id, members, created)

    def _day(self, day: str, sid: str, cr: ChannelReport, threads: set[str]) -> None:
        try:
            data, text = self.export.read_json(day)
        except FileProblem as exc:
            self.report.warn(exc.name, exc.message + " この日のメッセージは取り込んでいません。", exc.line)
            return
        if not isinstance(data, list):
            self.report.warn(day, "形式が正しくありません（メッセージの一覧ではありません）。この日のメッセージは取り込んでいません。")
            return
        msgs = [m for m in data if isinstance(m, dict) and _TS.match(str(m.get("ts") or ""))]
        if len(msgs) != len(data):
            self.report.warn(day, f"ts のないメッセージ {len(data) - len(msgs)}件を読み飛ばしました。")
        msgs.sort(key=lambda m: float(m["ts"]))
        for msg in msgs:
            self.seen += 1
            subtype = str(msg.get("subtype") or "")
            if subtype not in CONVERSATION:
                self.report.skipped_subtypes[subtype] += 1
                continue
            self._message(msg, subtype, day, text, sid, cr, threads)
            if len(self.batch) >= self.opt.batch:
                self._flush(sid, cr)

    def _message(self, msg: dict[str, Any], subtype: str, day: str, text: str, sid: str,
                 cr: ChannelReport, threads: set[str]) -> None:
        ts = str(msg["ts"])
        if ts in self.known and isinstance(self.known[ts], _Item):
            self.report.warn(day, f"同じ ts ({ts}) のメッセージが二度あります。二つ目は読み飛ばしました。", line_of(text, ts))
            return
        def warn(message: str) -> None:
            self.report.warn(day, message, line_of(text, ts))

        # Who wrote it.
        user = msg.get("user")
        if subtype == "bot_message" or (not user and msg.get("bot_id")):
            author = self.people[user][1] if isinstance(user, str) and user in self.people else self._bot_user(msg)
            is_bot = True
        elif isinstance(user, str) and user in self.people:
            author, is_bot = self.people[user][1], False
        elif subtype == "tombstone":
            author, is_bot = self._bot_user({"bot_id": "USLACKBOT", "username": "Slackbot"}), False
        else:
            warn(f"users.json にいないメンバー（{user or '不明'}）の投稿のため、このメッセージは取り込みませんでした。")
            return
        # The text: message, attachments of bots, and a note for each file.
        body = msg.get("text") if isinstance(msg.get("text"), str) else ""
        if not body.strip():
            parts = [a.get("text") or a.get("fallback") or "" for a in msg.get("attachments") or []
                     if isinstance(a, dict)]
            body = "\n".join(p for p in parts if isinstance(p, str))
        files = [f for f in msg.get("files") or [] if isinstance(f, dict)]
        if len(body) > MAX_BODY:
            warn(f"メッセージが長すぎるため取り込みませんでした（{len(body):,}文字、上限 {MAX_BODY:,}文字）。")
            return
        thread_ts = str(msg.get("thread_ts") or "")
        parent: _Item | int | None = None
        if thread_ts and thread_ts != ts:
            parent = self.known.get(thread_ts)
            if parent is None:
                warn(f"返信先のスレッド（{thread_ts}）が見つからないため、通常の投稿として取り込みました。")
        stamps: dict[tuple[int, str], None] = {}
        unknown: set[str] = set()
        for reaction in msg.get("reactions") or []:
            if not isinstance(reaction, dict):
                continue
            stamp = stamp_for(str(reaction.get("name") or ""))
            for u in reaction.get("users") or []:
                if u in self.people:
                    stamps[(self.people[u][1], stamp)] = None
                else:
                    unknown.add(str(u))
        if unknown:
            warn(f"スタンプを押したメンバー {len(unknown)}人が users.json にいないため、その分は取り込みませんでした。")

        def count() -> None:
            """Counted as in the export, whether written now or by an earlier run."""
            cr.messages += 1
            if parent is not None:
                cr.replies += 1
                threads.add(thread_ts)
                cr.broadcast_replies += subtype in BROADCAST
            cr.edited += bool(msg.get("edited"))
            cr.pinned += bool(msg.get("pinned_to"))
            cr.files += len(files)
            cr.bot_messages += is_bot
            cr.stamps += len(stamps)

        if ts in self.known:
            count()
            return  # written by an earlier run
        item = _Item()
        item.ts, item.parent, item.author_id = ts, parent, author
        item.created_at = ts_to_datetime(ts)
        item.pinned = bool(msg.get("pinned_to"))
        item.stamps = list(stamps)
        edited = msg.get("edited")
        if isinstance(edited, dict) and _TS.match(str(edited.get("ts") or "")):
            item.edited_at = ts_to_datetime(str(edited["ts"]))
        if subtype == "tombstone":
            item.deleted_at, item.body, item.html = item.created_at, "", ""
        else:
            conv = self.converter.convert(body)
            if conv.unknown:
                warn("知らないメンバーまたはチャンネルへの参照（" + "、".join(dict.fromkeys(conv.unknown))
                     + "）は文字のまま取り込みました。")
            md = conv.markdown
            notes = [f"📎 ファイル「{f.get('name') or f.get('title') or '名前なし'}」（ファイルはSlackに残っています）"
                     for f in files]
            if notes:
                md = (md + "\n\n" if md else "") + "\n".join(n.replace("[", "［").replace("]", "］") for n in notes)
            if subtype == "me_message":
                md = f"*{md}*"
            html = markup.render(md, conv.mentions)
            if len(md) > MAX_BODY or len(html) > MAX_HTML:
                warn(f"メッセージが長すぎるため取り込みませんでした（{len(md):,}文字、上限 {MAX_BODY:,}文字）。")
                return
            item.body, item.html = md, html
            item.doc_body = plain_body(html)
            tokens = document_tokens(item.doc_body)
            if self.pg:
                item.tsv = tsvector(tokens)
            else:
                item.grams, item.tails = tokens.text()
        count()
        self.known[ts] = item
        self.batch.append(item)

    # -- writing -----------------------------------------------------------

    def _flush(self, sid: str, cr: ChannelReport) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        cr.new_messages += len(batch)
        if self.dry:
            for item in batch:
                item.id = self._fake()
            for item in batch:
                self.known[item.ts] = item.id
            self.new_bots.clear()
            return
        ws = self.report.workspace
        with self.engine.begin() as conn:
            if self.new_bots:
                self._write_bots(conn)
            ids = self._reserve(conn, _M, len(batch))
            for item, i in zip(batch, ids):
                item.id = i
            rows, keys, stamps, parents = [], [], [], set()
            for item in batch:
                parent = item.parent
                pid = parent.id if isinstance(parent, _Item) else parent
                if pid:
                    parents.add(pid)
                author = self._real(item.author_id)
                rows.append({"id": item.id, "channel_id": self.channel_id, "parent_id": pid, "author_id": author,
                             "body": item.body, "body_html": item.html, "created_at": item.created_at,
                             "edited_at": item.edited_at, "deleted_at": item.deleted_at, "hidden_at": None,
                             "hidden_by_id": None, "reply_count": 0, "last_reply_at": None, "rev": 1,
                             "is_question": False, "answer_id": None})
                keys.append({"workspace": ws, "channel": sid, "ts": item.ts, "message_id": item.id,
                             "pinned": item.pinned})
                stamps += [{"message_id": item.id, "user_id": self._real(u), "stamp": s,
                            "created_at": item.created_at} for u, s in item.stamps]
            self._insert(conn, _INSERT_MESSAGE, rows)
            self._insert(conn, _INSERT_KEY, keys)
            if stamps:
                self._insert(conn, _INSERT_STAMP, stamps)
            indexed = [item for item in batch if item.deleted_at is None]
            doc_ids = self._reserve(conn, _D, len(indexed))
            docs = [{"id": d, "kind": MESSAGE, "ref_id": item.id, "channel_id": self.channel_id,
                     "thread_id": (item.parent.id if isinstance(item.parent, _Item) else item.parent) or item.id,
                     "author_id": self._real(item.author_id), "created_at": item.created_at, "body": item.doc_body}
                    for item, d in zip(indexed, doc_ids)]
            if docs and self.pg:
                self._copy(conn, "search_doc", [{**d, "tsv": item.tsv} for d, item in zip(docs, indexed)])
            elif docs:
                conn.execute(_INSERT_DOC, docs)
                conn.execute(_INSERT_FTS, [{"id": d, "g": item.grams, "t": item.tails}
                                           for d, item in zip(doc_ids, indexed)])
            if parents:
                conn.execute(_RECOUNT_REPLIES, [{"p_id": p} for p in sorted(parents)])
        for item in batch:
            self.known[item.ts] = item.id

    def _insert(self, conn: sa.Connection, stmt: sa.Insert, rows: list[dict[str, Any]]) -> None:
        if self.pg:
            self._copy(conn, stmt.table.name, rows)  # type: ignore[attr-defined]
        else:
            conn.execute(stmt, rows)

    @staticmethod
    def _copy(conn: sa.Connection, table: str, rows: list[dict[str, Any]]) -> None:
        """PostgreSQL: COPY, in the connection's transaction (several times
        faster than executemany). Values go as Python values: timestamps are
        aware (UTC), the tsvector is its text form."""
        columns = list(rows[0])
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])

    def _write_bots(self, conn: sa.Connection) -> None:
        ws = self.report.workspace
        ids = self._reserve(conn, _U, len(self.new_bots))
        for row, i in zip(self.new_bots, ids):
            row["id"] = i
        conn.execute(sa.insert(_U), [{k: v for k, v in row.items() if k != "_fake"} for row in self.new_bots])
        bot_ids = {row["_fake"]: row["id"] for row in self.new_bots}
        by_fake = {row["_fake"]: row for row in self.new_bots}
        conn.execute(sa.insert(_KU), [
            {"workspace": ws, "slack_id": b, "user_id": bot_ids[u], "kind": "bot", "name": by_fake[u]["name"],
             "org_code": by_fake[u]["org_code"], "department": by_fake[u]["department"]}
            for b, u in self.bots.items() if u in bot_ids])
        self._bot_real.update(bot_ids)
        self.bots = {b: bot_ids.get(u, u) for b, u in self.bots.items()}
        self.new_bots = []

    def _real(self, uid: int) -> int:
        return self._bot_real.get(uid, uid) if uid < 0 else uid

    def _finish_channel(self, sid: str, channel_id: int, members: list[int], created: datetime) -> None:
        """Memberships with history read, counts, newest activity: recomputed, so idempotent."""
        with self.engine.begin() as conn:
            latest = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_M.c.id), 0)).where(
                _M.c.channel_id == channel_id, _M.c.parent_id.is_(None))).scalar_one())
            have = set(conn.execute(sa.select(_MB.c.user_id).where(_MB.c.channel_id == channel_id)).scalars())
            members = list(dict.fromkeys(m for m in members if m > 0))
            new = [{"channel_id": channel_id, "user_id": m, "joined_at": created, "last_read_id": latest}
                   for m in members if m not in have]
            if new:
                conn.execute(sa.insert(_MB), new)
            old = [m for m in members if m in have]
            if old:
                conn.execute(sa.update(_MB).where(
                    _MB.c.channel_id == channel_id, _MB.c.user_id == sa.bindparam("p_user"),
                    _MB.c.last_read_id < latest).values(last_read_id=latest),
                    [{"p_user": m} for m in old])
            count = conn.execute(sa.select(sa.func.count()).select_from(_MB.join(_U, _U.c.id == _MB.c.user_id))
                                 .where(_MB.c.channel_id == channel_id, _U.c.status != UserStatus.unclaimed)).scalar_one()
            last = conn.execute(sa.select(sa.func.max(_M.c.created_at)).where(_M.c.channel_id == channel_id)).scalar()
            conn.execute(sa.update(_C).where(_C.c.id == channel_id).values(member_count=count, last_message_at=last))
            conn.execute(sa.update(_KC).where(_KC.c.workspace == self.report.workspace, _KC.c.slack_id == sid)
                         .values(finished_at=utcnow()))


def _key_row(key: dict[str, Any]) -> dict[str, Any]:
    return {c: key[c] for c in ("workspace", "slack_id", "user_id", "kind", "name", "org_code", "department")}


def run_import(engine: sa.Engine, path: str, options: Options) -> Report:
    """Import a Slack export (zip or folder) into the database of ``engine``."""
    export = Export(path, max_file_bytes=options.max_file_bytes)
    try:
        return Importer(engine, export, options).run()
    finally:
        export.close()
