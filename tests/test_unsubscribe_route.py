"""/unsubscribe?token= (kyoso/unsubscribe_route.py): GET shows a page with a
confirm button and changes nothing; POST (the button, or a mail program's
RFC 8058 one-click) turns off the one setting; a forged link changes nothing."""

from __future__ import annotations

import re

from sqlmodel import Session
from starlette.testclient import TestClient

from kyoso.models import MailSetting
from kyoso.services.mail import prefs
from kyoso.unsubscribe_route import mount_unsubscribe, unsubscribe_app
from tests.utils.factories import make_user


def _setting(session: Session, user_id: int) -> dict[str, bool]:
    session.expire_all()
    values = prefs.values(session, user_id)
    session.rollback()
    return values


def test_get_asks_and_post_turns_off_one_setting(session: Session) -> None:
    member = make_user(session)
    member_id = member.id or 0
    token = prefs.unsubscribe_token(prefs.link_secret(session), member_id, "reply")
    session.commit()
    client = TestClient(unsubscribe_app)

    page = client.get(f"/unsubscribe?token={token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "「スレッドへの返信」のメールを止めます" in page.text
    assert "<script" not in page.text and "http" not in page.text.replace("http-equiv", "")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action and action.group(1) == f"/unsubscribe?token={token}"
    assert session.get(MailSetting, member_id) is None  # GET changed nothing
    session.rollback()

    # What a mail program sends for List-Unsubscribe-Post.
    done = client.post(f"/unsubscribe?token={token}", content="List-Unsubscribe=One-Click",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "「スレッドへの返信」のメールは、今後お送りしません" in done.text
    values = _setting(session, member_id)
    assert values["reply"] is False and values["mention"] is True and values["announcement"] is True
    # Twice is harmless.
    assert client.post(f"/unsubscribe?token={token}").status_code == 200


def test_a_forged_link_changes_nothing(session: Session) -> None:
    member = make_user(session)
    member_id = member.id or 0
    token = prefs.unsubscribe_token(prefs.link_secret(session), member_id, "reply")
    session.commit()
    client = TestClient(unsubscribe_app)
    for bad in (token[:-2] + "00", f"{member_id}.mention.{token.split('.')[2]}", "<script>", ""):
        for answer in (client.get("/unsubscribe", params={"token": bad}),
                       client.post("/unsubscribe", params={"token": bad})):
            assert answer.status_code == 400
            assert "この配信停止のリンクは正しくありません" in answer.text
            assert "<script>" not in answer.text
    assert _setting(session, member_id) == prefs.DEFAULTS


def test_mounting_keeps_the_other_routes() -> None:
    class FakeApp:
        api_transformer: object = None

    app = FakeApp()
    mount_unsubscribe(app)
    assert app.api_transformer == [unsubscribe_app]
    other = object()
    app.api_transformer = other
    mount_unsubscribe(app)
    assert app.api_transformer == [other, unsubscribe_app]
