"""Channels in two browsers: everything one member does appears in the other's
browser without a reload, and a reload shows the same."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import (
    FUKUOKA,
    NAHA,
    SAPPORO,
    App,
    open_as,
    shot_path,
    wait_hydrated,
)
from tests.services.test_markup import XSS

pytestmark = pytest.mark.browser


def message(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("message").filter(has_text=text)


async def send(page: Page, text: str, *, thread: bool = False) -> None:
    box = page.get_by_test_id("thread-input" if thread else "composer-input")
    await box.fill(text)
    await page.get_by_test_id("thread-send" if thread else "composer-send").click()
    await expect(box).to_have_value("")


async def test_live_post_reply_edit_delete_stamp(app: App, browser: Browser) -> None:
    # 吉田 (福岡市) and 比嘉 (那覇市) both read #gen-ai.
    a = await open_as(browser, app, FUKUOKA, "/c/gen-ai")
    b = await open_as(browser, app, NAHA, "/c/gen-ai")
    await wait_hydrated(a)
    await wait_hydrated(b)
    tag = uuid.uuid4().hex[:6]

    # Post.
    text = f"生成AIの議事録要約、どう運用していますか？ {tag}"
    await send(a, text)
    await expect(message(b, text)).to_be_visible()
    await expect(message(b, text)).to_contain_text("福岡県福岡市")

    # Reply in the thread panel: B opens the thread, A replies in it too.
    await message(b, text).hover()
    await message(b, text).get_by_test_id("reply-open").click()
    await expect(b.get_by_test_id("thread-panel")).to_be_visible()
    await send(b, f"那覇市では要約後に担当者が必ず確認しています {tag}", thread=True)
    await expect(message(a, text).get_by_test_id("reply-count")).to_contain_text("1件の返信")
    await message(a, text).get_by_test_id("reply-count").click()
    await expect(a.get_by_test_id("thread-panel")).to_contain_text("那覇市では要約後に")
    await send(a, f"ありがとうございます。参考にします {tag}", thread=True)
    await expect(b.get_by_test_id("thread-panel")).to_contain_text("参考にします")

    # Stamp and unstamp.
    await message(a, text).first.hover()
    await message(a, text).first.get_by_test_id("stamp-add").click()
    await a.locator("[data-testid=stamp-choice][data-stamp='参考になります']").click()
    stamp_b = message(b, text).first.locator("[data-testid=stamp][data-stamp='参考になります']")
    await expect(stamp_b.get_by_test_id("stamp-count")).to_have_text("1")
    await stamp_b.click()  # B adds the same stamp by clicking it
    stamp_a = message(a, text).first.locator("[data-testid=stamp][data-stamp='参考になります']")
    await expect(stamp_a.get_by_test_id("stamp-count")).to_have_text("2")
    await expect(stamp_b).to_have_attribute("data-mine", "true")
    await expect(stamp_a).to_have_attribute("data-mine", "true")  # each browser its own
    await b.screenshot(path=shot_path("stamp-mine-b"))
    await stamp_b.click()  # and takes it back
    await expect(stamp_a.get_by_test_id("stamp-count")).to_have_text("1")
    await expect(stamp_a).to_have_attribute("data-mine", "true")

    # Edit.
    main_a = a.get_by_test_id("message-list")
    await message(main_a, text).hover()
    await message(main_a, text).get_by_test_id("message-menu").click()
    await a.get_by_test_id("message-edit").click()
    edited = f"生成AIの議事録要約、どう運用していますか？（庁内利用の範囲で） {tag}"
    await a.get_by_test_id("edit-input").fill(edited)
    await a.get_by_test_id("edit-save").click()
    main_b = b.get_by_test_id("message-list")
    await expect(message(main_b, "庁内利用の範囲で")).to_contain_text("（編集済み）")

    # Delete: the parent has replies, so a placeholder stays in both browsers.
    await message(main_a, edited).hover()
    await message(main_a, edited).get_by_test_id("message-menu").click()
    await a.get_by_test_id("message-delete").click()
    await expect(main_b.get_by_text("このメッセージは削除されました")).to_be_visible()
    await expect(main_b.get_by_text(edited)).to_have_count(0)
    await b.screenshot(path=shot_path("channel-live-b"))

    # A reload shows the same.
    await b.reload()
    await wait_hydrated(b)
    await expect(b.get_by_test_id("message-list").get_by_text("このメッセージは削除されました")).to_be_visible()
    await expect(b.get_by_test_id("message-list").get_by_text(edited)).to_have_count(0)
    await a.context.close()
    await b.context.close()


async def test_lurker_reads_without_joining_and_unread_marks(app: App, browser: Browser) -> None:
    # 田中 (札幌市) is not a member of #gen-ai: they can read it, and join.
    lurker = await open_as(browser, app, SAPPORO, "/c/gen-ai")
    await wait_hydrated(lurker)
    await expect(lurker.get_by_test_id("channel-join")).to_be_visible()
    await expect(lurker.get_by_test_id("message").first).to_be_visible()
    await expect(lurker.locator("[data-testid=channel-link][data-slug='gen-ai']")).to_have_count(0)
    await lurker.get_by_test_id("channel-join").click()
    await expect(lurker.locator("[data-testid=channel-link][data-slug='gen-ai']")).to_be_visible()

    # While 田中 is elsewhere, a new thread in #gen-ai shows as unread, live.
    await lurker.goto(app.url + "/channels")
    await wait_hydrated(lurker)
    author = await open_as(browser, app, FUKUOKA, "/c/gen-ai")
    await wait_hydrated(author)
    await send(author, f"新しい話題です {uuid.uuid4().hex[:6]}")
    link = lurker.locator("[data-testid=channel-link][data-slug='gen-ai']")
    await expect(link.get_by_test_id("unread-count")).to_have_text("1")
    await link.click()
    await expect(lurker.get_by_test_id("unread-divider")).to_be_visible()
    await expect(link.get_by_test_id("unread-count")).to_have_count(0)
    await lurker.get_by_test_id("channel-leave").click()
    await expect(lurker.locator("[data-testid=channel-link][data-slug='gen-ai']")).to_have_count(0)
    await lurker.context.close()
    await author.context.close()


async def test_xss_payloads_are_inert_in_the_browser(app: App, browser: Browser) -> None:
    a = await open_as(browser, app, NAHA, "/c/zatsudan")
    b = await open_as(browser, app, SAPPORO, "/c/zatsudan")
    for page in (a, b):
        await page.add_init_script("window.__xss = 0; window.alert = () => { window.__xss++; };")
        await page.reload()
        await wait_hydrated(page)
    tag = uuid.uuid4().hex[:6]
    for i, payload in enumerate(XSS):
        await send(a, f"{payload} xss-{tag}-{i}")
    last = f"xss-{tag}-{len(XSS) - 1}"
    await expect(b.get_by_test_id("message-list").get_by_text(last, exact=False)).to_be_visible()
    for page in (a, b):
        await page.reload()
        await wait_hydrated(page)
        await page.wait_for_timeout(500)
        # Hover every link and click nothing dangerous: no handler ran, no
        # element that could run one exists in a message body.
        assert await page.evaluate("window.__xss") == 0
        dangerous = await page.evaluate(
            """() => [...document.querySelectorAll('[data-testid=message-body] .rx-Html *')]
                 .filter(el => ['SCRIPT','IMG','SVG','IFRAME','STYLE','MATH','DETAILS','DIV']
                                .includes(el.tagName.toUpperCase())
                          || [...el.attributes].some(a => a.name.startsWith('on'))
                          || (el.tagName === 'A' && !/^(https?:|mailto:)/.test(el.getAttribute('href') || '')))
                 .map(el => el.outerHTML)""")
        assert dangerous == []
        bodies = await page.evaluate(
            "document.querySelectorAll('[data-testid=message-body] .rx-Html').length")
        assert bodies >= len(XSS)
    await a.context.close()
    await b.context.close()


async def test_phone_width_channel_and_thread(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, SAPPORO, "/c/hyojunka", width=390, height=800)
    await wait_hydrated(page)
    first = page.get_by_test_id("message").first
    await first.get_by_test_id("reply-count").click()
    panel = page.get_by_test_id("thread-panel")
    await expect(panel).to_be_visible()
    box = await panel.bounding_box()
    assert box and box["width"] >= 380
    await page.screenshot(path=shot_path("thread-phone"))
    await page.get_by_test_id("thread-close").click()
    await expect(panel).to_have_count(0)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.context.close()
