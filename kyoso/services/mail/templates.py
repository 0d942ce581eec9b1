"""The words of every mail: a subject, plain text and the same in HTML.

Each function returns a ``Rendered``; the caller puts it in an outbox Draft.
Text from members (names, titles, excerpts) is escaped in the HTML part and
made one line in subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from kyoso.settings import get_settings

SIGNATURE = "共創（kyoso）"
FOOTER = "このメールは共創（kyoso）から自動で送信しています。このメールに返信しても届きません。"


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def url(path: str) -> str:
    """An absolute link to a page of kyoso, from KYOSO_BASE_URL."""
    return get_settings().base_url.rstrip("/") + "/" + path.lstrip("/")


def _subject(text: str) -> str:
    return " ".join(text.split())[:200]


def _render(subject: str, greeting: str, paragraphs: list[str], *, link: tuple[str, str] | None = None,
            items: list[tuple[str, str, str]] | None = None, after: list[str] | None = None,
            unsubscribe: str = "", settings_link: bool = True) -> Rendered:
    """items: (heading, body, link) rows, e.g. one per message of a thread."""
    text: list[str] = [greeting, ""]
    html: list[str] = [f"<p>{escape(greeting)}</p>"]
    for p in paragraphs:
        text += [p, ""]
        html.append(f"<p>{escape(p)}</p>")
    for heading, body, href in items or []:
        text += [f"■ {heading}", body, href, ""] if href else [f"■ {heading}", body, ""]
        html.append(
            f'<div style="margin:0 0 12px;padding:8px 12px;border-left:3px solid #0b5cad">'
            f"<strong>{escape(heading)}</strong><br>{escape(body).replace(chr(10), '<br>')}"
            + (f'<br><a href="{escape(href)}">開く</a>' if href else "") + "</div>")
    if link:
        label, href = link
        text += [f"{label}:", href, ""]
        html.append(f'<p><a href="{escape(href)}" style="font-weight:bold">{escape(label)}</a><br>'
                    f'<span style="color:#555;font-size:12px">{escape(href)}</span></p>')
    for p in after or []:
        text += [p, ""]
        html.append(f"<p>{escape(p)}</p>")
    text += ["--", FOOTER]
    foot = [escape(FOOTER)]
    if settings_link:
        text.append(f"受け取るメールの設定: {url('/settings')}")
        foot.append(f'<a href="{escape(url("/settings"))}">受け取るメールの設定</a>')
    if unsubscribe:
        text.append(f"この種類のメールを今後受け取らない（ログイン不要）: {unsubscribe}")
        foot.append(f'<a href="{escape(unsubscribe)}">この種類のメールを今後受け取らない</a>')
    text.append(SIGNATURE)
    body = "\n".join(html)
    html_doc = (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif;line-height:1.7;color:#222">'
        f"{body}<hr><p style=\"color:#666;font-size:12px\">{'<br>'.join(foot)}</p></body></html>")
    return Rendered(_subject(subject), "\n".join(text) + "\n", html_doc)


def verify(name: str, org_name: str, link: str) -> Rendered:
    return _render(
        "【共創】メールアドレスの確認をお願いします",
        f"{name} 様",
        [f"共創（kyoso）への参加申請（{org_name}）を受け付けました。",
         "下のリンクを開いて、このメールアドレスがあなたのものであることを確認してください。"
         "確認が済むと、申請が運営の審査に進みます。リンクの有効期限は24時間です。"],
        link=("メールアドレスを確認する", link),
        after=["この申請に心当たりがない場合は、このメールを破棄してください。リンクを開かなければ申請は進みません。"],
        settings_link=False,
    )


def reset(name: str, link: str, *, by_staff: bool = False) -> Rendered:
    why = ("運営があなたのアカウントのパスワード再設定用のリンクを発行しました。" if by_staff
           else "パスワードの再設定の申し込みを受け付けました。")
    return _render(
        "【共創】パスワードの再設定",
        f"{name} 様",
        [why, "下のリンクから新しいパスワードを設定してください。リンクの有効期限は30分で、一度だけ使えます。"
         "新しいパスワードを設定すると、ほかの端末のログインはすべて終了します。"],
        link=("新しいパスワードを設定する", link),
        after=["心当たりがない場合は、このメールを破棄してください。パスワードは変わりません。"],
        settings_link=False,
    )


def thread_activity(name: str, where: str, items: list[tuple[str, str, str]], link: str,
                    *, unsubscribe: str) -> Rendered:
    """Unread mentions/replies/answers of one thread, in one mail."""
    first = items[0][0] if items else ""
    more = f" ほか{len(items) - 1}件" if len(items) > 1 else ""
    return _render(
        f"【共創】{where}: {first}{more}",
        f"{name} 様",
        [f"{where} に、まだ読んでいない通知があります。"],
        items=items, link=("共創で開く", link), unsubscribe=unsubscribe,
    )


def digest(name: str, threads: list[tuple[str, str, str]], *, unsubscribe: str) -> Rendered:
    return _render(
        f"【共創】きょうのダイジェスト（新しいスレッド {len(threads)}件）",
        f"{name} 様",
        ["参加しているチャンネルで、この1日に始まったスレッドです（スタンプの多い順）。"],
        items=threads, link=("共創を開く", url("/")), unsubscribe=unsubscribe,
    )


def reminder(name: str, title: str, when_label: str, starts: str, place: str, link: str,
             *, unsubscribe: str) -> Rendered:
    lines = [f"申し込みいただいた説明会「{title}」は{when_label}です。", f"日時: {starts}"]
    if place:
        lines.append(f"場所・参加方法: {place}")
    lines.append("予定表に追加できるファイル（.ics）を添付しています。")
    return _render(f"【共創】{when_label}の説明会: {title}", f"{name} 様", lines,
                   link=("説明会のページを開く", link), unsubscribe=unsubscribe)


def announcement(name: str, title: str, body: str, link: str, *, unsubscribe: str) -> Rendered:
    return _render(f"【共創・重要】{title}", f"{name} 様",
                   ["重要なお知らせが出ました。", body], link=("お知らせを開く", link),
                   unsubscribe=unsubscribe)


def test_mail() -> Rendered:
    return _render("【共創】テストメール", "共創（kyoso）からのテストメールです。",
                   ["このメールが届いていれば、メールの送信設定は正しく動いています。"],
                   link=("共創を開く", url("/")), settings_link=False)
