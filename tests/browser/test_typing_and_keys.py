"""What someone types is never lost, and the keyboard works (issue 18, items 4
and 5); a reader scrolled up keeps their place while posts arrive (issue 21)."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from kyoso.models import User
from kyoso.services import accounts, channels, messages
from kyoso.states.channel import ChannelState
from tests.browser.conftest import FUKUOKA, NAHA, SAPPORO, App, open_as, shot_path, wait_hydrated
from tests.utils.reflex_client import ReflexClient

pytestmark = pytest.mark.browser


async def test_text_typed_right_after_send_stays_and_drafts_survive_a_reload(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, SAPPORO, "/c/zatsudan")
    await wait_hydrated(page)
    box = page.get_by_test_id("composer-input")
    first = f"一通目 {uuid.uuid4().hex[:6]}"
    await box.fill(first)
    await box.press("Control+Enter")
    # Typed at once, before the server has answered the send.
    await box.press("End")
    await page.keyboard.type("二通目の書きかけ")
    await expect(page.get_by_test_id("message").filter(has_text=first)).to_have_count(1)
    await expect(box).to_have_value("二通目の書きかけ")
    # The draft survives a reload of the page.
    await page.reload()
    await wait_hydrated(page)
    await expect(page.get_by_test_id("composer-input")).to_have_value("二通目の書きかけ")
    await page.context.close()


async def test_ctrl_k_switcher_esc_and_help(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, SAPPORO, "/c/zatsudan")
    await wait_hydrated(page)
    await page.keyboard.press("Control+k")
    switcher = page.get_by_test_id("channel-switcher")
    await expect(switcher).to_be_visible()
    await page.keyboard.type("お知らせ")
    await page.screenshot(path=shot_path("channel-switcher"))
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{app.url}/c/oshirase")
    await expect(switcher).to_have_count(0)
    # Esc closes a thread.
    await page.goto(f"{app.url}/c/hyojunka")
    await wait_hydrated(page)
    await page.get_by_test_id("message").first.get_by_test_id("reply-count").click()
    await expect(page.get_by_test_id("thread-panel")).to_be_visible()
    await page.locator("main").click(position={"x": 5, "y": 5})
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("thread-panel")).to_have_count(0)
    # ? lists the keys.
    await page.keyboard.press("?")
    await expect(page.get_by_test_id("help-dialog")).to_contain_text("Ctrl+K")
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("help-dialog")).to_have_count(0)
    await page.context.close()


async def test_arrow_up_edits_my_last_post(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, NAHA, "/c/zatsudan")
    await wait_hydrated(page)
    box = page.get_by_test_id("composer-input")
    text = f"直したい投稿 {uuid.uuid4().hex[:6]}"
    await box.fill(text)
    await page.get_by_test_id("composer-send").click()
    await expect(box).to_have_value("")
    await box.focus()
    await page.keyboard.press("ArrowUp")
    edit = page.get_by_test_id("edit-input")
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value(text)
    await page.context.close()


async def test_reader_scrolled_up_keeps_place_and_sees_the_new_posts_pill(app: App, browser: Browser) -> None:
    slug = f"pill-{uuid.uuid4().hex[:6]}"
    with app.session() as s:
        channel = channels.create_channel_unchecked(s, slug=slug, name="新着ピル試験")
        earlier = s.exec(select(User).where(User.email == NAHA)).one()
        reader = s.exec(select(User).where(User.email == SAPPORO)).one()
        # Posts arrive live from someone who has not just written 40 (the rate limit).
        writer = s.exec(select(User).where(User.email == FUKUOKA)).one()
        for user in (earlier, reader, writer):
            channels.join(s, user, channel.id or 0)
        for i in range(40):
            messages.post_message(s, earlier, channel.id or 0, f"これまでの投稿 {i}\n二行目\n三行目",
                                  rate_limited=False)
        s.commit()
        token = accounts.create_session(s, writer)
    for width, height in ((1280, 800), (390, 844)):
        page = await open_as(browser, app, SAPPORO, f"/c/{slug}", width=width, height=height)
        await wait_hydrated(page)
        lst = page.get_by_test_id("message-list")
        await expect(page.get_by_test_id("message").filter(has_text="これまでの投稿 39")).to_be_visible()
        # Scroll up a little to read an older post (not so far that history loads).
        await lst.evaluate("el => { el.scrollTop = el.scrollHeight - el.clientHeight - 400; }")
        await page.wait_for_timeout(300)
        before = await lst.evaluate("el => el.scrollTop")
        writer_client = ReflexClient(app.url, session_token=token)
        await writer_client.connect(f"/c/{slug}")
        for i in range(3):
            await writer_client.fire(f"{ChannelState.get_full_name()}.post", {"form": {"body": f"届いた投稿 {width}-{i}"}})
        await writer_client.close()
        pill = page.get_by_test_id("new-posts-pill")
        await expect(pill).to_have_text("新しい投稿 3件")
        assert abs(await lst.evaluate("el => el.scrollTop") - before) < 2
        await page.screenshot(path=shot_path(f"new-posts-pill-{width}"))
        await pill.click()
        await expect(pill).to_be_hidden()
        await expect(page.get_by_test_id("message").filter(has_text=f"届いた投稿 {width}-2")).to_be_in_viewport()
        await page.context.close()


async def test_stamp_palette_search_finds_words_and_emoji(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, SAPPORO, "/c/hyojunka")
    await wait_hydrated(page)
    first = page.get_by_test_id("message").first
    await first.hover()
    await first.get_by_test_id("stamp-add").click()
    await page.get_by_test_id("stamp-search").fill("ありがとう")
    choices = page.locator("[data-testid=stamp-choice]:visible")
    await expect(choices).to_have_count(2)
    assert sorted(await choices.evaluate_all("els => els.map(e => e.getAttribute('data-stamp'))")) == [
        "ありがとうございます", "🙏"]
    await page.context.close()
