"""Generate a realistic Slack export in Japanese, of any size.

    python -m bench.slack_gen OUT [--messages 1000000] [--channels 130] [--users 15000] [--zip] [--seed 1]

A third of the messages are thread replies, a quarter carry stamps
(reactions); mentions, links, bold, code, edits, file shares, bots and
join/topic messages are sprinkled in. Day files are written one at a time,
so memory stays flat whatever the size. Also used by the kill-and-resume test.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import zipfile
from pathlib import Path
from typing import Any

from kyoso.services.slack_import.people import builtin_domains

T0 = 1_500_000_000  # 2017-07-14
TEAM = "TGEN0001"

_SUBJECTS = ["ガバメントクラウド", "標準化対応", "LGWAN接続", "マイナンバーカード", "住民税の賦課", "戸籍システム",
             "窓口DX", "電子申請", "共同調達", "ネットワーク分離", "セキュリティポリシー", "テレワーク端末",
             "サーバー移行", "回線費用", "クラウド利用料", "データ連携", "文字の標準化", "ベンダーとの契約"]
_VERBS = ["について教えてください", "の進め方で悩んでいます", "の資料を共有します", "はどこまで進みましたか",
          "で同じ事例はありますか", "の見積もりが届きました", "の説明会に参加しました", "の手順をまとめました",
          "の移行計画を見直しています", "で障害が起きました"]
_TAILS = ["。", "。よろしくお願いします。", "。ご存じの方がいれば助かります。", "！", "。参考になれば幸いです。",
          "。来週の定例で話します。", "。詳しくはスレッドで。"]
_REPLIES = ["うちでも同じでした。", "ありがとうございます、助かります。", "確認して折り返します。", "資料を拝見しました。",
            "当市では昨年度に対応済みです。", "ベンダーに問い合わせてみます。", "なるほど、その手がありましたね。",
            "デジタル庁のFAQにも載っていました。", "県の担当にも共有します。"]
_REACTIONS = ["+1", "pray", "eyes", "tada", "sankouninarimasu", "arigatou", "naruhodo", "white_check_mark",
              "joy", "ryoukai", "custom_otsukare", "heart", "kakuninshimasu"]
_FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
           "山口", "松本", "井上", "木村", "林", "斎藤", "清水"]
_GIVEN = ["太郎", "花子", "一郎", "陽子", "健", "美咲", "大輔", "由美", "翔", "真理", "隆", "恵", "誠", "直子"]
_CHANNEL_WORDS = ["general", "random", "gov-cloud", "標準化", "lgwan", "マイナンバー", "窓口dx", "電子申請",
                  "セキュリティ", "共同調達", "質問箱", "雑談", "北海道", "東北", "関東", "近畿", "九州"]


def _text(rng: random.Random, users: list[str], channels: list[tuple[str, str]], reply: bool) -> str:
    if reply:
        text = rng.choice(_REPLIES)
    else:
        text = rng.choice(_SUBJECTS) + rng.choice(_VERBS) + rng.choice(_TAILS)
    r = rng.random()
    if r < 0.06:
        text = f"<@{rng.choice(users)}> " + text
    elif r < 0.10:
        text += " <https://www.digital.go.jp/policies/local_governments|デジタル庁の資料>"
    elif r < 0.13:
        text = text.replace(rng.choice(_SUBJECTS), "*重要*", 1) + " *至急*"
    elif r < 0.15:
        text += "\n```\nsudo systemctl restart lgwan-proxy\n```"
    elif r < 0.16:
        cid, name = rng.choice(channels)
        text += f" <#{cid}|{name}> も参照"
    elif r < 0.17:
        text = "&gt; " + text + "\n引用への返事です &amp; 補足"
    if rng.random() < 0.3:
        text += " " + rng.choice(_SUBJECTS) + "の件も併せて。"
    return text


def generate(out: Path, *, messages: int, channels: int, users: int, as_zip: bool = False, seed: int = 1) -> Path:
    rng = random.Random(seed)
    domains = list(builtin_domains())
    user_rows = []
    for i in range(users):
        uid = f"U{i:08d}"
        name = rng.choice(_FAMILY) + " " + rng.choice(_GIVEN)
        r = rng.random()
        email = (None if r < 0.02 else f"user{i}@example.com" if r < 0.25
                 else f"u{i}@{rng.choice(domains)}")
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0]}
        if email:
            profile["email"] = email
        user_rows.append({"id": uid, "team_id": TEAM, "name": f"user{i}", "real_name": name,
                          "deleted": rng.random() < 0.01, "is_bot": False, "profile": profile})
    user_ids = [u["id"] for u in user_rows]
    chans = []
    for c in range(channels):
        word = _CHANNEL_WORDS[c % len(_CHANNEL_WORDS)]
        name = word if c < len(_CHANNEL_WORDS) else f"{word}-{c}"
        members = rng.sample(user_ids, min(len(user_ids), rng.randint(20, max(20, users // 10))))
        chans.append({"id": f"C{c:08d}", "name": name, "created": T0 - 86400, "creator": members[0],
                      "is_archived": rng.random() < 0.05, "members": members,
                      "purpose": {"value": f"{word}について話すチャンネル"}, "topic": {"value": ""}})
    channel_refs = [(c["id"], c["name"]) for c in chans]
    # Skewed sizes: a few busy channels, many quiet ones.
    weights = [1 / (i + 1) ** 0.8 for i in range(channels)]
    total_w = sum(weights)
    sizes = [max(1, int(messages * w / total_w)) for w in weights]
    sizes[0] += messages - sum(sizes)

    zf = zipfile.ZipFile(out.with_suffix(".zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=1) if as_zip else None

    def put(name: str, data: Any) -> None:
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        if zf is not None:
            zf.writestr(name, raw)
        else:
            p = out / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(raw)

    put("users.json", user_rows)
    put("channels.json", chans)
    put("groups.json", [{"id": "G1", "name": "運営"}])
    put("dms.json", [{"id": "D1"}, {"id": "D2"}])
    for chan, size in zip(chans, sizes):
        members = chan["members"]
        per_day = 60
        t = T0
        open_threads: list[str] = []
        day_msgs: list[dict[str, Any]] = []
        day = None
        for n in range(size):
            t += rng.randint(60, 2 * 86400 // per_day)
            ts = f"{t}.{rng.randint(0, 999999):06d}"
            this_day = _day(t)
            if day is not None and this_day != day and day_msgs:
                put(f"{chan['name']}/{day}.json", day_msgs)
                day_msgs = []
            day = this_day
            author = rng.choice(members)
            reply = bool(open_threads) and rng.random() < 1 / 3
            msg: dict[str, Any] = {"type": "message", "user": author, "ts": ts,
                                   "text": _text(rng, members, channel_refs, reply)}
            r = rng.random()
            if r < 0.01:
                msg = {"type": "message", "subtype": "channel_join", "user": author, "ts": ts,
                       "text": f"<@{author}> さんがチャンネルに参加しました"}
            elif r < 0.015:
                msg = {"type": "message", "subtype": "bot_message", "bot_id": "B0001", "username": "定例リマインダー",
                       "ts": ts, "text": "本日15時から定例会です :bell:"}
            elif reply:
                parent = rng.choice(open_threads[-20:])
                msg["thread_ts"] = parent
                if rng.random() < 0.05:
                    msg["subtype"] = "thread_broadcast"
            else:
                open_threads.append(ts)
            if rng.random() < 0.05:
                msg["edited"] = {"user": author, "ts": f"{t + 120}.000000"}
            if rng.random() < 0.02:
                msg["files"] = [{"id": f"F{n}", "name": f"資料{n}.pdf", "title": "資料"}]
            if rng.random() < 0.003:
                msg["pinned_to"] = [chan["id"]]
            if rng.random() < 0.25 and msg.get("subtype") != "channel_join":
                msg["reactions"] = [
                    {"name": name, "users": (who := rng.sample(members, min(len(members), rng.randint(1, 5)))),
                     "count": len(who)}
                    for name in rng.sample(_REACTIONS, rng.randint(1, 3))]
            day_msgs.append(msg)
        if day_msgs:
            put(f"{chan['name']}/{day}.json", day_msgs)
    if zf is not None:
        zf.close()
        return out.with_suffix(".zip")
    return out


def _day(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--channels", type=int, default=130)
    ap.add_argument("--users", type=int, default=15_000)
    ap.add_argument("--zip", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    path = generate(a.out, messages=a.messages, channels=a.channels, users=a.users, as_zip=a.zip, seed=a.seed)
    print(path)


if __name__ == "__main__":
    main()
