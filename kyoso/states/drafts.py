"""What someone typed is never lost: after a send, a box drops only the text
that was sent (kyoso_live.js keeps drafts per channel and thread)."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx


def sent_script(input_id: str, body: str) -> Any:
    """Remove ``body`` from the start of the box ``input_id`` (and from its
    saved draft); text typed after the send stays."""
    return rx.call_script(f"window.kyosoSent && window.kyosoSent({json.dumps(input_id)}, {json.dumps(body)})")
