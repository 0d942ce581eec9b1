"""Two kyoso nodes behind nginx on one PostgreSQL and one Redis (the shape of
deploy/): a post from a browser on node A reaches a browser on node B, and
when a node is killed (kill -9) its browsers come back through the proxy to
the other node and show the truth within 10 s."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from bench.load.cluster import connected
from kyoso.models import Message, User
from kyoso.services import accounts
from tests.browser.conftest import FUKUOKA, NAHA, new_context, wait_hydrated
from tests.deploy.conftest import Cluster

pytestmark = pytest.mark.deploy
CHANNEL = "/c/gen-ai"
RECOVERY_SECONDS = 10
FAIL_TIMEOUT_SECONDS = 3  # deploy/nginx/kyoso.conf: max_fails=1 fail_timeout=3s


async def open_on(browser: Browser, cluster: Cluster, email: str) -> Page:
    with cluster.session() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        token = accounts.create_session(s, user)
    ctx = await new_context(browser, token=token)
    page = await ctx.new_page()
    await page.goto(cluster.url + CHANNEL)
    await wait_hydrated(page)
    return page


async def send(page: Page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    await box.fill(text)
    await page.get_by_test_id("composer-send").click()
    await expect(box).to_have_value("")


def message(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("message").filter(has_text=text)


async def wait_for_nodes(cluster: Cluster, want: list[int], timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    counts: list[int] = []
    while time.monotonic() < deadline:
        counts = [connected(n) for n in cluster.nodes if n.proc.poll() is None]
        if counts == want:
            return counts
        await asyncio.sleep(0.2)
    return counts


async def test_health_routes_through_the_proxy(cluster: Cluster) -> None:
    with urllib.request.urlopen(f"{cluster.url}/readyz", timeout=5) as r:
        body = json.loads(r.read())
    assert body == {"ok": True, "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}}
    # /metrics is for the nodes' own scrapers, never through the proxy...
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{cluster.url}/metrics", timeout=5)
    assert refused.value.code == 404
    # ...and a node refuses it to a client nginx forwarded (hops=1), even
    # one that claims to be loopback itself.
    node = cluster.nodes[0]
    req = urllib.request.Request(f"{node.url}/metrics", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.5"})
    with pytest.raises(urllib.error.HTTPError) as forged:
        urllib.request.urlopen(req, timeout=5)
    assert forged.value.code == 403


async def test_post_on_node_a_reaches_node_b_then_a_node_dies(cluster: Cluster, browser: Browser) -> None:
    # nginx's least_conn puts the second tab on the node without a socket.
    first = await open_on(browser, cluster, FUKUOKA)
    counts = await wait_for_nodes(cluster, [1, 0]) if connected(cluster.nodes[0]) else \
        await wait_for_nodes(cluster, [0, 1])
    assert sorted(counts) == [0, 1], counts
    a_node, b_node = cluster.nodes if counts[0] else reversed(cluster.nodes)
    second = await open_on(browser, cluster, NAHA)
    assert await wait_for_nodes(cluster, [1, 1]) == [1, 1], "one tab on each node"

    tag = uuid.uuid4().hex[:6]
    await send(first, f"ノードAから {tag}")
    await expect(message(second, f"ノードAから {tag}")).to_be_visible(timeout=5000)
    await send(second, f"ノードBから {tag}")
    await expect(message(first, f"ノードBから {tag}")).to_be_visible(timeout=5000)

    # A post acknowledged (shown to the other tab) just before node B dies.
    await send(second, f"落ちる直前 {tag}")
    await expect(message(first, f"落ちる直前 {tag}")).to_be_visible(timeout=5000)
    url_before = second.url
    killed_at = time.monotonic()
    b_node.kill()

    # The tab that was on node B reconnects through nginx to node A and is
    # live again: a post made after the kill reaches it, the acknowledged
    # one is still there, and it never left the page.
    await send(first, f"落ちた後 {tag}")
    await expect(message(second, f"落ちた後 {tag}")).to_be_visible(timeout=RECOVERY_SECONDS * 1000)
    recovered = time.monotonic() - killed_at
    await expect(message(second, f"落ちる直前 {tag}")).to_be_visible()
    assert second.url == url_before
    assert recovered <= RECOVERY_SECONDS, f"back after {recovered:.1f} s"
    # It can write again, through node A.
    await send(second, f"復帰後 {tag}")
    await expect(message(first, f"復帰後 {tag}")).to_be_visible(timeout=5000)
    assert await wait_for_nodes(cluster, [2]) == [2]
    with cluster.session() as s:
        bodies = set(s.exec(select(Message.body).where(Message.body.contains(tag))).all())  # type: ignore[attr-defined]
    assert {f"ノードAから {tag}", f"ノードBから {tag}", f"落ちる直前 {tag}", f"落ちた後 {tag}",
            f"復帰後 {tag}"} <= {b.strip() for b in bodies}
    print(f"node kill: the tab on the killed node was live again after {recovered:.1f} s")


async def test_sigterm_drains_a_node_and_its_tab_moves_on(cluster: Cluster, browser: Browser) -> None:
    """A node stopped for maintenance (systemctl stop: SIGTERM) closes its
    sockets; its tab reconnects to the other node without leaving the page."""
    down = next((n for n in cluster.nodes if n.proc.poll() is not None), None)
    if down is not None:  # the kill test left one node dead
        cluster.restart(down)
        await asyncio.sleep(FAIL_TIMEOUT_SECONDS + 0.5)  # nginx tries it again after this
    before = [connected(n) for n in cluster.nodes]
    watcher = await open_on(browser, cluster, FUKUOKA)
    mover = await open_on(browser, cluster, NAHA)
    after = [connected(n) for n in cluster.nodes]
    # Stop the node that holds the most new tabs (least_conn spreads them).
    gained = [a - b for a, b in zip(after, before)]
    node = cluster.nodes[gained.index(max(gained))]
    if down is not None:
        assert node.name == down.name, f"least_conn sends new tabs to the restarted node: {before} -> {after}"
    tag = uuid.uuid4().hex[:6]
    await send(mover, f"止める前 {tag}")
    await expect(message(watcher, f"止める前 {tag}")).to_be_visible(timeout=5000)
    url_before = mover.url

    started = time.monotonic()
    node.stop()  # SIGTERM, then wait for the process to exit
    stopped_in = time.monotonic() - started
    await send(watcher, f"止めた後 {tag}")
    for page in (watcher, mover):
        await expect(message(page, f"止めた後 {tag}")).to_be_visible(timeout=RECOVERY_SECONDS * 1000)
        await expect(message(page, f"止める前 {tag}")).to_be_visible()
    assert mover.url == url_before and watcher.url == url_before
    assert node.proc.returncode is not None
    assert stopped_in < 25, f"the node took {stopped_in:.1f} s to stop"
    print(f"SIGTERM: the node stopped in {stopped_in:.1f} s; its tabs moved on")
