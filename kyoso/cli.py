"""The ``kyoso`` command: administration from the shell.

    kyoso db upgrade
    kyoso user add --email E --password P --name N --org CODE [--department D] [--role R]
    kyoso channel add --slug S --name N [--description D] [--announcement]
    kyoso seed --demo
    kyoso backup [PATH]
    kyoso restore PATH --yes
    kyoso doctor
    kyoso search rebuild
    kyoso import slack PATH [--dry-run] [--org-map CSV] [--report FILE.json]
    kyoso user link --unclaimed ID --to EMAIL [--by STAFF_EMAIL]
    kyoso mail test ADDRESS
"""

from __future__ import annotations

# Late imports: each command imports only what it needs, so `kyoso --help`
# and a quick command start without loading the whole app.

import argparse
import sys
import time
from pathlib import Path

from kyoso.services.errors import DomainError


def _db_upgrade(_: argparse.Namespace) -> int:
    from kyoso.migrate import upgrade

    upgrade()
    print("データベースを最新の状態にしました。")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from kyoso.db import session_scope
    from kyoso.services import accounts

    with session_scope() as session:
        user = accounts.create_user(
            session, email=args.email, password=args.password, name=args.name,
            org_code=args.org, department=args.department or "", role=args.role,
        )
        print(f"ユーザーを作成しました: id={user.id} {user.email} ({user.role})")
    return 0


