"""Slack mrkdwn → kyoso Markdown → the same sanitized HTML as a post."""

from __future__ import annotations

import pytest

from kyoso.services import markup
from kyoso.services.slack_import.mrkdwn import Converter, stamp_for

USERS = {"U1": ("山田 太郎", 5), "U2": ("佐藤[花子]", 6)}
CHANNELS = {"C1": ("総務", "somu"), "C2": ("非公開", "")}


def html(text: str) -> str:
    conv = Converter(USERS, CHANNELS).convert(text)
    return markup.render(conv.markdown, conv.mentions)


@pytest.mark.parametrize("slack, expected", [
    ("<@U1> さん", '<a class="mention" href="/u/5" data-user-id="5" rel="noopener noreferrer nofollow">@山田 太郎</a> さん'),
    ("<@U1|yamada> さん", '<a class="mention" href="/u/5" data-user-id="5" rel="noopener noreferrer nofollow">@山田 太郎</a>'),
    ("<@U2>", '<a class="mention" href="/u/6" data-user-id="6" rel="noopener noreferrer nofollow">@佐藤花子</a>'),  # brackets cannot break a mention
    ("<#C1|somu> へ", '<a href="/c/somu" rel="noopener noreferrer nofollow">#総務</a> へ'),
    ("<#C2|hi>", "#非公開"),
    ("<https://example.lg.jp/a_b?x=1&amp;y=2|資料>", '<a href="https://example.lg.jp/a_b?x=1&amp;y=2" rel="noopener noreferrer nofollow">資料</a>'),
    ("<https://example.lg.jp>", '>https://example.lg.jp</a>'),
    ("<mailto:a@city.example.lg.jp|a@city.example.lg.jp>", 'href="mailto:a@city.example.lg.jp"'),
    ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
    ("<!subteam^S1|@kanri> へ", "@kanri へ"),
    ("<!date^1392734382^{date}|2014年2月18日>", "2014年2月18日"),
    ("a &lt; b &gt; c &amp; d", "a &lt; b &gt; c &amp; d"),
    ("*太字* と _斜体_ と ~取消~", "<strong>太字</strong> と <em>斜体</em> と <s>取消</s>"),
    ("```select *\nfrom t```", "<pre><code>select *\nfrom t\n</code></pre>"),
    ("`a*b*c` です", "<code>a*b*c</code> です"),
    ("&gt; 引用\n本文", "<blockquote>\n<p>引用</p>\n</blockquote>\n<p>本文</p>"),
    (">>>一行目\n二行目", "<blockquote>\n<p>一行目<br>\n二行目</p>"),
    ("• 項目1\n• 項目2", "<ul>\n<li>項目1</li>\n<li>項目2</li>\n</ul>"),
    (":+1: :tada: :white_check_mark:", "👍 🎉 ✅"),
    (":thumbsup::skin-tone-3:", "👍"),
])
def test_markup_converts(slack: str, expected: str) -> None:
    assert expected in html(slack)


@pytest.mark.parametrize("slack, shown", [
    ("2*3*4 と snake_case_name", "2*3*4 と snake_case_name"),
    ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    (":custom_emoji: はそのまま", ":custom_emoji: はそのまま"),
    ("<tel:0312345678|電話>", "電話"),
    ("<@U404> さん", "@U404 さん"),
    ("# 見出しではない", "# 見出しではない"),
])
def test_what_cannot_be_converted_stays_readable_text(slack: str, shown: str) -> None:
    out = html(slack)
    assert shown in out
    assert "<a " not in out and "<script" not in out and "<em>" not in out


def test_unknown_ids_are_reported() -> None:
    conv = Converter(USERS, CHANNELS).convert("<@U404> と <#C404|どこか>")
    assert conv.unknown == ["U404", "C404"]
    assert conv.mentions == {}


@pytest.mark.parametrize("reaction, stamp", [
    ("+1", "👍"), ("thumbsup::skin-tone-2", "👍"), ("pray", "🙏"), ("ryoukai", "了解"),
    ("arigatou", "ありがとうございます"), ("sankouninarimasu", "参考になります"), ("white_check_mark", "✅"),
    ("custom_kansha", ":custom_kansha:"), ("x" * 40, ":" + "x" * 29),
])
def test_reactions_become_stamps(reaction: str, stamp: str) -> None:
    assert stamp_for(reaction) == stamp
