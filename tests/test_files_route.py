"""/files/{id}: the member from the cookie, the rules per request, headers
that keep a file from running anything."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from kyoso.files_route import COOKIE, files_app, mount_files
from kyoso.models import Role
from kyoso.services import accounts, attachments, messages
from kyoso.settings import get_settings
from tests.utils.factories import make_channel, make_user
from tests.utils.files import make_image, make_pdf


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> TestClient:
    monkeypatch.setenv("KYOSO_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    inner = Starlette(routes=[Route("/{rest:path}", lambda r: PlainTextResponse("reflex"))])
    return TestClient(files_app(inner))


def _post_file(session: Session, user, data: bytes, name: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    scratch = tmp_path / f"s{len(list(tmp_path.iterdir()))}"
    scratch.mkdir()
    view = attachments.add_upload(session, user, attachments.prepare(io.BytesIO(data), name, scratch))
    message = messages.post_message(session, user, make_channel(session).id, "資料", file_ids=[view.id])
    session.commit()
    return view, message


def test_a_download_is_an_attachment_that_cannot_run(client: TestClient, session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    data = make_pdf(["説明会資料"])
    view, _ = _post_file(session, user, data, "説明会資料（第1回）.pdf", tmp_path)
    token = accounts.create_session(session, user)
    session.commit()
    r = client.get(view.url, cookies={COOKIE: token})
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "default-src 'none'; sandbox"
    disp = r.headers["content-disposition"]
    assert disp.startswith("attachment;") and quote("説明会資料（第1回）.pdf", safe="") in disp
    again = client.get(view.url, cookies={COOKIE: token}, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_a_preview_is_inline_and_only_a_png(client: TestClient, session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    view, _ = _post_file(session, user, make_image("JPEG", (400, 300)), "写真.jpg", tmp_path)
    token = accounts.create_session(session, user)
    session.commit()
    r = client.get(view.preview_url, cookies={COOKIE: token})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline;")
    assert r.headers["content-security-policy"] == "default-src 'none'; sandbox"
    full = client.get(view.url, cookies={COOKIE: token})
    assert full.headers["content-disposition"].startswith("attachment;")


def test_no_cookie_no_file_and_hidden_means_gone(client: TestClient, session: Session, tmp_path: Path) -> None:
    author, reader = make_user(session), make_user(session)
    mod = make_user(session, role=Role.moderator)
    view, message = _post_file(session, author, make_pdf(["x"]), "x.pdf", tmp_path)
    token = accounts.create_session(session, reader)
    session.commit()
    assert client.get(view.url).status_code == 401
    assert client.get(view.url, cookies={COOKIE: "forged"}).status_code == 401
    assert client.get(view.url, cookies={COOKIE: token}).status_code == 200
    messages.hide_message(session, mod, message.id)
    session.commit()
    r = client.get(view.url, cookies={COOKIE: token})
    assert r.status_code == 404 and "見つかりません" in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/files/999999", cookies={COOKIE: token}).status_code == 404
    assert client.get("/c/general").text == "reflex"  # everything else goes to Reflex


def test_mount_keeps_other_transformers() -> None:
    class FakeApp:
        api_transformer = None

    app = FakeApp()
    mount_files(app)
    assert app.api_transformer == [files_app]
    other = object()
    app.api_transformer = other  # type: ignore[assignment]
    mount_files(app)
    assert app.api_transformer == [other, files_app]