def _channel_add(args: argparse.Namespace) -> int:
    from kyoso.db import session_scope
    from kyoso.services import channels

    with session_scope() as session:
        channel = channels.create_channel_unchecked(
            session, slug=args.slug, name=args.name, description=args.description or "",
            announcement=args.announcement,
        )
        print(f"チャンネルを作成しました: #{channel.slug} {channel.name}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from kyoso.db import session_scope
    from kyoso.services import demo

    if not args.demo:
        print("読み込むデータを指定してください（例: kyoso seed --demo）。", file=sys.stderr)
        return 2
    with session_scope() as session:
        loaded = demo.load_demo(session)
    print("デモデータを読み込みました。" if loaded else "デモデータはすでに読み込まれています。")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from kyoso.services.backup import backup

    path = backup(args.path)
    print(f"バックアップを書き出しました: {path}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from kyoso.services.backup import restore

    if not args.yes:
        print("復元すると今のデータベースの内容はバックアップの内容で置き換わります。"
              "アプリを止めてから --yes を付けて実行してください。", file=sys.stderr)
        return 2
    restore(args.path)
    print(f"バックアップから復元しました: {args.path}")
    print("検索索引が古い場合は `kyoso search rebuild` を実行してください。")
    return 0


def _doctor(_: argparse.Namespace) -> int:
    from kyoso.ops import doctor

    return doctor.main()


def _search_rebuild(_: argparse.Namespace) -> int:
    from kyoso.db import session_scope
    from kyoso.services import search

    with session_scope() as session:
        count = search.rebuild(session)
    print(f"検索索引を作り直しました: {count:,}件")
    return 0


def _import_slack(args: argparse.Namespace) -> int:
    from kyoso.db import get_engine
    from kyoso.services.slack_import import Options, run_import
    from kyoso.services.slack_import.people import OrgMapError, parse_org_map
    from kyoso.settings import get_settings

    org_map: dict[str, str] = {}
    if args.org_map:
        try:
            org_map = parse_org_map(Path(args.org_map).read_text(encoding="utf-8-sig"))
        except OSError as exc:
            print(f"エラー: --org-map のファイル {args.org_map} が読めません: {exc.strerror}", file=sys.stderr)
            return 2
        except OrgMapError as exc:
            print(f"エラー: --org-map {args.org_map} の{exc.message}", file=sys.stderr)
            return 2
    options = Options(dry_run=args.dry_run, org_map=org_map,
                      max_file_bytes=get_settings().slack_import_max_file_mb * 1024 * 1024)
    progress = None
    if sys.stdout.isatty():
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                            TextColumn("メッセージ {task.fields[messages]:,}"), TimeElapsedColumn(),
                            TextColumn("残り"), TimeRemainingColumn())
        task = progress.add_task("取り込み中", total=None, messages=0)
        last = [0.0]

        def report_progress(done: int, total: int, messages: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.2 or done >= total:
                last[0] = now
                progress.update(task, completed=done, total=total, messages=messages)

        options.progress = report_progress
        progress.start()
    try:
        report = run_import(get_engine(), args.path, options)
    finally:
        if progress is not None:
            progress.stop()
    print(report.to_text())
    if args.report:
        Path(args.report).write_text(report.to_json() + "\n", encoding="utf-8")
        print(f"報告をJSONで書き出しました: {args.report}")
    return 0


def _user_link(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from kyoso.db import session_scope
    from kyoso.models import User
    from kyoso.services.slack_import.claims import link_unclaimed, link_unclaimed_unchecked

    with session_scope() as session:
        source = session.get(User, args.unclaimed)
        name = source.name if source else ""
        if args.by:
            staff = session.exec(select(User).where(User.email == args.by.strip().lower())).first()
            target = link_unclaimed(session, staff, args.unclaimed, args.to)  # type: ignore[arg-type]
        else:
            target = link_unclaimed_unchecked(session, args.unclaimed, args.to)
        print(f"取り込んだメンバー「{name}」(id={args.unclaimed}) を {target.name} ({target.email}) に結びつけました。")
    return 0


def _mail_test(args: argparse.Namespace) -> int:
    from kyoso.services.mail.sender import send_test

    reply = send_test(args.address)
    print(f"テストメールを {args.address} に送りました。SMTP サーバーの応答: {reply}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kyoso", description="kyoso の管理コマンド")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="データベース").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="マイグレーションを適用する").set_defaults(func=_db_upgrade)

    user = sub.add_parser("user", help="ユーザー").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="審査なしで有効なユーザーを作る")
    add.add_argument("--email", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--org", required=True, help="6桁の全国地方公共団体コード、または府省庁コード (G00001 など)")
    add.add_argument("--department", default="")
    add.add_argument("--role", default="member", choices=["member", "national", "moderator", "admin"])
    add.set_defaults(func=_user_add)

    link = user.add_parser("link", help="取り込んだ未登録のメンバーを登録済みのメンバーに結びつける（投稿・スタンプを移す）")
    link.add_argument("--unclaimed", type=int, required=True, help="未登録のメンバーのID")
    link.add_argument("--to", required=True, help="結びつける先のメンバーのメールアドレス")
    link.add_argument("--by", default=None, help="操作する運営のメールアドレス（監査ログに残ります）")
    link.set_defaults(func=_user_link)

    channel = sub.add_parser("channel", help="チャンネル").add_subparsers(dest="channel_command", required=True)
    cadd = channel.add_parser("add", help="チャンネルを作る")
    cadd.add_argument("--slug", required=True)
    cadd.add_argument("--name", required=True)
    cadd.add_argument("--description", default="")
    cadd.add_argument("--announcement", action="store_true", help="お知らせ用チャンネル")
    cadd.set_defaults(func=_channel_add)

    seed = sub.add_parser("seed", help="データの読み込み")
    seed.add_argument("--demo", action="store_true", help="デモデータ")
    seed.set_defaults(func=_seed)

    srch = sub.add_parser("search", help="検索索引").add_subparsers(dest="search_command", required=True)
    srch.add_parser("rebuild", help="検索索引をすべて作り直す（表記ゆれの規則を変えたとき、復元の後）").set_defaults(
        func=_search_rebuild)

    imp = sub.add_parser("import", help="ほかのサービスからの取り込み").add_subparsers(
        dest="import_command", required=True)
    slack = imp.add_parser("slack", help="Slackのワークスペースのエクスポート（zipかフォルダ）を取り込む")
    slack.add_argument("path", help="エクスポートのzipファイル、または展開したフォルダ")
    slack.add_argument("--dry-run", action="store_true", help="何も書き込まずに、同じ報告を表示する")
    slack.add_argument("--org-map", default=None, help="「メールドメイン,団体コード」のCSV（組み込みの対応より優先）")
    slack.add_argument("--report", default=None, help="報告をJSONで書き出すファイル")
    slack.set_defaults(func=_import_slack)

    mail = sub.add_parser("mail", help="メール").add_subparsers(dest="mail_command", required=True)
    mtest = mail.add_parser("test", help="テストメールを1通送り、SMTP サーバーの応答を表示する")
    mtest.add_argument("address")
    mtest.set_defaults(func=_mail_test)

    backup = sub.add_parser("backup", help="動作中でも一貫したバックアップを書き出す（PostgreSQL は pg_dump）")
    backup.add_argument("path", nargs="?", default=None)
    backup.set_defaults(func=_backup)

    restore = sub.add_parser("restore", help="バックアップから復元する（アプリを止めてから）")
    restore.add_argument("path", help="kyoso backup が書き出したファイル（SQLite は .db、PostgreSQL は .dump）")
    restore.add_argument("--yes", action="store_true", help="今のデータを置き換えることを確認した")
    restore.set_defaults(func=_restore)

    sub.add_parser("doctor", help="この環境の設定を点検する（問題があれば終了コード 1）").set_defaults(func=_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DomainError as exc:
        print(f"エラー: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
