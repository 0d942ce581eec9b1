"""kill -9 during a vote burst: every acknowledged vote and message survives,
and browsers reconnect to the truth. Runs its own app, since it kills it; the
file is named to run last, because that app rebuilds the shared .web/ build."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from kyoso.models import Ballot, BallotChoice, Channel, Message, Role, User
from kyoso.services import accounts, polls
from kyoso.services.security import hash_password
from tests.browser.conftest import App, new_context, start_app, stop_app, wait_hydrated
from tests.utils.reflex_client import ReflexClient

pytestmark = pytest.mark.browser
VOTERS = 40


def _people(app: App, n: int) -> tuple[list[tuple[int, str]], int]:
    with app.session() as s:
        h = hash_password("durable-password-1")
        people = []
        for i in range(n):
            u = User(email=f"durable{i}@city.example.lg.jp", name=f"耐久{i}", org_code="131016",
                     role=Role.member, status="active", password_hash=h)
            s.add(u)
            s.flush()
            people.append((u.id or 0, accounts.create_session(s, u)))
        author = s.exec(select(User).where(User.email == "sato.kenji@digital.go.jp")).one()
        channel = s.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        poll = polls.create_poll(s, author, channel.id or 0, polls.PollInput("耐久テスト", ["A", "B", "C"]))
        return people, poll.id or 0


async def test_kill_during_vote_burst_loses_no_acknowledged_write(
        browser: Browser, tmp_path: Path) -> None:
    from kyoso.states.channel import ChannelState
    from kyoso.states.polls import PollState

    app = start_app(tmp_path)
    try:
        people, poll_id = _people(app, VOTERS)
        # A real browser watches the poll across the crash.
        with app.session() as s:
            watcher_token = accounts.create_session(
                s, s.exec(select(User).where(User.email == "tanaka.yuki@city.sapporo.lg.jp")).one())
        ctx = await new_context(browser, token=watcher_token)
        page = await ctx.new_page()
        await page.goto(app.url + "/c/zatsudan")
        await wait_hydrated(page)
        total = page.locator(f"[data-testid=poll][data-poll-id='{poll_id}'] [data-testid=poll-total]")
        await expect(total).to_have_text("0人が回答")

        clients = [ReflexClient(app.url, session_token=t) for _, t in people]
        await asyncio.gather(*(c.connect("/c/zatsudan") for c in clients))
        acknowledged: dict[int, int] = {}
        posted: list[str] = []

        async def vote(i: int) -> None:
            uid, _ = people[i]
            choice = i % 3
            await clients[i].sio.emit("event", {
                "name": f"{PollState.get_full_name()}.choose", "payload": {"poll_id": poll_id, "index": choice},
                "router_data": clients[i].router_data()}, namespace="/_event")
            # Acknowledged: the client's own update shows its choice.
            if await clients[i].wait_for(
                    lambda c: (c.var(PollState, "my_votes") or {}).get(str(poll_id)) == [choice], 15):
                acknowledged[uid] = choice

        async def post(i: int) -> None:
            body = f"クラッシュ前の投稿 {i}"
            start = len(clients[i].updates)
            await clients[i].sio.emit("event", {
                "name": f"{ChannelState.get_full_name()}.post", "payload": {"form": {"body": body}},
                "router_data": clients[i].router_data()}, namespace="/_event")
            # Acknowledged: the composer is told to drop the sent text (kyosoSent),
            # which happens only after the commit.
            if await clients[i].wait_for(lambda c: any(
                    e.get("name") == "_call_script" and "kyosoSent" in str(e.get("payload"))
                    for u in c.updates[start:] for e in u.get("events", [])), 15):
                posted.append(body)

        first = [asyncio.create_task(vote(i)) for i in range(VOTERS // 2)]
        first += [asyncio.create_task(post(i)) for i in range(5)]
        await asyncio.gather(*first)
        # The second half is in flight when the server dies.
        second = [asyncio.create_task(vote(i)) for i in range(VOTERS // 2, VOTERS)]
        await asyncio.sleep(0.05)
        os.killpg(app.proc.pid, signal.SIGKILL)
        await asyncio.gather(*second, return_exceptions=True)
        app.proc.wait(timeout=10)
        for c in clients:
            try:
                await c.close()
            except Exception:  # noqa: BLE001 - the server is gone
                pass
        assert len(acknowledged) >= VOTERS // 2 and len(posted) == 5
        print(f"acknowledged votes: {len(acknowledged)} of {VOTERS}; messages: {len(posted)}")

        # Every acknowledged write is in the database.
        with app.session() as s:
            rows = s.exec(select(Ballot.user_id, BallotChoice.position)
                          .join(BallotChoice, BallotChoice.ballot_id == Ballot.id)  # type: ignore[arg-type]
                          .where(Ballot.poll_id == poll_id)).all()
            stored = dict(rows)
            bodies = set(s.exec(select(Message.body)).all())
        for uid, choice in acknowledged.items():
            assert stored.get(uid) == choice
        assert set(posted) <= bodies

        # Restart on the same port: the browser reconnects and shows the truth.
        restarted = start_app(tmp_path, port=app.port, db_url=app.db_url)
        app = restarted
        await expect(total).to_have_text(f"{len(stored)}人が回答", timeout=60000)
        await ctx.close()
    finally:
        stop_app(app)
