"""What someone types is never lost, and the keyboard works (issue 18, items 4
and 5); a reader keeps their place and focus while 50 posts arrive below or
load above (issue 21)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from kyoso.models import User
from kyoso.services import accounts, channels, messages
from kyoso.states.channel import ChannelState
from tests.browser.conftest import NAHA, SAPPORO, App, open_as, shot_path, wait_hydrated
from tests.utils.factories import make_user
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


# The first message at least partly on screen in a list, and where its top is
# on the screen (px).
FIRST_SHOWN = """el => {
  const top = el.getBoundingClientRect().top;
  for (const m of el.querySelectorAll("[data-testid=message]")) {
    const r = m.getBoundingClientRect();
    if (r.bottom > top + 1) return {id: m.getAttribute("data-message-id"), top: r.top};
  }
  return null;
}"""

# Where a message's top is on the screen now (px).
TOP_OF = """(el, id) => {
  const m = el.querySelector(`[data-message-id="${id}"]`);
  return m ? m.getBoundingClientRect().top : null;
}"""

# Scroll events and layout happen before the second frame after now.
NEXT_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

INSERTS = 50


def _channel_with_posts(app: App, slug: str, count: int, writers: int) -> list[str]:
    """A channel with ``count`` posts by NAHA, SAPPORO in it, and the tokens of
    ``writers`` more members (each may post 30 a minute: the rate limit)."""
    with app.session() as s:
        channel = channels.create_channel_unchecked(s, slug=slug, name="新着ピル試験")
        cid = channel.id or 0
        earlier = s.exec(select(User).where(User.email == NAHA)).one()
        reader = s.exec(select(User).where(User.email == SAPPORO)).one()
        people = [make_user(s) for _ in range(writers)]
        for user in (earlier, reader, *people):
            channels.join(s, user, cid)
        for i in range(count):
            messages.post_message(s, earlier, cid, f"これまでの投稿 {i}\n二行目\n三行目", rate_limited=False)
        s.commit()
        return [accounts.create_session(s, p) for p in people]


async def test_reader_scrolled_up_keeps_place_focus_and_sees_the_new_posts_pill(app: App, browser: Browser) -> None:
    for width, height in ((1280, 800), (390, 844)):
        slug = f"pill-{uuid.uuid4().hex[:6]}"
        tokens = _channel_with_posts(app, slug, 40, writers=5)
        page = await open_as(browser, app, SAPPORO, f"/c/{slug}", width=width, height=height)
        await wait_hydrated(page)
        lst = page.get_by_test_id("message-list")
        await expect(page.get_by_test_id("message").filter(has_text="これまでの投稿 39")).to_be_visible()
        # The reader is writing something...
        box = page.get_by_test_id("composer-input")
        await box.fill("読みながら書きかけの返事")
        await box.focus()
        # ...and scrolls up a little to read an older post (not so far that history loads).
        await lst.evaluate("el => { el.scrollTop = el.scrollHeight - el.clientHeight - 400; }")
        await lst.evaluate(NEXT_FRAMES)  # the list has heard its scroll event
        shown = await lst.evaluate(FIRST_SHOWN)
        assert shown is not None
        writers = [ReflexClient(app.url, session_token=t) for t in tokens]
        await asyncio.gather(*(w.connect(f"/c/{slug}") for w in writers))
        try:
            for i in range(INSERTS):
                await writers[i % len(writers)].send(f"{ChannelState.get_full_name()}.post",
                                                     {"form": {"body": f"届いた投稿 {width}-{i}"}})
                await asyncio.sleep(0.03)
            pill = page.get_by_test_id("new-posts-pill")
            await expect(pill).to_have_text(f"新しい投稿 {INSERTS}件", timeout=60000)
        finally:
            await asyncio.gather(*(w.close() for w in writers), return_exceptions=True)
        await expect(page.get_by_test_id("message")).to_have_count(messages.FIRST_PAGE + INSERTS)
        # The post being read has not moved, and the half-written reply kept its focus.
        top = await lst.evaluate(TOP_OF, shown["id"])
        assert top is not None and abs(top - shown["top"]) <= 3, (shown, top)
        await expect(box).to_be_focused()
        await expect(box).to_have_value("読みながら書きかけの返事")
        await page.screenshot(path=shot_path(f"new-posts-pill-{width}"))
        await pill.click()
        await expect(pill).to_be_hidden()
        await expect(page.get_by_test_id("message").filter(has_text=f"届いた投稿 {width}-")).to_have_count(INSERTS)
        last = await page.get_by_test_id("message").last.get_attribute("data-message-id")
        await expect(lst.locator(f'[data-message-id="{last}"]')).to_be_in_viewport()
        await page.context.close()


async def test_reader_keeps_place_and_focus_while_50_earlier_posts_load_above(app: App, browser: Browser) -> None:
    for width, height in ((1280, 800), (390, 844)):
        slug = f"older-{uuid.uuid4().hex[:6]}"
        # The page opens with the newest FIRST_PAGE; the next INSERTS load above.
        total = messages.FIRST_PAGE + INSERTS
        _channel_with_posts(app, slug, total, writers=0)
        page = await open_as(browser, app, SAPPORO, f"/c/{slug}", width=width, height=height)
        await wait_hydrated(page)
        lst = page.get_by_test_id("message-list")
        rows = page.get_by_test_id("message")
        await expect(rows.filter(has_text=f"これまでの投稿 {total - 1}")).to_be_visible()
        await expect(rows).to_have_count(messages.FIRST_PAGE)
        # Near the top, where earlier posts load on their own; the reader has
        # put the keyboard on a post's 返信 a few rows down. All in one go,
        # before the load answers.
        shown = await lst.evaluate("""el => {
          el.scrollTop = 60;
          const top = el.getBoundingClientRect().top;
          const rows = [...el.querySelectorAll("[data-testid=message]")];
          const i = rows.findIndex((m) => m.getBoundingClientRect().bottom > top + 1);
          const focused = rows[i + 2];
          focused.querySelector("[data-testid=reply-open]").focus({preventScroll: true});
          return {id: rows[i].getAttribute("data-message-id"), top: rows[i].getBoundingClientRect().top,
                  focused: focused.getAttribute("data-message-id")};
        }""")
        await expect(rows).to_have_count(total, timeout=30000)
        await expect(rows.first).to_contain_text("これまでの投稿 0")
        await lst.evaluate(NEXT_FRAMES)  # the place is kept after the rows are laid out
        top = await lst.evaluate(TOP_OF, shown["id"])
        assert top is not None and abs(top - shown["top"]) <= 3, (shown, top)
        focused = await page.evaluate("""() => {
          const el = document.activeElement;
          const row = el && el.closest("[data-message-id]");
          return [el && el.getAttribute("data-testid"), row && row.getAttribute("data-message-id")];
        }""")
        assert focused == ["reply-open", shown["focused"]], focused
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


async def test_a_huge_paste_is_refused_with_a_message_and_the_socket_stays(app: App, browser: Browser) -> None:
    """A pasted document over the websocket message cap: neither the draft's
    live check nor the send closes the socket; the box says why and keeps
    the text; a normal post goes out after it on the same socket."""
    page = await open_as(browser, app, SAPPORO, "/c/zatsudan")
    await wait_hydrated(page)
    opened: list[object] = []
    page.on("websocket", lambda ws: opened.append(ws))
    box = page.get_by_test_id("composer-input")
    huge = "長い資料をそのまま貼り付けました。" * 7_000  # 119,000 characters, ~350 KB in UTF-8
    await box.fill(huge)
    await page.wait_for_timeout(1200)  # the draft's debounced event has gone out
    await box.press("Control+Enter")
    assert "長すぎる" in await box.evaluate("el => el.validationMessage")
    await page.screenshot(path=shot_path("composer-too-long"))
    assert await box.evaluate("el => el.value.length") == len(huge)
    await expect(page.get_by_test_id("message").filter(has_text="長い資料をそのまま")).to_have_count(0)
    short = f"短くしました {uuid.uuid4().hex[:6]}"
    await box.fill(short)
    assert await box.evaluate("el => el.validationMessage") == ""
    await box.press("Control+Enter")
    await expect(page.get_by_test_id("message").filter(has_text=short)).to_have_count(1)
    # Never reconnected: no socket was closed under the page.
    assert opened == []
    await expect(page.get_by_test_id("connection-lost")).to_be_hidden()
    await page.context.close()
