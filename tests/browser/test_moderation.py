"""運営 in the browser: a report reaches the queue and hides the post live;
custom stamps; channel settings; pinned お知らせ."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import DIGITAL, FUKUOKA, MODERATOR, NAHA, App, open_as, wait_hydrated

pytestmark = pytest.mark.browser


async def test_report_hide_live_and_custom_stamp(app: App, browser: Browser) -> None:
    author = await open_as(browser, app, FUKUOKA, "/c/zatsudan")
    reader = await open_as(browser, app, NAHA, "/c/zatsudan")
    mod = await open_as(browser, app, MODERATOR, "/admin")
    for page in (author, reader, mod):
        await wait_hydrated(page)
    text = f"宣伝です、こちらのサイトへ {uuid.uuid4().hex[:5]}"
    await author.get_by_test_id("composer-input").fill(text)
    await author.get_by_test_id("composer-send").click()
    msg = reader.get_by_test_id("message").filter(has_text=text)
    await msg.hover()
    await msg.get_by_test_id("message-menu").click()
    await reader.get_by_test_id("message-report").click()
    await reader.locator("select[name=category]").select_option("スパム・宣伝")
    await reader.get_by_test_id("report-submit").click()
    await expect(reader.get_by_text("通報を受け付けました")).to_be_visible()

    await mod.reload()
    await wait_hydrated(mod)
    await mod.get_by_test_id("admin-tab-reports").click()
    item = mod.get_by_test_id("report-item").filter(has_text=text[:10])
    await expect(item).to_contain_text("スパム・宣伝")
    await item.get_by_test_id("report-hide").click()
    # Hidden in the readers' browsers without reload.
    await expect(reader.get_by_test_id("message").filter(has_text=text)).to_have_count(0)
    await expect(author.get_by_test_id("message").filter(has_text=text)).to_have_count(0)

    # A custom text stamp added by 運営 is in everyone's palette.
    label = f"完全同意{uuid.uuid4().hex[:3]}"
    await mod.get_by_role("tab", name="スタンプ").click()
    await mod.get_by_test_id("stamp-custom-input").fill(label)
    await mod.get_by_test_id("stamp-custom-add").click()
    await expect(mod.get_by_text(f"スタンプ「{label}」を追加しました。")).to_be_visible()
    await reader.reload()
    await wait_hydrated(reader)
    first = reader.get_by_test_id("message").first
    await first.hover()
    await first.get_by_test_id("stamp-add").click()
    await expect(reader.locator(f"[data-testid=stamp-choice][data-stamp='{label}']")).to_be_visible()
    for page in (author, reader, mod):
        await page.context.close()


async def test_channel_settings_and_pinned_announcement(app: App, browser: Browser) -> None:
    mod = await open_as(browser, app, MODERATOR, "/c/gen-ai")
    reader = await open_as(browser, app, NAHA, "/c/gen-ai")
    await wait_hydrated(mod)
    await wait_hydrated(reader)
    await expect(reader.get_by_test_id("channel-edit")).to_have_count(0)
    await mod.get_by_test_id("channel-edit").click()
    name = f"生成AI活用（{uuid.uuid4().hex[:3]}）"
    await mod.locator("#ch-name").fill(name)
    await mod.get_by_test_id("channel-save").click()
    await expect(reader.get_by_role("heading", name=name)).to_be_visible()  # live

    national = await open_as(browser, app, DIGITAL, "/")
    await wait_hydrated(national)
    card = national.get_by_test_id("announcement").filter(has_text="ガバメントクラウド移行説明会（第3回）のご案内")
    await card.get_by_test_id("announcement-pin").click()
    await expect(card.get_by_test_id("announcement-pin")).to_have_text("ピン留めを外す")
    await reader.goto(app.url + "/c/gov-cloud")
    await wait_hydrated(reader)
    await expect(reader.get_by_test_id("pinned")).to_contain_text("説明会（第3回）のご案内")
    for page in (mod, reader, national):
        await page.context.close()
