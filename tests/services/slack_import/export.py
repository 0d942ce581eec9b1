"""Small Slack exports written by the tests: Japanese content, every case."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

TEAM = "T0KYOSO"
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def ts(n: int, micro: int = 0) -> str:
    return f"{T0 + n * 60}.{micro:06d}"


def user(uid: str, name: str, email: str | None, **kw: Any) -> dict[str, Any]:
    profile = {"real_name": name, "display_name": name.split()[0]}
    if email is not None:
        profile["email"] = email
    return {"id": uid, "team_id": TEAM, "name": uid.lower(), "real_name": name, "deleted": False,
            "is_bot": False, "profile": profile, **kw}


def standard() -> dict[str, Any]:
    """users.json, channels.json and day files of a small workspace."""
    users = [
        user("U01", "山田 太郎", "Taro.Yamada@City.Sapporo.LG.JP"),  # an existing member, other case
        user("U02", "佐藤 花子", "hanako@pref.osaka.lg.jp"),  # unclaimed, 大阪府
        user("U03", "鈴木 一郎", "ichiro@example.com"),  # unclaimed, 未設定
        user("U04", "高橋 次郎", None),  # no e-mail
        user("U05", "退職 済子", "sumiko@city.chiyoda.lg.jp", deleted=True),
        {"id": "B01USER", "team_id": TEAM, "name": "bot", "is_bot": True, "profile": {"real_name": "通知ボット"}},
    ]
    channels = [
        {"id": "C01", "name": "general", "created": T0 - 86400, "creator": "U01", "is_archived": False,
         "members": ["U01", "U02", "U03"], "purpose": {"value": "全体の連絡"}, "topic": {"value": ""}},
        {"id": "C02", "name": "ガバメントクラウド", "created": T0 - 86400, "creator": "U02", "is_archived": True,
         "members": ["U01", "U02"], "purpose": {"value": ""}, "topic": {"value": "移行の相談"}},
    ]
    general = {
        "2023-11-14.json": [
            {"type": "message", "subtype": "channel_join", "user": "U02", "text": "<@U02> さんが参加しました", "ts": ts(0)},
            {"type": "message", "user": "U01", "text": "ガバメントクラウドの回線費用について質問です。<@U02> さんご存じですか？",
             "ts": ts(1), "thread_ts": ts(1), "reply_count": 2,
             "reactions": [{"name": "+1", "users": ["U02", "U03"], "count": 2},
                           {"name": "sankouninarimasu", "users": ["U02"], "count": 1},
                           {"name": "custom_kansha", "users": ["U03"], "count": 1}],
             "pinned_to": ["C01"]},
            {"type": "message", "user": "U02", "text": "*共同調達*の資料が <https://www.digital.go.jp/a_b?x=1&amp;y=2|デジタル庁> にあります",
             "ts": ts(2, 123456), "thread_ts": ts(1), "edited": {"user": "U02", "ts": ts(3)}},
            {"type": "message", "subtype": "thread_broadcast", "user": "U03", "text": "みなさんにも共有します &lt;重要&gt;",
             "ts": ts(4), "thread_ts": ts(1)},
        ],
        "2023-11-15.json": [
            {"type": "message", "subtype": "channel_topic", "user": "U01", "text": "トピックを変更", "ts": ts(1500)},
            {"type": "message", "user": "U04", "text": "報告書を添付します", "ts": ts(1501),
             "files": [{"id": "F1", "name": "報告書.pdf", "title": "報告書"}]},
            {"type": "message", "subtype": "bot_message", "bot_id": "B99", "username": "リマインダー",
             "text": "定例会は明日です :bell:", "ts": ts(1502)},
            {"type": "message", "user": "U05", "text": "<#C02|ガバメントクラウド> も見てください <!here>", "ts": ts(1503)},
        ],
    }
    cloud = {
        "2023-11-16.json": [
            {"type": "message", "user": "U02", "text": "```\nterraform apply\n```\n> 引用\n本文", "ts": ts(3000)},
        ],
    }
    return {"users.json": users, "channels.json": channels, "dms.json": [{"id": "D1"}, {"id": "D2"}],
            "groups.json": [{"id": "G1"}],
            "general": general, "ガバメントクラウド": cloud}


def write(root: Path, data: dict[str, Any], *, as_zip: bool = False, raw: dict[str, bytes] | None = None) -> Path:
    """Write ``data`` as an export folder (or zip). ``raw`` adds files as given (bad input)."""
    files: dict[str, bytes] = {}
    for name, value in data.items():
        if name.endswith(".json"):
            files[name] = json.dumps(value, ensure_ascii=False, indent=1).encode()
        else:
            for day, msgs in value.items():
                files[f"{name}/{day}"] = json.dumps(msgs, ensure_ascii=False, indent=1).encode()
    files.update(raw or {})
    if as_zip:
        path = root.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in files.items():
                zf.writestr(name, content)
        return path
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    return root
