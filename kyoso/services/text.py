"""Cleaning of what members type: Unicode normalisation, control characters, lengths."""

from __future__ import annotations

import re
import unicodedata

from kyoso.services.errors import InvalidInput

# C0/C1 controls except tab and newline, plus zero-width and bidi overrides that
# can disguise text.
_CONTROL = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clean_line(value: object, *, label: str, max_len: int, required: bool = True,
               nfkc: bool = False) -> str:
    """One line of text (a title, a question): no controls, trimmed.

    With ``nfkc``, full-width ASCII becomes ASCII and half-width kana
    full-width: what people mean when they type an address or a name. Without
    it (the default) only NFC applies, so Japanese punctuation such as ？ and
    （） stays as typed.
    """
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFKC" if nfkc else "NFC", text)
    text = _CONTROL.sub("", text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = re.sub(r" {2,}", " ", text).strip()
    _check_length(text, label=label, max_len=max_len, required=required)
    return text


def clean_name(value: object, *, label: str = "氏名", max_len: int = 50) -> str:
    """A person's name: one line as typed, refused (not joined up) when it
    holds a line break, since it goes into mail headers and every page."""
    if any(ch in str(value or "") for ch in "\r\n\u2028\u2029\x85"):
        raise InvalidInput(f"{label}に改行は使えません。1行で入力してください。", field="name")
    return clean_line(value, label=label, max_len=max_len, nfkc=True)


def clean_text(value: object, *, label: str, max_len: int, required: bool = True) -> str:
    """Several lines (a message, a description): NFC, no controls, line breaks kept."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = re.sub(r"\n{4,}", "\n\n\n", text).strip()
    _check_length(text, label=label, max_len=max_len, required=required)
    return text


def _check_length(text: str, *, label: str, max_len: int, required: bool) -> None:
    if required and not text:
        raise InvalidInput(f"{label}を入力してください。", field=label)
    if len(text) > max_len:
        raise InvalidInput(
            f"{label}は{max_len:,}文字以内で入力してください（いま{len(text):,}文字です）。",
            field=label,
        )
