"""Demo data: a few 団体 across Japan, national staff, 運営, channels and
conversations in natural Japanese. Loaded by ``kyoso seed --demo`` and by the
README's run command. Every demo account uses the password ``DEMO_PASSWORD``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kyoso.db import utcnow
from kyoso.models import Message, Role, User
from kyoso.services import (
    accounts,
    announcements,
    briefing_room,
    briefings,
    channels,
    messages,
    polls,
    search,
    stamps,
)
from kyoso.services.timefmt import JST

DEMO_PASSWORD = "kyoso-demo-2026"

# (key, email, name, org code, department, role)
PEOPLE = [
    ("admin", "unei@digital.go.jp", "運営 管理者", "G00001", "共創プラットフォーム運営チーム", Role.admin),
    ("mod", "moderator@digital.go.jp", "青木 さくら", "G00001", "共創プラットフォーム運営チーム", Role.moderator),
    ("digital", "sato.kenji@digital.go.jp", "佐藤 健二", "G00001", "地方業務システム基盤チーム", Role.national),
    ("soumu", "suzuki.mai@soumu.go.jp", "鈴木 麻衣", "G00016", "自治行政局 住民制度課", Role.national),
    ("sapporo", "tanaka.yuki@city.sapporo.lg.jp", "田中 由紀", "011002", "デジタル戦略推進局", Role.member),
    ("sendai", "takahashi.ryo@city.sendai.lg.jp", "高橋 亮", "041009", "まちづくり政策局 情報政策部", Role.member),
    ("chiyoda", "ito.kaori@city.chiyoda.lg.jp", "伊藤 香織", "131016", "政策経営部 情報政策課", Role.member),
    ("yokohama", "watanabe.shun@city.yokohama.lg.jp", "渡辺 駿", "141003", "デジタル統括本部", Role.member),
    ("nagano", "kobayashi.emi@pref.nagano.lg.jp", "小林 恵美", "200000", "企画振興部 DX推進課", Role.member),
    ("obuse", "yamamoto.taro@town.obuse.nagano.lg.jp", "山本 太郎", "205419", "総務課 情報係", Role.member),
    ("osaka", "nakamura.aya@city.osaka.lg.jp", "中村 彩", "271004", "デジタル統括室", Role.member),
    ("kochi", "kato.naoki@pref.kochi.lg.jp", "加藤 直樹", "390003", "デジタル政策課", Role.member),
    ("fukuoka", "yoshida.mika@city.fukuoka.lg.jp", "吉田 美香", "401307", "総務企画局 DX戦略課", Role.member),
    ("naha", "higa.shinji@city.naha.lg.jp", "比嘉 真司", "472018", "企画財務部 デジタル推進課", Role.member),
]

CHANNELS = [
    ("oshirase", "お知らせ", "デジタル庁・総務省などからの政策のお知らせ、リリース、説明会の案内。", True, True),
    ("hyojunka", "自治体システム標準化", "基幹業務システムの標準化・ガバメントクラウド移行について、進め方や悩みを共有します。", False, True),
    ("gov-cloud", "ガバメントクラウド", "ガバメントクラウドの利用、運用経費、ネットワーク構成などの情報交換。", False, True),
    ("madoguchi", "窓口DX・書かない窓口", "書かない窓口、オンライン申請、窓口BPRの事例共有。", False, True),
    ("mynumber", "マイナンバーカード活用", "マイナンバーカードの利活用、公金受取口座、コンビニ交付など。", False, True),
    ("gen-ai", "生成AI活用", "自治体での生成AIの導入事例、ガイドライン、プロンプトの工夫。", False, True),
    ("zatsudan", "雑談・自己紹介", "はじめましての自己紹介や、テーマにおさまらない話題はこちら。", False, True),
]

# (channel, author, text, [(reply author, text)], [(stamp, [people])], minutes ago)
CONVERSATIONS = [
    ("oshirase", "digital",
     "**地方公共団体情報システム標準化基本方針の改定案**について、意見募集を開始しました。\n"
     "締切は来月15日です。各自治体の状況を踏まえたご意見をお寄せください。\n"
     "詳細: https://www.digital.go.jp/policies/local_governments",
     [("yokohama", "横浜市です。移行スケジュールの考え方について、後ほどまとめてコメントします。"),
      ("kochi", "小規模団体の体制面についても触れていただけるとありがたいです。")],
     [("確認します", ["sapporo", "sendai", "chiyoda", "osaka"]), ("ありがとうございます", ["obuse", "naha"])], 60 * 26),
    ("hyojunka", "obuse",
     "小布施町の山本です。標準準拠システムへの移行で、**データ移行のテスト**をどの段階で、どのくらいの回数やったか教えていただけないでしょうか。"
     "職員3人で回しているので、他の団体さんの進め方を参考にしたいです。",
     [("nagano", "長野県の小林です。県内の町村でも同じ悩みが多いので、県で事例をまとめて共有する予定です。"),
      ("sendai", "仙台市では本番移行前に3回リハーサルをしました。1回目は項目の対応漏れの洗い出しが中心で、"
                 "2回目以降で件数・金額の突合をしています。"),
      ("digital", "デジタル庁です。移行データの検証観点の例を、来月の説明会資料に入れる予定です。")],
     [("参考になります", ["nagano", "kochi", "naha", "fukuoka"]), ("👍", ["sendai"])], 60 * 20),
    ("hyojunka", "osaka",
     "大阪市です。標準化対象の20業務のうち、税務システムの移行を先行させています。"
     "帳票のレイアウト変更について、住民向けの周知をどうしているか情報交換できればと思います。",
     [("fukuoka", "福岡市です。通知書の見本をホームページに掲載し、問い合わせが多い項目にはQ&Aを付けました。")],
     [("なるほど", ["yokohama", "chiyoda"])], 60 * 8),
    ("gov-cloud", "sapporo",
     "ガバメントクラウドの**運用経費**の見込みについて、試算の前提をどう置いているか教えてください。"
     "特にネットワーク回線費用の扱いに悩んでいます。",
     [("yokohama", "横浜市ではネットワークを共同利用する前提で試算しています。詳細は別途資料を共有できます。"),
      ("digital", "デジタル庁です。回線費用の考え方は、次回の説明会で整理してお示しします。")],
     [("参考になります", ["osaka", "naha"])], 60 * 5),
    ("madoguchi", "chiyoda",
     "千代田区の伊藤です。**書かない窓口**を導入して半年たちました。\n"
     "- 転入手続きの待ち時間が平均で約4割短縮\n- 申請書の記入ミスによる差し戻しがほぼゼロ\n"
     "一方で、システムの操作に慣れるまで職員の負担が大きかったです。",
     [("kochi", "すばらしい成果ですね。職員向けの研修はどのくらい実施されましたか？"),
      ("chiyoda", "導入前に2回、導入後1か月は毎週15分の振り返りをしました。")],
     [("いいね", ["sapporo", "kochi", "fukuoka", "naha", "soumu"]), ("🎉", ["obuse"])], 60 * 30),
    ("mynumber", "soumu",
     "総務省の鈴木です。マイナンバーカードを使った**コンビニ交付**の利用状況について、"
     "今年度の調査を行います。回答は選ぶだけの簡単なものにしますので、ご協力をお願いします。",
     [], [("了解", ["sapporo", "osaka", "naha"])], 60 * 3),
    ("gen-ai", "fukuoka",
     "福岡市です。生成AIの庁内利用ガイドラインを改定しました。"
     "「入力してよい情報」の線引きを具体例で示したところ、問い合わせがかなり減りました。",
     [("naha", "那覇市でもガイドラインを作成中です。具体例の示し方、とても参考になります。")],
     [("参考になります", ["naha", "sendai", "kochi"])], 90),
    ("zatsudan", "naha",
     "はじめまして、那覇市デジタル推進課の比嘉です。窓口DXとマイナンバーカードの利活用を担当しています。"
     "みなさんの事例を参考にさせてください。よろしくお願いします！",
     [("obuse", "小布施町の山本です。よろしくお願いします！")],
     [("🙏", ["obuse", "chiyoda"]), ("いいね", ["sapporo"])], 45),
]


def load_demo(session: Session) -> bool:
    """Load the demo once. Returns False when it is already there."""
    if session.exec(select(User.id).where(User.email == PEOPLE[0][1])).first() is not None:
        return False
    people: dict[str, User] = {}
    for key, email, name, org, dept, role in PEOPLE:
        people[key] = accounts.create_user(session, email=email, password=DEMO_PASSWORD, name=name,
                                           org_code=org, department=dept, role=role)
    chans = {}
    for slug, name, desc, announcement, replies in CHANNELS:
        chans[slug] = channels.create_channel_unchecked(
            session, slug=slug, name=name, description=desc, announcement=announcement,
            allow_replies=replies, created_by=people["admin"],
        )
    # Everyone joins the announcements; the others join what they care about.
    interests = {
        "hyojunka": ["digital", "sapporo", "sendai", "yokohama", "nagano", "obuse", "osaka", "kochi", "fukuoka"],
        "gov-cloud": ["digital", "sapporo", "yokohama", "osaka", "naha"],
        "madoguchi": ["chiyoda", "kochi", "fukuoka", "naha", "soumu", "sapporo", "obuse"],
        "mynumber": ["soumu", "sapporo", "osaka", "naha"],
        "gen-ai": ["fukuoka", "naha", "sendai", "kochi", "digital"],
        "zatsudan": list(people),
    }
    for key, user in people.items():
        channels.join(session, user, chans["oshirase"].id)  # type: ignore[arg-type]
    for slug, keys in interests.items():
        for key in keys:
            channels.join(session, people[key], chans[slug].id)  # type: ignore[arg-type]

    now = utcnow()
    for slug, author, text, replies, stamp_list, minutes_ago in CONVERSATIONS:
        channel = chans[slug]
        msg = messages.post_message(session, people[author], channel.id, text)  # type: ignore[arg-type]
        _backdate(session, msg, now - timedelta(minutes=minutes_ago))
        for i, (who, body) in enumerate(replies):
            if who not in people or not body:
                continue
            reply = messages.post_message(session, people[who], channel.id, body,  # type: ignore[arg-type]
                                             parent_id=msg.id)
            _backdate(session, reply, now - timedelta(minutes=minutes_ago - 10 * (i + 1)))
        for stamp, keys in stamp_list:
            for key in keys:
                stamps.toggle(session, people[key], msg.id, stamp)  # type: ignore[arg-type]
    _demo_poll_announcement_briefing(session, people, chans, now)
    session.flush()
    for channel in chans.values():
        channel.last_message_at = session.exec(
            select(sa.func.max(Message.created_at)).where(Message.channel_id == channel.id)
        ).one()
        session.add(channel)
    session.flush()
    return True


def _demo_poll_announcement_briefing(session: Session, people: dict[str, User], chans: dict,  # type: ignore[type-arg]
                                     now: datetime) -> None:
    poll = polls.create_poll(session, people["digital"], chans["hyojunka"].id, polls.PollInput(
        question="標準準拠システムへの移行が完了する見込みの時期はいつですか？",
        options=["2025年度中", "2026年度中", "2027年度以降", "未定"], allow_other=True,
        anonymous=True, visibility="always"))
    for key, choice in (("sapporo", 1), ("sendai", 1), ("yokohama", 0), ("nagano", 1), ("obuse", 2),
                        ("osaka", 0), ("kochi", 3), ("fukuoka", 1), ("naha", 2)):
        polls.vote(session, people[key], poll.id or 0, [choice])
    day = (now + timedelta(days=3)).astimezone(JST).replace(hour=14, minute=0, second=0, microsecond=0)
    briefing = briefings.create_briefing(session, people["digital"], briefings.BriefingInput(
        title="ガバメントクラウド移行説明会（第3回）",
        description="移行スケジュールの考え方、運用経費の試算方法、ネットワーク構成の留意点についてご説明します。"
                    "当日はアンケートと質問を受け付けます。",
        starts_at=day, ends_at=day + timedelta(hours=1, minutes=30),
        online_url="https://meet.example.go.jp/kyoso-briefing-3", capacity=300,
        channel_id=chans["gov-cloud"].id))
    for key in ("sapporo", "yokohama", "osaka", "naha", "kochi"):
        briefings.register(session, people[key], briefing.id or 0)
    briefing_room.ask(session, people["sapporo"], briefing.id or 0,
                  "回線費用を複数団体で按分する場合の考え方を教えてください。")
    announcements.publish(session, people["digital"], announcements.AnnouncementInput(
        title="ガバメントクラウド移行説明会（第3回）のご案内",
        body=f"{day.month}月{day.day}日 14:00から、オンラインで説明会を開催します。"
             f"説明会のページから申し込めます: /briefings/{briefing.id}",
        category="briefing", channel_ids=[chans["oshirase"].id, chans["gov-cloud"].id],
        briefing_id=briefing.id))
    announcements.publish(session, people["soumu"], announcements.AnnouncementInput(
        title="住民記録システム標準仕様書（第5.0版）を公開しました",
        body="標準仕様書の改定版を公開しました。主な変更点は、転出・転入手続のワンストップ化への対応です。",
        category="policy", importance="high", channel_ids=[chans["oshirase"].id]))


def _backdate(session: Session, message: Message, when: datetime) -> None:
    message.created_at = when
    session.add(message)
    search.sync_message(session, message)
