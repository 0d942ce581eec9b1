"""Attaching in a composer: the upload handler, the refusal message, and the
post that takes the pending files with it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import reflex as rx
from sqlmodel import Session, select

from kyoso.models import Attachment
from kyoso.settings import get_settings
from kyoso.states.attachments import AttachmentState
from kyoso.states.channel import ChannelState
from tests.utils.factories import make_channel, make_user
from tests.utils.files import make_image, make_pdf


@pytest.fixture(autouse=True)
def _files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYOSO_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()


def _file(data: bytes, name: str) -> rx.UploadFile:
    return rx.UploadFile(file=io.BytesIO(data), path=Path(name), size=len(data))  # type: ignore[call-arg]


async def test_upload_then_post_attaches_the_files(session: Session, states, token_of, published) -> None:
    member = make_user(session)
    make_channel(session, slug="general")
    token = token_of(member)
    page = states(ChannelState, token, "/c/[slug]", sid="sid-attachments", slug="general")
    await page.open_channel()
    files = await page.get_state(AttachmentState)
    await files.upload([_file(make_pdf(["議事録"]), "議事録.pdf"), _file(make_image(), "画面.png")], "composer")
    assert files.attach_error == ""
    assert [p.name for p in files.pending] == ["議事録.pdf", "画面.png"]
    assert files.pending[1].preview_url.endswith("/preview")
    await files.upload([_file(b"<html><script>x</script></html>", "x.pdf")], "thread")
    assert "HTML" in files.attach_error and files.error_slot == "thread"
    await files.remove(files.pending[1].id)
    await page.post({"body": "資料を共有します"})
    assert page.error == ""
    assert files.pending == []
    session.expire_all()
    rows = session.exec(select(Attachment)).all()
    assert len(rows) == 1 and rows[0].message_id is not None and rows[0].name == "議事録.pdf"
    await page.open_channel()
    assert [f.name for f in page.messages[-1].attachments] == ["議事録.pdf"]
    session.rollback()
