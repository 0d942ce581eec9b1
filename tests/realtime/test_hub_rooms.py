"""The hub's rooms: topics of all groups, less the muted ones."""

from __future__ import annotations

import pytest

from kyoso.realtime.hub import NAMESPACE, Hub


class FakeSio:
    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}

    async def enter_room(self, sid: str, room: str, namespace: str) -> None:
        assert namespace == NAMESPACE
        self.rooms.setdefault(sid, set()).add(room)

    async def leave_room(self, sid: str, room: str, namespace: str) -> None:
        self.rooms.setdefault(sid, set()).discard(room)


@pytest.fixture
def hub() -> tuple[Hub, FakeSio]:
    h = Hub()
    sio = FakeSio()
    h.attach(sio)
    return h, sio


async def test_a_reader_of_a_channel_is_not_in_its_unread_room(hub: tuple[Hub, FakeSio]) -> None:
    h, sio = hub
    await h.subscribe("s1", "page", ["channel:12"])
    await h.subscribe("s1", "shell", ["user:7", "unread:12", "unread:13"])
    assert sio.rooms["s1"] == {"channel:12", "user:7", "unread:13"}


async def test_leaving_the_channel_page_brings_its_unread_room_back(hub: tuple[Hub, FakeSio]) -> None:
    h, sio = hub
    await h.subscribe("s1", "shell", ["user:7", "unread:12", "unread:13"])
    await h.subscribe("s1", "page", ["channel:12"])
    assert sio.rooms["s1"] == {"channel:12", "user:7", "unread:13"}
    await h.subscribe("s1", "page", ["channel:13"])
    assert sio.rooms["s1"] == {"channel:13", "user:7", "unread:12"}
    await h.subscribe("s1", "page", [])
    assert sio.rooms["s1"] == {"user:7", "unread:12", "unread:13"}


async def test_a_topic_held_by_two_groups_stays_until_both_drop_it(hub: tuple[Hub, FakeSio]) -> None:
    h, sio = hub
    await h.subscribe("s1", "page", ["user:7"])
    await h.subscribe("s1", "shell", ["user:7"])
    await h.subscribe("s1", "page", [])
    assert sio.rooms["s1"] == {"user:7"}
    await h.subscribe("s1", "shell", [])
    assert sio.rooms["s1"] == set()
