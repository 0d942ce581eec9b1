"""The hub's rooms: topics of all groups, less the muted ones."""

from __future__ import annotations

import pytest

from kyoso.realtime.hub import NAMESPACE, Hub


class FakeSio:
    """socket.io's room books: the hub enters and leaves rooms through its manager."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}
        self.manager = self
        self.gone: set[str] = set()

    def is_connected(self, sid: str, namespace: str) -> bool:
        return sid not in self.gone

    def basic_enter_room(self, sid: str, namespace: str, room: str) -> None:
        assert namespace == NAMESPACE
        self.rooms.setdefault(sid, set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: str) -> None:
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


async def test_a_client_gone_while_its_page_loaded_joins_no_room(hub: tuple[Hub, FakeSio]) -> None:
    h, sio = hub
    await h.subscribe("s1", "page", ["channel:12"])
    sio.gone.add("s1")
    await h.subscribe("s1", "shell", ["user:7"])
    assert sio.rooms["s1"] == {"channel:12"}  # socket.io left its rooms when it went
    assert "s1" not in h._groups
