"""The safe Markdown subset: what renders, and what stays inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kyoso.services import markup

# Known XSS payloads: each must render without an executable tag, handler or
# script URL.
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](javascript&#58;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](https://evil.example/x.png)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[x](https://example.com\"onmouseover=\"alert(1))",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "[a]: javascript:alert(1)\n\n[link][a]",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
]


ALLOWED_TAGS = {"p", "br", "strong", "em", "del", "s", "ul", "ol", "li", "blockquote", "code",
                "pre", "a", "span"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_render_inert(payload: str) -> None:
    """Only allowed tags, no event handlers or styles, links only to http(s)/mailto.
    Escaped text such as "&lt;script&gt;" is fine: it shows, it does not run."""
    parser = _Tags()
    parser.feed(markup.render(payload))
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (payload, tag)
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (payload, name)
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), (payload, value)


def test_subset_renders() -> None:
    out = markup.render("**太字** と _斜体_\n次の行\n\n- 一\n- 二\n\n> 引用\n\n`code` ~~消し~~")
    for tag in ("<strong>太字</strong>", "<em>斜体</em>", "<br>", "<li>一</li>", "<blockquote>",
                "<code>code</code>", "<s>消し</s>"):
        assert tag in out, out


def test_urls_are_linked_safely() -> None:
    out = markup.render("詳細は https://www.digital.go.jp/policies をご覧ください")
    assert '<a href="https://www.digital.go.jp/policies" rel="noopener noreferrer nofollow">' in out


def test_headings_and_images_are_not_rendered() -> None:
    assert "<h1" not in markup.render("# 見出し")
    assert "<img" not in markup.render("![画像](https://www.digital.go.jp/a.png)")


def test_plain_text_excerpt() -> None:
    assert markup.plain_text("**太字**\n@[田中 一郎] さん", 100) == "太字 @田中 一郎 さん"
    assert markup.plain_text("あ" * 200, 10) == "あ" * 9 + "…"


def test_kyoso_paths_become_links() -> None:
    out = markup.render("説明会のページから申し込めます: /briefings/1。検索は /search?q=a&b=c から")
    assert '<a href="/briefings/1" rel="noopener noreferrer nofollow">/briefings/1</a>。' in out, out
    assert '<a href="/search?q=a&amp;b=c"' in out, out


def test_paths_in_code_links_and_other_paths_stay_text() -> None:
    out = markup.render("`/c/general` と [案内](https://example.go.jp/c/x) と /usr/bin と a/c/x")
    assert out.count("<a ") == 1, out
    assert "<code>/c/general</code>" in out


def test_a_mention_links_to_the_member_and_cannot_be_forged() -> None:
    html_out = markup.render("@[山田 太郎] さん、ご確認ください", {"山田 太郎": 42})
    assert '<a class="mention" href="/u/42" data-user-id="42"' in html_out
    # Written by hand, it stays text: no element with another class or id.
    forged = markup.render('<a class="evil" data-user-id="x" href="/u/1">x</a>')
    assert '<a class="evil"' not in forged and '<a class="mention"' not in forged
