"""A Slack export imported into the running app's database, then read in the
browser: the thread with its replies, stamps with who pressed them, the
mention of a member, and the history counted as read."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from kyoso.db import get_engine
from kyoso.models import Channel, User
from kyoso.services.slack_import import Options, run_import
from tests.browser.conftest import NAHA, SAPPORO, App, open_as, wait_hydrated
from tests.browser.test_channels import message
from tests.services.slack_import.export import standard, write

pytestmark = pytest.mark.browser


async def test_imported_thread_stamps_and_mention(app: App, browser: Browser, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    data = standard()
    data["users.json"][0]["profile"]["email"] = SAPPORO  # U01 is 田中 (札幌市) of the demo
    data["users.json"][1]["profile"]["email"] = NAHA  # U02 is 比嘉 (那覇市)
    data["channels.json"][0]["name"] = f"slack-{tag}"
    data[f"slack-{tag}"] = data.pop("general")
    data["channels.json"][1].update(name=f"cloud-{tag}", is_archived=False)
    data[f"cloud-{tag}"] = data.pop("ガバメントクラウド")
    data["users.json"] = [{**u, "team_id": f"T{tag}"} for u in data["users.json"]]
    report = run_import(get_engine(app.db_url), str(write(tmp_path / "ws", data)), Options())
    assert report.warnings == [] and report.new_messages == 7
    with app.session() as s:
        naha = s.exec(select(User).where(User.email == NAHA)).one()
        slug = s.exec(select(Channel.slug).where(Channel.name == f"slack-{tag}")).one()
        cloud = s.exec(select(Channel.slug).where(Channel.name == f"cloud-{tag}")).one()

    page = await open_as(browser, app, SAPPORO, f"/c/{slug}")
    await wait_hydrated(page)
    parent = message(page, "ガバメントクラウドの回線費用について質問です").first
    await expect(parent).to_be_visible()
    # The mention is the member's (比嘉, matched by e-mail, by their kyoso name), as a post's mention is.
    mention = parent.locator(f"a.mention[data-user-id='{naha.id}'][href='/u/{naha.id}']")
    await expect(mention).to_have_text("@比嘉 真司")
    # Stamps with who pressed them: 比嘉 and the unclaimed 鈴木.
    thumbs = parent.locator("[data-testid=stamp][data-stamp='👍']")
    await expect(thumbs.get_by_test_id("stamp-count")).to_have_text("2")
    await expect(thumbs).to_have_attribute("aria-label", "👍 2人: 比嘉 真司、鈴木 一郎")
    await expect(parent.locator("[data-testid=stamp][data-stamp=':custom_kansha:']")).to_be_visible()
    # The thread: two replies, the edited one marked, the link kept.
    await parent.get_by_test_id("reply-count").click()
    panel = page.get_by_test_id("thread-panel")
    await expect(panel).to_contain_text("共同調達")
    await expect(panel).to_contain_text("（編集済み）")
    await expect(panel).to_contain_text("みなさんにも共有します <重要>")
    await expect(panel.locator("a[href^='https://www.digital.go.jp/']")).to_have_text("デジタル庁")
    # History counts as read: the other imported channel (not opened) is in the
    # sidebar without an unread badge.
    link = page.locator(f"[data-testid=channel-link][data-slug='{cloud}']")
    await expect(link).to_be_visible()
    await expect(link.get_by_test_id("unread-count")).to_have_count(0)
