"""Live polls and 説明会 rooms in several browsers at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from kyoso.db import utcnow
from kyoso.models import Channel, User
from kyoso.services import briefings
from kyoso.services.timefmt import JST
from tests.browser.conftest import DIGITAL, FUKUOKA, NAHA, SAPPORO, App, open_as, shot_path, wait_hydrated

pytestmark = pytest.mark.browser


def option(page: Page, poll_id: str, index: int):  # type: ignore[no-untyped-def]
    return page.locator(f"[data-testid=poll][data-poll-id='{poll_id}'] "
                        f"[data-testid=poll-option][data-option-index='{index}']")


async def test_poll_created_voted_changed_closed_live(app: App, browser: Browser) -> None:
    a = await open_as(browser, app, FUKUOKA, "/c/zatsudan")
    b = await open_as(browser, app, SAPPORO, "/c/zatsudan")
    await wait_hydrated(a)
    await wait_hydrated(b)
    question = f"次回のオフ会の候補日は？ {uuid.uuid4().hex[:5]}"
    await a.get_by_test_id("poll-create").click()
    await a.get_by_test_id("poll-question").fill(question)
    inputs = a.get_by_test_id("poll-option-input")
    await inputs.nth(0).fill("12月第1週")
    await inputs.nth(1).fill("12月第2週")
    await a.get_by_test_id("poll-add-option").click()
    await inputs.nth(2).fill("1月")
    await a.get_by_test_id("poll-submit").click()

    poll_b = b.get_by_test_id("poll").filter(has_text=question)
    await expect(poll_b).to_be_visible()
    poll_id = await poll_b.get_attribute("data-poll-id")
    assert poll_id
    total_a = a.locator(f"[data-testid=poll][data-poll-id='{poll_id}'] [data-testid=poll-total]")
    await expect(total_a).to_have_text("0人が回答")

    # B votes: A's counts change without reload.
    await option(b, poll_id, 1).click()
    await expect(option(a, poll_id, 1).get_by_test_id("poll-option-count")).to_contain_text("1票")
    await expect(total_a).to_have_text("1人が回答")
    # B changes the vote: the counts stay right.
    await option(b, poll_id, 2).click()
    await expect(option(a, poll_id, 2).get_by_test_id("poll-option-count")).to_contain_text("1票")
    await expect(option(a, poll_id, 1).get_by_test_id("poll-option-count")).to_contain_text("0票")
    await expect(total_a).to_have_text("1人が回答")
    await expect(option(b, poll_id, 2)).to_have_attribute("data-chosen", "true")

    # A closes: B's options are disabled, and the server refuses a forced vote.
    await a.locator(f"[data-testid=poll][data-poll-id='{poll_id}'] [data-testid=poll-close]").click()
    await expect(option(b, poll_id, 0)).to_be_disabled()
    await b.screenshot(path=shot_path("poll-closed-b"))
    await b.reload()
    await wait_hydrated(b)
    await expect(option(b, poll_id, 2).get_by_test_id("poll-option-count")).to_contain_text("1票")
    await expect(option(b, poll_id, 0)).to_be_disabled()
    await a.context.close()
    await b.context.close()


async def test_poll_form_errors_keep_the_form(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, NAHA, "/c/zatsudan")
    await wait_hydrated(page)
    await page.get_by_test_id("poll-create").click()
    await page.get_by_test_id("poll-question").fill("ひとつしかない")
    await page.get_by_test_id("poll-option-input").nth(0).fill("A")
    await page.get_by_test_id("poll-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("2つ以上")
    await expect(page.get_by_test_id("poll-question")).to_have_value("ひとつしかない")
    await page.context.close()


def _live_briefing(app: App) -> int:
    with app.session() as s:
        organiser = s.exec(select(User).where(User.email == DIGITAL)).one()
        channel = s.exec(select(Channel).where(Channel.slug == "gov-cloud")).one()
        start = (utcnow() - timedelta(minutes=5)).astimezone(JST)
        briefing = briefings.create_briefing(s, organiser, briefings.BriefingInput(
            title=f"ライブ説明会 {uuid.uuid4().hex[:4]}", description="テスト", starts_at=start,
            ends_at=start + timedelta(hours=1), channel_id=channel.id))
        return briefing.id or 0


async def test_briefing_room_live_poll_and_questions(app: App, browser: Browser) -> None:
    bid = _live_briefing(app)
    organiser = await open_as(browser, app, DIGITAL, f"/briefings/{bid}")
    presenter = await open_as(browser, app, DIGITAL, f"/briefings/{bid}/present")
    await presenter.get_by_test_id("presenter").wait_for()
    attendance = presenter.get_by_test_id("presenter-attendance")
    await expect(attendance).to_have_text("参加 1人")
    one = await open_as(browser, app, SAPPORO, f"/briefings/{bid}")
    two = await open_as(browser, app, NAHA, f"/briefings/{bid}")
    for page in (organiser, one, two):
        await wait_hydrated(page)
    # The screen counts arrivals as they come, without a reload.
    await expect(attendance).to_have_text("参加 3人")

    # The organiser opens a live poll; the attendees see it, vote, and the
    # presenter view updates without reload.
    await organiser.get_by_test_id("briefing-poll-new").click()
    await organiser.get_by_test_id("poll-question").fill("今日の説明は分かりやすかったですか？")
    inputs = organiser.get_by_test_id("poll-option-input")
    await inputs.nth(0).fill("はい")
    await inputs.nth(1).fill("いいえ")
    await organiser.get_by_test_id("poll-submit").click()
    for page in (one, two):
        await expect(page.get_by_test_id("briefing-live-poll")).to_contain_text("分かりやすかった")
    await one.get_by_test_id("briefing-live-poll").get_by_test_id("poll-option").nth(0).click()
    await two.get_by_test_id("briefing-live-poll").get_by_test_id("poll-option").nth(0).click()
    counts = presenter.get_by_test_id("presenter-poll").get_by_test_id("poll-option-count")
    await expect(counts.nth(0)).to_contain_text("2票")
    await expect(presenter.get_by_test_id("presenter-poll").get_by_test_id("poll-total")).to_have_text("2人が回答")

    # Questions: the one upvoted by two attendees moves to the top everywhere.
    await one.get_by_test_id("question-input").fill("資料はいつ公開されますか？")
    await one.get_by_test_id("question-submit").click()
    await two.get_by_test_id("question-input").fill("運用経費の試算例はありますか？")
    await two.get_by_test_id("question-submit").click()
    for page in (organiser, one, two, presenter):
        await expect(page.get_by_test_id("question")).to_have_count(2)
        await expect(page.get_by_test_id("question").first).to_contain_text("資料はいつ")
    target = "運用経費の試算例"
    for votes_before, page in enumerate((one, two)):
        # Wait until the list has settled: a click during a live reorder could
        # land on the row that moved into its place.
        row = page.get_by_test_id("question").filter(has_text=target)
        await expect(row.get_by_test_id("question-votes")).to_have_text(str(votes_before))
        await row.get_by_test_id("question-upvote").click()
        await expect(row.get_by_test_id("question-votes")).to_have_text(str(votes_before + 1))
    for page in (organiser, one, two, presenter):
        first = page.get_by_test_id("question").first
        await expect(first).to_contain_text(target)
        await expect(first.get_by_test_id("question-votes")).to_have_text("2")
    await presenter.screenshot(path=shot_path("presenter"))
    for page in (organiser, presenter, one, two):
        await page.context.close()


async def test_register_waitlist_and_ics(app: App, browser: Browser) -> None:
    with app.session() as s:
        organiser = s.exec(select(User).where(User.email == DIGITAL)).one()
        start = (utcnow() + timedelta(days=5)).astimezone(JST).replace(hour=10, minute=0)
        briefing = briefings.create_briefing(s, organiser, briefings.BriefingInput(
            title="少人数の勉強会", description="", starts_at=start, ends_at=start + timedelta(hours=1),
            capacity=1))
        bid = briefing.id
    one = await open_as(browser, app, SAPPORO, f"/briefings/{bid}")
    two = await open_as(browser, app, NAHA, f"/briefings/{bid}")
    await wait_hydrated(one)
    await wait_hydrated(two)
    await one.get_by_test_id("briefing-register").click()
    await expect(one.get_by_text("申込済み")).to_be_visible()
    await two.get_by_test_id("briefing-register").click()
    await expect(two.get_by_text("キャンセル待ち", exact=True)).to_be_visible()
    await expect(one.get_by_test_id("briefing-counts")).to_contain_text("キャンセル待ち 1人")
    await one.get_by_test_id("briefing-cancel").click()
    await two.reload()
    await wait_hydrated(two)
    await expect(two.get_by_text("申込済み")).to_be_visible()
    async with two.expect_download() as info:
        await two.get_by_test_id("briefing-ics").click()
    download = await info.value
    text = open(await download.path(), encoding="utf-8").read()
    assert "DTSTART;TZID=Asia/Tokyo:" in text and "少人数の勉強会" in text
    await one.context.close()
    await two.context.close()


async def test_announcement_reaches_the_home_page_live(app: App, browser: Browser) -> None:
    reader = await open_as(browser, app, SAPPORO, "/")
    publisher = await open_as(browser, app, DIGITAL, "/")
    await wait_hydrated(reader)
    await wait_hydrated(publisher)
    title = f"新しいリリースのお知らせ {uuid.uuid4().hex[:5]}"
    await publisher.get_by_test_id("announcement-new").click()
    await publisher.get_by_test_id("announcement-title").fill(title)
    await publisher.get_by_test_id("announcement-body").fill("新しい機能を公開しました。")
    await publisher.locator("select[name=category]").select_option("release")
    await publisher.get_by_label("お知らせ", exact=True).check()
    await publisher.get_by_test_id("announcement-submit").click()
    item = reader.get_by_test_id("announcement").filter(has_text=title)
    await expect(item).to_be_visible()
    await expect(item).to_have_attribute("data-unread", "true")
    await expect(reader.get_by_test_id("announcement").first).to_contain_text(title)
    await item.get_by_test_id("announcement-read").click()
    await expect(item).to_have_attribute("data-unread", "false")
    await reader.context.close()
    await publisher.context.close()
