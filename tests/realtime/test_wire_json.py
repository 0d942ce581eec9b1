"""The socket's JSON (transport.wire_dumps) says what Reflex's encoder says:
the same values, read back, for everything a state sends."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from reflex.app import _sio_dumps
from reflex_base.utils import serializers

from kyoso.realtime import transport
from kyoso.services import attachments, briefing_room
from kyoso.states.session import Me


class Colour(enum.Enum):
    RED = "赤"


class Level(enum.IntEnum):
    HIGH = 3


class Kind(str, enum.Enum):
    POLICY = "policy"


class Label(str):
    pass


@dataclasses.dataclass
class Stamp:
    emoji: str
    count: int
    at: datetime


@dataclasses.dataclass
class Post:
    id: int
    body: str
    stamps: list[Stamp]
    tags: set[str]
    kind: Kind


class Point:
    """A type with a serializer registered with Reflex (as an app may)."""

    def __init__(self, x: int) -> None:
        self.x = x




@serializers.serializer(to=dict)
def _serialize_point(p: Point) -> dict[str, Any]:
    return {"x": p.x, "from": "serializer"}


NOW = datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)
VALUES: list[Any] = [
    None, True, 0, -1, 2**63 - 1, 1.5, 1e16, "", "共創🙏\n\"quoted\"\\",
    [1, "二", None], (1, 2), {"a": {"b": [1.25]}}, {1: "int key", 2.5: "float key"},
    defaultdict(list, {"x": [1]}), Label("名前"), Colour.RED, Level.HIGH, Kind.POLICY,
    NOW, NOW.date(), date(2026, 1, 2), timedelta(minutes=90),
    Post(7, "本文", [Stamp("👍", 3, NOW)], {"標準化"}, Kind.POLICY),
    Point(4), object(),
    2**70,  # beyond orjson: Reflex's encoder writes it
    # What kyoso's states send: views built by the domain.
    briefing_room.BriefingQuestionView(1, "質問", "匿名の参加者", 2, False, "", 3),
    attachments.AttachmentView(1, "資料.pdf", "PDF", "2 KB", "pdf", True, 227, 320, "/files/1", "/files/1/preview"),
    Me(),
]


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ for v in VALUES])
def test_a_value_reads_back_as_reflexs_encoding_of_it(value: Any) -> None:
    packet = ["event", {"delta": {"state": {"var_rx_state_": value}}, "final": True}]
    assert json.loads(transport.wire_dumps(packet)) == json.loads(_sio_dumps(packet))


def test_a_registered_serializer_is_used_and_dataclasses_are_their_fields() -> None:
    assert json.loads(transport.wire_dumps([Point(4)])) == [{"x": 4, "from": "serializer"}]
    assert json.loads(transport.wire_dumps(Stamp("👍", 1, NOW))) == {
        "emoji": "👍", "count": 1, "at": str(NOW)}
    # Compact and not ASCII-escaped, as a browser's socket.io client reads it.
    assert transport.wire_dumps({"a": ["共創"]}) == '{"a":["共創"]}'
