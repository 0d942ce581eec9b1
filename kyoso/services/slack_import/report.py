"""What an import did: per channel counts, people, skipped items, warnings.

The counts describe the export (what kyoso holds from it once the run
ends), so a second run and a resumed run print the same report as one clean
run; ``new_messages`` says what this run itself wrote.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

WARNINGS_SHOWN = 30
PEOPLE_SHOWN = 20


@dataclass
class ChannelReport:
    slack_id: str
    name: str
    slug: str
    messages: int = 0
    threads: int = 0
    replies: int = 0
    broadcast_replies: int = 0
    stamps: int = 0
    edited: int = 0
    pinned: int = 0
    files: int = 0
    bot_messages: int = 0
    new_messages: int = 0
    archived: bool = False


@dataclass
class Report:
    source: str
    workspace: str = ""
    dry_run: bool = False
    finished: bool = False
    channels: list[ChannelReport] = field(default_factory=list)
    users_total: int = 0
    users_matched: int = 0
    bots: int = 0
    deleted_users: int = 0
    unmatched_users: list[dict[str, str]] = field(default_factory=list)
    users_without_email: list[dict[str, str]] = field(default_factory=list)
    not_imported: dict[str, int] = field(default_factory=dict)  # private channels, DMs
    skipped_subtypes: Counter[str] = field(default_factory=Counter)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def warn(self, file: str, message: str, line: int = 0) -> None:
        self.warnings.append({"file": file, "line": line, "message": message})

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.channels)

    @property
    def new_messages(self) -> int:
        return sum(c.new_messages for c in self.channels)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped_subtypes"] = dict(sorted(self.skipped_subtypes.items()))
        data["totals"] = {
            "channels": len(self.channels), "messages": self.messages, "new_messages": self.new_messages,
            "threads": sum(c.threads for c in self.channels), "replies": sum(c.replies for c in self.channels),
            "stamps": sum(c.stamps for c in self.channels), "warnings": len(self.warnings),
            "unmatched_users": len(self.unmatched_users),
        }
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        t = self.to_dict()["totals"]
        head = "Slackの取り込み（試行: 何も書き込んでいません）" if self.dry_run else "Slackの取り込み"
        lines = [
            f"{head}: {self.source}（ワークスペース {self.workspace}）",
            f"  チャンネル {t['channels']:,}、メッセージ {t['messages']:,}（このたび書き込んだもの {t['new_messages']:,}）、"
            f"スレッド {t['threads']:,}、返信 {t['replies']:,}、スタンプ {t['stamps']:,}",
            f"  メンバー {self.users_total:,}人: 既存のメンバーに対応 {self.users_matched:,}人、"
            f"未登録のメンバー {len(self.unmatched_users):,}人（うちボット {self.bots:,}、削除済み {self.deleted_users:,}）",
        ]
        if self.seconds:
            lines.append(f"  所要時間 {self.seconds:,.1f}秒")
        lines.append("")
        lines.append("チャンネル別:")
        for c in self.channels:
            flags = "（アーカイブ）" if c.archived else ""
            lines.append(f"  #{c.slug} {c.name}{flags}: メッセージ {c.messages:,}、スレッド {c.threads:,}、"
                         f"返信 {c.replies:,}、スタンプ {c.stamps:,}、編集済み {c.edited:,}、ピン留め {c.pinned:,}、"
                         f"ファイル {c.files:,}")
        if self.not_imported:
            lines.append("")
            lines.append("取り込まなかったもの: " + "、".join(f"{k} {v:,}件" for k, v in self.not_imported.items()))
        if self.skipped_subtypes:
            lines.append("読み飛ばした種類のメッセージ（参加・退出、トピック変更など）: " + "、".join(
                f"{k} {v:,}件" for k, v in sorted(self.skipped_subtypes.items())))
        if self.users_without_email:
            lines.append("")
            lines.append(f"メールアドレスのないメンバー {len(self.users_without_email):,}人"
                         "（登録しても自動では結びつきません。運営が結びつけてください）:")
            lines += [f"  {u['slack_id']} {u['name']}" for u in self.users_without_email[:PEOPLE_SHOWN]]
            if len(self.users_without_email) > PEOPLE_SHOWN:
                lines.append(f"  ほか {len(self.users_without_email) - PEOPLE_SHOWN:,}人（一覧は --report のJSONに）")
        if self.warnings:
            lines.append("")
            lines.append(f"警告 {len(self.warnings):,}件:")
            for w in self.warnings[:WARNINGS_SHOWN]:
                where = f"{w['file']}:{w['line']}" if w["line"] else w["file"]
                lines.append(f"  {where}: {w['message']}")
            if len(self.warnings) > WARNINGS_SHOWN:
                lines.append(f"  ほか {len(self.warnings) - WARNINGS_SHOWN:,}件（すべて --report のJSONに）")
        if not self.finished:
            lines.append("")
            lines.append("取り込みは途中で止まりました。同じコマンドをもう一度実行すると、続きから取り込みます。")
        return "\n".join(lines)
