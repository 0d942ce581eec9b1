"""The websocket message cap (kyoso/ops/worker.py, KYOSO_WS_MAX_BYTES): every
legitimate event, built at the domain's limits, fits comfortably; a 400 KB
event is refused from its frame header, and the server goes on serving."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import engineio
import pytest
import socketio

from kyoso.ops import worker
from kyoso.services import messages, polls, surveys
from kyoso.settings import get_settings
from tests.utils.net import serving_asgi

ROOT = Path(__file__).resolve().parents[2]
NS = "/_event"
CAP = get_settings().ws_max_bytes
KANA = "あ"  # 3 bytes in UTF-8, as the browser sends Japanese (JSON.stringify keeps it raw)


def frame(name: str, payload: dict[str, Any]) -> bytes:
    """The websocket text frame a browser sends for one Reflex event."""
    event = {"name": f"reflex___state____state.kyoso___states___{name}", "payload": payload,
             "router_data": {"pathname": "/surveys/[id]", "query": {"id": "123456"}, "asPath": "/surveys/123456"}}
    return f'42{NS},{json.dumps(["event", event], ensure_ascii=False, separators=(",", ":"))}'.encode()


def largest_events() -> dict[str, bytes]:
    """The largest event of each big form, every field at its domain limit."""
    n = surveys.MAX_QUESTIONS
    survey_form: dict[str, Any] = {"title": KANA * 200, "description": KANA * 4000, "deadline": "2026-12-31T17:00",
                                   "anonymous": True}
    for i in range(n):
        survey_form |= {f"q{i}_kind": "multiple", f"q{i}_prompt": KANA * 300, f"q{i}_optional": True,
                        f"q{i}_choices": "\n".join([KANA * 100] * 20)}
    return {
        "survey answers": frame("surveys____survey_state.submit",
                                {"form": {f"q{900_000 + i}": KANA * surveys.MAX_ANSWER for i in range(n)}}),
        "survey form": frame("surveys____survey_form_state.create", {"form": survey_form}),
        "post": frame("channel____channel_state.post", {"form": {"body": KANA * messages.MAX_BODY}}),
        "announcement": frame("home____home_state.publish",
                              {"form": {"title": KANA * 120, "body": KANA * 6000, "category": "policy",
                                        "importance": "high", **{f"ch_{i}": True for i in range(50)}}}),
        "poll": frame("polls____poll_state.create",
                      {"form": {"question": KANA * 300,
                                **{f"option_{i}": KANA * 100 for i in range(polls.MAX_OPTIONS)}}}),
    }


def test_every_legitimate_event_fits_well_under_the_cap() -> None:
    sizes = {what: len(data) for what, data in largest_events().items()}
    assert max(sizes.values()) > 150_000  # the survey form really is the big one
    for what, size in sizes.items():
        assert size < 0.75 * CAP, f"{what}: {size:,} bytes, too close to the {CAP:,}-byte cap"
    assert 400_000 > CAP  # the attack the cap is for: 400 KB drafts before login


def test_production_servers_use_the_capped_worker() -> None:
    assert worker.UvicornWorker.CONFIG_KWARGS["ws_max_size"] == CAP
    unit = (ROOT / "deploy" / "systemd" / "kyoso.service").read_text()
    assert "--worker-class kyoso.ops.worker.UvicornWorker" in unit
    assert "--worker-class kyoso.ops.worker.UvicornWorker" in (ROOT / "rxconfig.py").read_text()


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[tuple[list[int], str]]:
    """A socket.io server on uvicorn configured as the worker configures it;
    it records the size of every event it receives."""
    sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"], allow_upgrades=False,
                               async_handlers=False, max_http_buffer_size=CAP)
    got: list[int] = []

    @sio.on("event", namespace=NS)
    async def event(sid: str, data: Any) -> None:
        got.append(len(json.dumps(data, ensure_ascii=False).encode()))
        await sio.emit("event", {"ok": len(got)}, to=sid, namespace=NS)

    async with serving_asgi(socketio.ASGIApp(sio, socketio_path="_event"), **worker.config_kwargs()) as url:
        yield got, url


class BrowserJson:
    """JSON as a browser writes it: Japanese raw in UTF-8 (python-socketio
    would escape it to six bytes a character)."""

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, **kwargs)


async def _client(url: str) -> tuple[socketio.AsyncClient, list[Any], asyncio.Event]:
    replies: list[Any] = []
    gone = asyncio.Event()
    client = socketio.AsyncClient(reconnection=False, json=BrowserJson)
    client.on("event", replies.append, namespace=NS)
    client.on("disconnect", gone.set, namespace=NS)
    await client.connect(url, namespaces=[NS], transports=["websocket"], socketio_path="_event")
    return client, replies, gone


async def _until(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)


@pytest.fixture
def browser_json() -> Any:
    """python-socketio keeps its JSON module on the packet classes, for the
    whole process: put the usual one back afterwards."""
    saved = socketio.packet.Packet.json, engineio.packet.Packet.json
    yield
    socketio.packet.Packet.json, engineio.packet.Packet.json = saved


async def test_the_largest_event_is_served_and_a_400_kb_one_refused_without_harm(browser_json: Any) -> None:
    form = json.loads(largest_events()["survey form"].decode().split(",", 1)[1])[1]
    async with serving() as (got, url):
        client, replies, gone = await _client(url)
        await client.emit("event", form, namespace=NS)
        await _until(lambda: replies)
        assert replies == [{"ok": 1}] and got[0] > 150_000

        await client.emit("event", {"name": "x.draft_changed", "payload": {"text": KANA * 133_334}}, namespace=NS)
        await asyncio.wait_for(gone.wait(), 10)  # the server closed this socket
        assert len(got) == 1  # and never handled the event
        await client.disconnect()

        other, other_replies, _ = await _client(url)  # the server still serves
        try:
            await other.emit("event", form, namespace=NS)
            await _until(lambda: other_replies)
            assert other_replies == [{"ok": 2}]
        finally:
            await other.disconnect()
