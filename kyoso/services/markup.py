"""Message text: a safe Markdown subset rendered once, at post and edit time.

Bold, italics, lists, quotes, code and links; URLs are linked, line breaks
kept. Raw HTML is shown as text, images are never loaded (members sit on a
closed network), and the result passes an allow-list sanitizer as a second
line of defence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt

from kyoso import routes

_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    .enable(["linkify", "strikethrough"])
    .disable(["heading", "lheading", "image", "html_block", "html_inline", "hr", "reference"])
)

_TAGS = {"p", "br", "strong", "em", "del", "s", "ul", "ol", "li", "blockquote", "code", "pre", "a", "span"}
_ATTRS = {"a": {"href", "title", "class", "data-user-id"}, "span": {"class", "data-user-id"}, "ol": {"start"}}

# A mention as the composer writes it: @[氏名]
MENTION = re.compile(r"@\[([^\[\]\n]{1,50})\]")


# A path into kyoso written in a post ("申し込めます: /briefings/1"): its first
# segment is one of kyoso's routes; it becomes a link like a URL does.
_FIRST_SEGMENTS = sorted({v.strip("/").split("/")[0] for k, v in vars(routes).items()
                          if k.isupper() and isinstance(v, str) and v.strip("/")}, key=len, reverse=True)
KYOSO_PATH = re.compile(r"(?<![A-Za-z0-9_/.:\-])/(?:" + "|".join(map(re.escape, _FIRST_SEGMENTS))
                        + r")(?:/[A-Za-z0-9_\-]+)*/?(?:\?(?:[A-Za-z0-9_=%\-]|&amp;)+)?(?![A-Za-z0-9_])")
_SEGMENTS = re.compile(r"(<[^>]*>)")


def _link_paths(out: str) -> str:
    """Kyoso paths in text become links; not inside a link or code."""
    parts = _SEGMENTS.split(out)
    inside = 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            tag = part[1:].split(">")[0].split()[0].lower() if len(part) > 2 else ""
            if tag in ("a", "code", "pre"):
                inside += 1
            elif tag in ("/a", "/code", "/pre"):
                inside = max(0, inside - 1)
        elif part and not inside:
            parts[i] = KYOSO_PATH.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', part)
    return "".join(parts)


def _link_attrs(tag: str, name: str, value: str) -> str | None:
    if name == "class":
        return value if value == "mention" else None
    if name == "data-user-id":
        return value if value.isdecimal() else None
    return value


def render(text: str, mentions: Mapping[str, int] | None = None) -> str:
    """Markdown → sanitized HTML. ``mentions`` maps a mentioned name to its user id."""
    out = _md.render(text)
    if mentions:
        def repl(m: re.Match[str]) -> str:
            name = html.unescape(m.group(1))
            uid = mentions.get(name)
            if uid is None:
                return m.group(0)
            # A mention links to the member's profile.
            return (f'<a class="mention" href="{routes.profile(uid)}" data-user-id="{uid}">'
                    f'@{html.escape(name)}</a>')

        out = MENTION.sub(repl, out)
    out = _link_paths(out)
    return nh3.clean(
        out,
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_link_attrs,
        strip_comments=True,
    )


def mentioned_names(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(1).strip() for m in MENTION.finditer(text)))


def plain_text(text: str, limit: int = 120) -> str:
    """A one-line excerpt for lists and notifications."""
    flat = re.sub(r"\s+", " ", MENTION.sub(r"@\1", text)).strip()
    flat = re.sub(r"[*_`>#~]", "", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
