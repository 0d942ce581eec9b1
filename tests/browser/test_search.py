"""Search and questions in a real browser: search from the header, open a hit
and land on that message in its thread; ask, answer, resolve; the pages at
desktop and phone width pass axe-core."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from kyoso.models import Channel, User
from kyoso.services import messages
from tests.browser.conftest import (
    FUKUOKA,
    NAHA,
    SAPPORO,
    App,
    axe_violations,
    open_as,
    shot_path,
    wait_hydrated,
)

pytestmark = pytest.mark.browser


def kana_tag() -> str:
    """A made-up katakana word nobody else wrote: a unique thing to search for."""
    return "".join(random.choice("ヌペホゾネヘムヨギュ") for _ in range(5)) + "ー" + random.choice("ズヅプ")


def half_width(katakana: str) -> str:
    """ガ → ｶﾞ: the half-width spelling some terminals still send."""
    table = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}
    out = []
    for ch in katakana:
        base = unicodedata.normalize("NFD", ch)
        if base[0] in table:
            out.append(table[base[0]] + {"\u3099": "ﾞ", "\u309a": "ﾟ"}.get(base[1:], ""))
        else:
            out.append(ch)
    return "".join(out)


def post_as(app: App, email: str, slug: str, body: str, parent_id: int | None = None) -> int:
    with app.session() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        channel = s.exec(select(Channel).where(Channel.slug == slug)).one()
        message = messages.post_message(s, user, channel.id or 0, body, parent_id=parent_id)
        return message.id or 0


async def test_search_from_the_header_and_land_on_the_message_in_its_thread(app: App, browser: Browser) -> None:
    tag = kana_tag()
    thread_id = post_as(app, FUKUOKA, "gov-cloud", "ネットワーク構成について相談です")
    reply_id = post_as(app, NAHA, "gov-cloud", f"那覇市では{tag}方式でLGWAN接続を分けています", thread_id)

    page = await open_as(browser, app, SAPPORO, "/channels")
    await wait_hydrated(page)
    # Half-width katakana and an ASCII word: width and kana variants meet.
    await page.get_by_test_id("search-input").fill(f"{half_width(tag)} lgwan")
    await page.get_by_test_id("search-submit").click()
    await page.wait_for_url(re.compile(r"/search\?q="))
    hit = page.get_by_test_id("search-result")
    await expect(hit).to_have_count(1)
    await expect(hit).to_have_attribute("data-message-id", str(reply_id))
    await expect(hit.locator("mark").first).to_have_text(tag)
    await expect(hit).to_contain_text("ガバメントクラウド")  # the channel
    await expect(hit).to_contain_text("沖縄県那覇市")  # the author's 団体

    await hit.click()
    await page.wait_for_url(re.compile(rf"/c/gov-cloud\?thread={thread_id}&m={reply_id}"))
    panel = page.get_by_test_id("thread-panel")
    await expect(panel).to_be_visible()
    target = panel.locator(f"[data-testid=message][data-message-id='{reply_id}']")
    await expect(target).to_be_visible()
    await expect(target).to_contain_text(tag)
    await expect(target).to_be_in_viewport()
    await page.screenshot(path=shot_path("search-landed"))
    await page.context.close()


async def _search_page(page: Page, app: App, query: str) -> None:
    await page.goto(app.url + "/search")
    await wait_hydrated(page)
    await page.get_by_test_id("search-input").fill(query)
    await page.get_by_test_id("search-submit").click()


async def test_search_page_filters_and_deleted_posts(app: App, browser: Browser) -> None:
    tag = kana_tag()
    sapporo_id = post_as(app, SAPPORO, "hyojunka", f"札幌市の{tag}移行計画を共有します")
    naha_id = post_as(app, NAHA, "hyojunka", f"那覇市の{tag}移行計画です")
    page = await open_as(browser, app, FUKUOKA, "/search")
    await wait_hydrated(page)
    await expect(page.get_by_test_id("search-input")).to_have_count(1)  # no second box in the header
    await _search_page(page, app, f"{tag} 移行")
    await expect(page.get_by_test_id("search-result")).to_have_count(2)

    # Filter by the author's prefecture (沖縄県 = 47).
    await page.get_by_text("絞り込み").click()
    await page.get_by_test_id("search-prefecture").select_option("47")
    await page.get_by_test_id("search-submit").click()
    await page.wait_for_url(re.compile(r"pref=47"))
    await expect(page.get_by_test_id("search-result")).to_have_count(1)
    await expect(page.get_by_test_id("search-result")).to_have_attribute("data-message-id", str(naha_id))
    await page.screenshot(path=shot_path("search-desktop"))

    # A deleted message disappears from the results.
    with app.session() as s:
        author = s.exec(select(User).where(User.email == SAPPORO)).one()
        messages.delete_message(s, author, sapporo_id)
    await page.goto(app.url + f"/search?q={tag}")
    await wait_hydrated(page)
    await expect(page.get_by_test_id("search-result")).to_have_count(1)
    await expect(page.get_by_test_id("search-result")).to_have_attribute("data-message-id", str(naha_id))
    await page.context.close()


async def test_ask_answer_resolve(app: App, browser: Browser) -> None:
    tag = kana_tag()
    asker = await open_as(browser, app, NAHA, "/c/gen-ai")
    helper = await open_as(browser, app, FUKUOKA, "/c/gen-ai")
    await wait_hydrated(asker)
    await wait_hydrated(helper)

    # Writing a question shows similar past threads (the demo's ガイドライン thread).
    await asker.get_by_test_id("composer-question").check()
    await asker.get_by_test_id("composer-input").fill(f"生成AIの庁内利用ガイドラインで{tag}の扱いはどうしていますか")
    await expect(asker.get_by_test_id("similar-thread").first).to_contain_text("ガイドライン")
    await asker.screenshot(path=shot_path("question-similar"))
    await asker.get_by_test_id("composer-send").click()
    mine = asker.get_by_test_id("message-list").get_by_test_id("message").filter(has_text=tag)
    await expect(mine).to_contain_text("質問")

    # It is listed among the unresolved questions.
    questions = await open_as(browser, app, SAPPORO, "/questions")
    await wait_hydrated(questions)
    await expect(questions.get_by_test_id("open-question").filter(has_text=tag)).to_have_count(1)

    # Someone answers in the thread; the asker chooses that reply.
    theirs = helper.get_by_test_id("message-list").get_by_test_id("message").filter(has_text=tag)
    await theirs.hover()
    await theirs.get_by_test_id("reply-open").click()
    await helper.get_by_test_id("thread-input").fill("福岡市では個人情報を含む場合は入力しないと定めています")
    await helper.get_by_test_id("thread-send").click()
    await expect(helper.get_by_test_id("thread-panel").get_by_test_id("mark-answer")).to_have_count(0)

    await mine.get_by_test_id("reply-count").click()
    panel = asker.get_by_test_id("thread-panel")
    reply = panel.get_by_test_id("message").filter(has_text="福岡市では")
    await reply.hover()
    await reply.get_by_test_id("mark-answer").click()
    await expect(reply).to_contain_text("回答")
    await expect(mine.get_by_test_id("resolved-badge")).to_be_visible()
    # The other browser sees it resolved, live.
    await expect(theirs.get_by_test_id("resolved-badge")).to_be_visible()
    await asker.screenshot(path=shot_path("question-resolved"))

    await questions.reload()
    await wait_hydrated(questions)
    await expect(questions.get_by_test_id("open-question").filter(has_text=tag)).to_have_count(0)
    for p in (asker, helper, questions):
        await p.context.close()


async def test_mark_an_existing_thread_as_a_question(app: App, browser: Browser) -> None:
    tag = kana_tag()
    post_as(app, SAPPORO, "madoguchi", f"{tag}の窓口で使う端末は何台ですか")
    page = await open_as(browser, app, SAPPORO, "/c/madoguchi")
    await wait_hydrated(page)
    msg = page.get_by_test_id("message").filter(has_text=tag)
    await msg.hover()
    await msg.get_by_test_id("mark-question").click()
    await expect(msg.get_by_test_id("mark-question")).to_have_attribute("aria-pressed", "true")
    await expect(msg).to_contain_text("質問")
    await page.goto(app.url + "/questions?channel=madoguchi")
    await wait_hydrated(page)
    await expect(page.get_by_test_id("open-question").filter(has_text=tag)).to_have_count(1)
    await page.context.close()


@pytest.mark.parametrize("width", [1280, 390])
async def test_search_and_questions_pages_at_desktop_and_phone_width(
        app: App, browser: Browser, axe_source: str, width: int) -> None:
    for path, name in [("/search?q=%E7%AA%93%E5%8F%A3", "search"), ("/questions", "questions"),
                       ("/search", "search-empty")]:
        page = await open_as(browser, app, SAPPORO, path, width=width, height=800)
        await wait_hydrated(page)
        if name == "search":
            await expect(page.get_by_test_id("search-result").first).to_be_visible()
        await page.wait_for_timeout(300)
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        assert await axe_violations(page, axe_source) == [], path
        await page.screenshot(path=shot_path(f"{name}-{width}"))
        await page.context.close()
