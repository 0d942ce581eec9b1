"""Slack's mrkdwn to kyoso's Markdown (then ``markup.render``, like a post).

    <@U012AB3CD>            → @[氏名] (a mention of the member it became)
    <#C123|general>         → [#general](/c/<slug>)
    <https://x|label>       → [label](https://x)
    <!here> <!channel>      → @here @channel
    &lt; &gt; &amp;        → < > &
    *bold* _italic_ ~strike~ → **bold** *italic* ~~strike~~
    ```code``` `code`       → fenced block / code span
    > quote, >>> quote      → Markdown quotes
    :emoji:                 → the character when known, else ``:name:`` as text

Everything else is text: Markdown characters Slack did not mean as markup
are escaped, so nothing turns into broken or unintended markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Common emoji names (Slack's short names) and their characters.
EMOJI: dict[str, str] = {
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "pray": "🙏", "tada": "🎉",
    "eyes": "👀", "joy": "😂", "white_check_mark": "✅", "heavy_check_mark": "✔️", "ok_hand": "👌",
    "clap": "👏", "smile": "😄", "smiley": "😃", "grinning": "😀", "laughing": "😆", "sweat_smile": "😅",
    "slightly_smiling_face": "🙂", "wink": "😉", "blush": "😊", "heart": "❤️", "heart_eyes": "😍",
    "thinking_face": "🤔", "sob": "😭", "cry": "😢", "sweat": "😓", "bow": "🙇", "muscle": "💪",
    "fire": "🔥", "star": "⭐", "sparkles": "✨", "100": "💯", "raised_hands": "🙌", "wave": "👋",
    "point_up": "☝️", "point_right": "👉", "bulb": "💡", "memo": "📝", "warning": "⚠️", "x": "❌",
    "o": "⭕", "question": "❓", "exclamation": "❗", "rocket": "🚀", "sunny": "☀️", "coffee": "☕",
    "innocent": "😇", "scream": "😱", "sunglasses": "😎", "relieved": "😌", "smirk": "😏",
    "cherry_blossom": "🌸", "beer": "🍺", "bell": "🔔", "calendar": "📆", "paperclip": "📎",
    "link": "🔗", "lock": "🔒", "mag": "🔍", "pushpin": "📌", "seedling": "🌱", "trophy": "🏆",
    "arrow_right": "➡️", "arrow_up": "⬆️", "heavy_plus_sign": "➕", "hugging_face": "🤗",
    "face_with_rolling_eyes": "🙄", "slightly_frowning_face": "🙁", "upside_down_face": "🙃",
    "zany_face": "🤪", "partying_face": "🥳", "ok": "🆗", "new": "🆕", "free": "🆓",
}

# Reactions whose meaning is one of kyoso's stamps (services/stamps.DEFAULT_STAMPS):
# the emoji stamps by name, and the text stamps by the custom emoji names
# Japanese workspaces commonly use for them.
STAMP_FOR_REACTION: dict[str, str] = {
    "+1": "👍", "thumbsup": "👍", "pray": "🙏", "tada": "🎉", "eyes": "👀", "joy": "😂",
    "white_check_mark": "✅", "heavy_check_mark": "✅",
    "ryoukai": "了解", "ryokai": "了解", "ryo": "了解", "roger": "了解", "了解": "了解",
    "arigatou": "ありがとうございます", "arigato": "ありがとうございます", "arigatougozaimasu": "ありがとうございます",
    "thanks": "ありがとうございます", "thank_you": "ありがとうございます", "ありがとうございます": "ありがとうございます",
    "naruhodo": "なるほど", "なるほど": "なるほど",
    "sankouninarimasu": "参考になります", "sankou": "参考になります", "参考になります": "参考になります",
    "sansei": "賛成", "賛成": "賛成",
    "iine": "いいね", "いいね": "いいね", "like": "いいね",
    "otsukaresama": "おつかれさまです", "otsukaresamadesu": "おつかれさまです", "otsukare": "おつかれさまです",
    "おつかれさまです": "おつかれさまです",
    "kakuninshimasu": "確認します", "kakunin": "確認します", "確認します": "確認します",
}

STAMP_MAX = 30
_SKIN = re.compile(r"::skin-tone-\d$")


def stamp_for(reaction: str) -> str:
    """kyoso's stamp for a Slack reaction name: a known one, else ``:name:`` kept
    (so the count and who pressed it survive)."""
    name = _SKIN.sub("", reaction or "")
    return STAMP_FOR_REACTION.get(name) or f":{name}:"[:STAMP_MAX]


@dataclass
class Converted:
    markdown: str
    mentions: dict[str, int] = field(default_factory=dict)  # name -> user id, for markup.render
    unknown: list[str] = field(default_factory=list)  # ids of users/channels not in the export


_CODE = re.compile(r"```(.*?)```|`([^`\n]+)`", re.S)
_SPECIAL = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![A-Za-z0-9*\\])\*(?=\S)([^*\n]*?\S)\*(?![A-Za-z0-9*])")
_ITALIC = re.compile(r"(?<![A-Za-z0-9_\\])_(?=\S)([^_\n]*?\S)_(?![A-Za-z0-9_])")
_STRIKE = re.compile(r"(?<![A-Za-z0-9~\\])~(?=\S)([^~\n]*?\S)~(?![A-Za-z0-9~])")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-']{1,60}(?:::skin-tone-\d)?):")
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]])")
_HOLE = re.compile(r"\x00(\d+)\x00")
_LINK_OK = re.compile(r"^(https?://|mailto:)[^\s<>]+$", re.I)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _esc(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _clean_name(name: str) -> str:
    return re.sub(r"[\[\]\n]", "", name).strip()[:50] or "名前なし"


class Converter:
    """Converts the messages of one workspace.

    ``users`` maps a Slack user id to (name, kyoso user id); ``channels`` maps
    a Slack channel id to (name, kyoso slug or "" when not imported).
    """

    def __init__(self, users: Mapping[str, tuple[str, int]], channels: Mapping[str, tuple[str, str]]) -> None:
        self.users = users
        self.channels = channels

    def convert(self, text: str) -> Converted:
        out = Converted("")
        holes: list[str] = []

        def hold(md: str) -> str:
            holes.append(md)
            return f"\x00{len(holes) - 1}\x00"

        parts: list[str] = []
        pos = 0
        for m in _CODE.finditer(text or ""):
            parts.append(self._text(text[pos:m.start()], hold, out))
            if m.group(1) is not None:
                code = _unescape(m.group(1)).strip("\n")
                parts.append(hold(f"\n```\n{code}\n```\n"))
            else:
                parts.append(hold(f"`{_unescape(m.group(2))}`"))
            pos = m.end()
        parts.append(self._text((text or "")[pos:], hold, out))
        md = "".join(parts)
        for _ in range(8):  # nested holes (bold around a link, ...)
            if "\x00" not in md:
                break
            md = _HOLE.sub(lambda h: holes[int(h.group(1))], md)
        out.markdown = md.strip("\n")
        return out

    def _special(self, body: str, hold: Callable[[str], str], out: Converted) -> str:
        target, _, label = body.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            person = self.users.get(uid)
            if person is None:
                out.unknown.append(uid)
                return hold(_esc("@" + (label or uid)))
            name = _clean_name(person[0])
            out.mentions[name] = person[1]
            return hold(f"@[{name}]")
        if target.startswith("#"):
            cid = target[1:]
            chan = self.channels.get(cid)
            name = (chan[0] if chan else "") or label or cid
            if chan is None:
                out.unknown.append(cid)
            if chan and chan[1]:
                return hold(f"[#{_esc(name)}](/c/{chan[1]})")
            return hold(_esc("#" + name))
        if target.startswith("!"):
            word = target[1:]
            if word.startswith("subteam^") or word.startswith("date^"):
                return hold(_esc(label or word.split("^", 1)[0]))
            return hold(_esc("@" + (label.lstrip("@") or word)))
        url = _unescape(target)
        if _LINK_OK.match(url):
            shown = _unescape(label) if label else (url[7:] if url.lower().startswith("mailto:") else url)
            return hold(f"[{_esc(shown)}](<{url}>)")
        return hold(_esc(_unescape(label or target)))

    def _text(self, text: str, hold: Callable[[str], str], out: Converted) -> str:
        if not text:
            return ""
        text = _SPECIAL.sub(lambda m: self._special(m.group(1), hold, out), text)
        text = _unescape(text)
        text = _EMOJI_CODE.sub(
            lambda m: hold(_esc(EMOJI.get(_SKIN.sub("", m.group(1)), m.group(0)))), text)
        text = _STRIKE.sub(lambda m: hold(f"~~{_esc(m.group(1))}~~"), text)
        text = _ITALIC.sub(lambda m: hold(f"*{_esc(m.group(1))}*"), text)
        text = _BOLD.sub(lambda m: hold(f"**{_esc(m.group(1))}**"), text)
        lines: list[str] = []
        quoting = False
        for line in text.split("\n"):
            if line.startswith(">>>"):
                quoting, line = True, line[3:].lstrip()
            if line.startswith("•") or line.startswith("◦"):
                line = "- " + line[1:].lstrip()
            line = f"> {_esc(line)}" if quoting else _esc(line)
            # A Slack quote is one line: the next line is not part of it.
            if lines and lines[-1].startswith(">") and not line.startswith(">"):
                lines.append("")
            lines.append(line)
        return "\n".join(lines)
