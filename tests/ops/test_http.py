"""/healthz, /readyz and /metrics (kyoso/ops/http.py), on the test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from kyoso import db
from kyoso.ops import http, metrics
from kyoso.settings import get_settings


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    # TestClient's peer is "testclient": give it a real address.
    with TestClient(http.routes(), client=("127.0.0.1", 50000)) as c:
        yield c


def test_healthz_answers_without_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        with TestClient(http.routes()) as c:
            r = c.get("/healthz")
        assert r.status_code == 200 and r.json() == {"ok": True}
    finally:
        get_settings.cache_clear()


def test_readyz_ok_on_a_migrated_database(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_names_missing_migrations(client: TestClient, db_url: str) -> None:
    engine = db.get_engine(db_url)
    with engine.begin() as conn:
        head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001_old'"))
    try:
        r = client.get("/readyz")
    finally:  # PostgreSQL keeps alembic_version across tests
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert r.status_code == 503
    body = r.json()
    assert body["ok"] is False and body["checks"]["database"] == "ok"
    assert "kyoso db upgrade" in body["checks"]["migrations"]


def test_readyz_names_an_unreachable_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        with TestClient(http.routes()) as c:
            r = c.get("/readyz")
    finally:
        get_settings.cache_clear()
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("データベースに接続できません")


def test_readyz_checks_redis_when_set(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:1/0")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["redis"].startswith("Redis に接続できません")


def test_metrics_from_loopback(client: TestClient) -> None:
    metrics.observe_event("channel_state.post_message", 0.02, ok=True)
    metrics.count_emit("channel:12", 480)
    metrics.set_queue_depth("set_by_hand", 3)
    r = client.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert 'kyoso_events_total{handler="channel_state.post_message",outcome="ok"}' in text
    assert 'kyoso_event_seconds_bucket{handler="channel_state.post_message",le="0.025"}' in text
    assert 'kyoso_emit_recipients_total{topic="channel"}' in text
    assert 'kyoso_queue_depth{queue="set_by_hand"} 3.0' in text
    assert "kyoso_connected_clients" in text


def test_metrics_refused_elsewhere_and_through_a_forged_header(db_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(http.routes(), client=("198.51.100.7", 50000)) as c:
        assert c.get("/metrics").status_code == 403
    # A client on the network writes X-Forwarded-For: 127.0.0.1 itself; with
    # one trusted hop nginx appends its real peer, which is what counts.
    monkeypatch.setenv("KYOSO_TRUSTED_PROXY_HOPS", "1")
    get_settings.cache_clear()
    try:
        with TestClient(http.routes(), client=("127.0.0.1", 50000)) as c:
            forged = c.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1, 198.51.100.7"})
            assert forged.status_code == 403
            assert c.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    finally:
        get_settings.cache_clear()


def test_metrics_allow_setting(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_METRICS_ALLOW", "10.8.0.0/16")
    get_settings.cache_clear()
    try:
        with TestClient(http.routes(), client=("10.8.1.2", 50000)) as c:
            assert c.get("/metrics").status_code == 200
        with TestClient(http.routes(), client=("127.0.0.1", 50000)) as c:
            assert c.get("/metrics").status_code == 403
    finally:
        get_settings.cache_clear()


def test_tracked_queue_depth_and_pool_gauges(client: TestClient, db_url: str) -> None:
    depth = {"n": 4}

    def pending() -> int:
        if depth["n"] < 0:
            raise RuntimeError("database gone")
        return depth["n"]

    metrics.track_queue_depth("test_queue", pending)
    try:
        assert 'kyoso_queue_depth{queue="test_queue"} 4.0' in client.get("/metrics").text
        depth["n"] = -1  # a failing reader keeps the last value and the page
        r = client.get("/metrics")
    finally:
        metrics._trackers.pop("test_queue", None)
    assert r.status_code == 200 and 'kyoso_queue_depth{queue="test_queue"} 4.0' in r.text
    if db_url.startswith("postgresql"):  # SQLite has no connection pool to speak of
        assert 'kyoso_db_pool_connections{pool="others",state="size"} 5.0' in r.text


async def test_the_pool_of_handlers_reads_has_its_gauges(db_url: str) -> None:
    """On PostgreSQL a handler's reads have a pool of their own (asyncpg):
    its connections are counted too, once a handler has read."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has no connection pool to speak of")
    from sqlalchemy import text

    def read() -> None:
        with db.read_scope() as session:
            session.exec(text("select 1"))  # type: ignore[call-overload]

    await db.off_loop(read)
    metrics._refresh_pool()
    assert metrics.DB_POOL.labels("readers", "size")._value.get() == 10  # type: ignore[attr-defined]
    assert metrics.DB_POOL.labels("readers", "idle")._value.get() >= 1  # type: ignore[attr-defined]


async def test_the_event_socket_goes_straight_to_reflexs_socket_app() -> None:
    """``SocketFirst``: a websocket to /_event skips the Starlette apps
    mounted before it (with the request id the proxy gave), anything else
    goes through them."""
    from kyoso.ops import logsetup

    reached: list[tuple[str, str, str]] = []

    def app_named(name: str):  # type: ignore[no-untyped-def]
        async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            reached.append((name, scope["path"], logsetup.request_id.get()))
        return app

    first = http.SocketFirst(app_named("routes"), app_named("socket"), "/_event")
    for kind, path in [("websocket", "/_event/?EIO=4&transport=websocket"), ("websocket", "/_event"),
                       ("http", "/_event/"), ("websocket", "/_eventually"), ("http", "/healthz")]:
        scope = {"type": kind, "path": path.split("?")[0], "headers": [(b"x-request-id", b"rid-1")]}
        await first(scope, None, None)  # type: ignore[arg-type]
    assert reached == [("socket", "/_event/", "rid-1"), ("socket", "/_event", "rid-1"),
                       ("routes", "/_event/", ""), ("routes", "/_eventually", ""), ("routes", "/healthz", "")]


def test_kyosos_app_puts_the_event_socket_before_reflexs_top_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the server runs is ``SocketFirst`` around Reflex's top app, with
    the socket app Reflex mounted (a Reflex change that moved it would fail
    here, not silently fall back) and Reflex's contexts set for it."""
    import reflex as rx

    import kyoso.kyoso as kyoso_app

    def top(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        pass

    monkeypatch.setattr(rx.App, "__call__", lambda self: top)  # Reflex's: compiles and builds it
    served = kyoso_app.app()
    assert isinstance(served, http.SocketFirst) and served.path == "/_event"
    assert served.app is top and served.reflex_app is kyoso_app.app
    assert type(served.socket_app).__name__ == "HeaderMiddleware"


async def test_the_event_socket_runs_with_reflexs_contexts() -> None:
    class Reflex:
        contexts = 0

        def _set_contexts_internal(self) -> None:
            self.contexts += 1

    reflex, reached = Reflex(), []

    async def socket(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        reached.append(reflex.contexts)

    first = http.SocketFirst(socket, socket, "/_event", reflex)
    await first({"type": "websocket", "path": "/_event/", "headers": []}, None, None)  # type: ignore[arg-type]
    await first({"type": "http", "path": "/healthz", "headers": []}, None, None)  # type: ignore[arg-type]
    assert reached == [1, 1]  # set for the socket; HTTP gets Reflex's own middleware
