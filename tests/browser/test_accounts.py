"""Sign-up, review and login in a real browser; errors keep what was typed;
every page passes axe-core; nothing is loaded from another host."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import (
    ADMIN,
    MODERATOR,
    SAPPORO,
    App,
    Recorder,
    axe_violations,
    login_token,
    new_context,
    open_as,
    shot_path,
    wait_hydrated,
)
from tests.utils.mail import confirm_signup

pytestmark = pytest.mark.browser


async def test_signup_review_login_home(app: App, browser: Browser) -> None:
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(app.url + "/signup")
    await page.get_by_test_id("signup-email").fill("kyoko.mori@city.chiyoda.lg.jp")
    await page.get_by_test_id("signup-name").fill("森 京子")
    await page.get_by_test_id("signup-org").fill("千代田")
    option = page.locator("[data-testid=signup-org-option][data-code='131016']")
    await option.click()
    await expect(page.get_by_test_id("signup-org")).to_have_value("東京都 千代田区")
    await page.get_by_test_id("signup-department").fill("政策経営部 情報政策課")
    await page.get_by_test_id("signup-password").fill("chiyoda-password-1")
    await page.get_by_test_id("signup-rules").check()
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("signup-done")).to_contain_text("申し込みを受け付けました")

    # Not confirmed yet: the login says the mailed link must be opened first.
    await page.goto(app.url + "/login")
    await page.get_by_test_id("login-email").fill("kyoko.mori@city.chiyoda.lg.jp")
    await page.get_by_test_id("login-password").fill("chiyoda-password-1")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("メールアドレスの確認")

    # The link from the outbox confirms the address; then it waits for review.
    with app.session() as session:
        confirm_signup(session, "kyoko.mori@city.chiyoda.lg.jp")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("承認待ち")

    # A moderator approves in /admin.
    mod = await open_as(browser, app, MODERATOR, "/admin")
    approve = mod.locator("[data-testid=review-approve][data-applicant='kyoko.mori@city.chiyoda.lg.jp']")
    await approve.click()
    await expect(approve).to_have_count(0)
    await expect(mod.get_by_text("森 京子さんの申請を承認しました。")).to_be_visible()

    # Now the login works and lands on the home page.
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(app.url + "/")
    await expect(page.get_by_text("ようこそ、森 京子さん")).to_be_visible()
    await page.screenshot(path=shot_path("home-after-signup"))
    await ctx.close()
    await mod.context.close()


async def test_bad_signup_input_shows_an_error_and_keeps_the_form(app: App, browser: Browser) -> None:
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(app.url + "/signup")
    await page.get_by_test_id("signup-email").fill("someone@gmail.com")
    await page.get_by_test_id("signup-name").fill("山田 花子")
    await page.get_by_test_id("signup-org").fill("131016")
    await page.get_by_test_id("signup-department").fill("総務課")
    await page.get_by_test_id("signup-password").fill("a-good-password")
    await page.get_by_test_id("signup-rules").check()
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("このメールアドレスでは登録できません")
    await expect(page.get_by_test_id("signup-name")).to_have_value("山田 花子")
    await expect(page.get_by_test_id("signup-department")).to_have_value("総務課")
    await expect(page.get_by_test_id("signup-password")).to_have_value("a-good-password")

    # A local address with an agency, and a bad check digit.
    await page.get_by_test_id("signup-email").fill("hanako@city.chiyoda.lg.jp")
    await page.get_by_test_id("signup-org").fill("G00001")
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("国の機関は選べません")
    await page.get_by_test_id("signup-org").fill("131017")
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("検査数字")
    await expect(page.get_by_test_id("signup-email")).to_have_value("hanako@city.chiyoda.lg.jp")

    # Rules not accepted.
    await page.get_by_test_id("signup-org").fill("131016")
    await page.get_by_test_id("signup-rules").uncheck()
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("参加ルール")
    await ctx.close()


async def test_bad_login_shows_an_error_and_keeps_the_email(app: App, browser: Browser) -> None:
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(app.url + "/login")
    await page.get_by_test_id("login-email").fill(SAPPORO)
    await page.get_by_test_id("login-password").fill("wrong-password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("正しくありません")
    await expect(page.get_by_test_id("login-email")).to_have_value(SAPPORO)
    await ctx.close()


async def test_login_and_logout(app: App, browser: Browser) -> None:
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(app.url + "/")
    await page.wait_for_url("**/login**")
    await page.get_by_test_id("login-email").fill(SAPPORO)
    await page.get_by_test_id("login-password").fill("kyoso-demo-2026")
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(app.url + "/")
    await expect(page.get_by_text("ようこそ、田中 由紀さん")).to_be_visible()
    await page.get_by_test_id("user-menu").click()
    await page.get_by_test_id("logout").click()
    await page.wait_for_url("**/login")
    await page.goto(app.url + "/channels")
    await page.wait_for_url("**/login**")
    await ctx.close()


async def test_members_cannot_open_the_admin_page(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, SAPPORO, "/admin")
    await page.wait_for_url(app.url + "/")
    await expect(page.get_by_test_id("review-item")).to_have_count(0)
    await page.context.close()


PAGES = ["/login", "/signup", "/", "/channels", "/admin", "/c/hyojunka", "/inbox", "/u/1",
         "/briefings", "/briefings/1", "/briefings/1/present", "/polls/1"]


async def test_pages_pass_axe_and_load_nothing_from_elsewhere(app: App, browser: Browser,
                                                              axe_source: str) -> None:
    recorder = Recorder()
    token = login_token(app, ADMIN)
    problems: dict[str, list[dict]] = {}
    for path in PAGES:
        logged_in = path not in ("/login", "/signup")
        ctx = await new_context(browser, token=token if logged_in else None, recorder=recorder)
        page = await ctx.new_page()
        await page.goto(app.url + path)
        if path.endswith("/present"):
            await page.get_by_test_id("presenter").wait_for()
        elif logged_in:
            await wait_hydrated(page)
        else:
            await page.get_by_test_id("login-submit" if path == "/login" else "signup-submit").wait_for()
        await page.wait_for_timeout(500)
        found = await axe_violations(page, axe_source)
        if found:
            problems[path] = found
        await page.screenshot(path=shot_path("page" + path.replace("/", "_")))
        await ctx.close()
    assert problems == {}
    hosts = {urlparse(u).hostname for u in recorder.requests if not u.startswith("data:")}
    assert hosts == {"localhost"}, sorted(recorder.requests)[:20]
    assert len(recorder.requests) > len(PAGES)


async def test_phone_width_home(app: App, browser: Browser) -> None:
    page = await open_as(browser, app, SAPPORO, "/", width=390, height=800)
    await wait_hydrated(page)
    # The sidebar is a drawer: hidden until the menu button opens it.
    link = page.locator("[data-testid=channel-link]").first
    await expect(link).to_be_hidden()
    await page.get_by_role("button", name="メニューを開く").click()
    await expect(link).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await page.screenshot(path=shot_path("home-phone"))
    await page.context.close()
