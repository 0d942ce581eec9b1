"""The mail pages of issue 15 in a real browser, on the demo's setup (no SMTP:
every mail waits in the outbox at /admin/mail): sign-up → mail → link →
review; forgot password → mail → new password → the old session ends; the
settings page; the unsubscribe page; the unread count in the tab title."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from kyoso.db import utcnow
from kyoso.models import Notification, Role, User
from kyoso.services import accounts
from kyoso.services.mail import prefs
from tests.browser.conftest import (
    ADMIN,
    MODERATOR,
    App,
    Recorder,
    axe_violations,
    login_token,
    new_context,
    open_as,
    shot_path,
    wait_hydrated,
)
from tests.utils.mail import last_link

pytestmark = pytest.mark.browser

PASSWORD = "first-password-2026"


def _local(app: App, link: str) -> str:
    """A link from a mail (built from KYOSO_BASE_URL) on the test's own server."""
    parts = urlsplit(link)
    return f"{app.url}{parts.path}?{parts.query}"


def _member(app: App, email: str, name: str) -> int:
    with app.session() as session:
        user = accounts.create_user(session, email=email, password=PASSWORD, name=name, org_code="011002",
                                    department="デジタル戦略推進局", role=Role.member)
        session.commit()
        return user.id or 0


async def test_signup_mail_link_then_review(app: App, browser: Browser) -> None:
    address = "ken.ito@city.sapporo.lg.jp"
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(app.url + "/signup")
    await page.get_by_test_id("signup-email").fill(address)
    await page.get_by_test_id("signup-name").fill("伊藤 健")
    await page.get_by_test_id("signup-org").fill("011002")
    await page.locator("[data-testid=signup-org-option][data-code='011002']").click()
    await page.get_by_test_id("signup-department").fill("デジタル戦略推進局")
    await page.get_by_test_id("signup-password").fill(PASSWORD)
    await page.get_by_test_id("signup-rules").check()
    await page.get_by_test_id("signup-submit").click()
    done = page.get_by_test_id("signup-done")
    await expect(done).to_contain_text("確認のメールを送りました")
    await expect(done).to_contain_text("/admin/mail")

    # 運営 read the held mail at /admin/mail; its link is the confirmation link.
    staff = await open_as(browser, app, ADMIN, "/admin/mail")
    item = staff.locator(f"[data-testid=mail-item][data-to='{address}']")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("アドレスの確認")
    link = item.get_by_test_id("mail-link")
    href = await link.get_attribute("href")
    assert href and "/verify?token=" in href and href == await link.inner_text()
    await staff.screenshot(path=shot_path("admin-mail"))

    # The applicant opens it: the application goes to review.
    await page.goto(_local(app, href))
    await expect(page.get_by_test_id("verify-done")).to_contain_text("伊藤 健さん、メールアドレスを確認しました")
    # A second time the link is used up, and says so.
    await page.reload()
    await expect(page.get_by_test_id("form-error")).to_contain_text("すでに使われています")

    # The reviewer sees it, with the hint that the address fits 札幌市.
    mod = await open_as(browser, app, MODERATOR, "/admin")
    approve = mod.locator(f"[data-testid=review-approve][data-applicant='{address}']")
    await expect(approve).to_have_count(1)
    card = mod.get_by_test_id("review-item").filter(has_text=address)
    await expect(card.get_by_test_id("email-fit")).to_have_text("ドメイン: 一致")
    await expect(mod.get_by_test_id("staff-count")).to_be_visible()
    await approve.click()
    await expect(approve).to_have_count(0)
    for c in (ctx, staff.context, mod.context):
        await c.close()


async def test_forgot_password_mail_new_password_old_session_ends(app: App, browser: Browser) -> None:
    address = "forgetful@city.sapporo.lg.jp"
    _member(app, address, "忘れ 太郎")
    old = await open_as(browser, app, address, "/settings")
    await wait_hydrated(old)

    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(app.url + "/login")
    await page.get_by_test_id("login-forgot").click()
    await page.wait_for_url("**/password/forgot")
    await page.get_by_test_id("forgot-email").fill(address)
    await page.get_by_test_id("forgot-submit").click()
    answer = await page.get_by_test_id("forgot-done").inner_text()
    assert "リンクをお送りしました" in answer

    # An unknown address gets the very same answer.
    other = await ctx.new_page()
    await other.goto(app.url + "/password/forgot")
    await other.get_by_test_id("forgot-email").fill("nobody@city.sapporo.lg.jp")
    await other.get_by_test_id("forgot-submit").click()
    assert await other.get_by_test_id("forgot-done").inner_text() == answer
    await other.close()

    with app.session() as session:
        link = last_link(session, address, "/password/reset")
    await page.goto(_local(app, link))
    await expect(page.get_by_text("忘れ 太郎さんの新しいパスワード")).to_be_visible()
    await page.get_by_test_id("reset-password").fill("short")
    await page.get_by_test_id("reset-submit").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("10文字以上")
    await page.get_by_test_id("reset-password").fill("second-password-2026")
    await page.get_by_test_id("reset-submit").click()
    await page.wait_for_url("**/login?reset=done")
    await expect(page.get_by_text("新しいパスワードでログインしてください")).to_be_visible()
    await page.get_by_test_id("login-email").fill(address)
    await page.get_by_test_id("login-password").fill("second-password-2026")
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(app.url + "/")

    # The session that was open before the reset has ended.
    await old.goto(app.url + "/channels")
    await old.wait_for_url("**/login**")
    # The link works once.
    await page.goto(_local(app, link))
    await expect(page.get_by_test_id("form-error")).to_contain_text("すでに使われています")
    await expect(page.get_by_test_id("reset-password")).to_have_count(0)
    await ctx.close()
    await old.context.close()


async def test_settings_save_and_desktop_notifications_asked_on_a_click_only(app: App, browser: Browser) -> None:
    address = "settings@city.sapporo.lg.jp"
    user_id = _member(app, address, "設定 花子")
    with app.session() as session:
        for n in range(3):
            session.add(Notification(user_id=user_id, kind="mention", text=f"メンション{n}", link="/",
                                     created_at=utcnow()))
        session.commit()
    recorder = Recorder()
    ctx = await new_context(browser, token=login_token(app, address), recorder=recorder)
    # Record every permission request (the browser must not be asked on load).
    await ctx.add_init_script(
        "window.__asked = 0; if (window.Notification) { Notification.requestPermission ="
        " () => { window.__asked += 1; return Promise.resolve('denied'); }; }")
    page = await ctx.new_page()
    await page.goto(app.url + "/settings")
    await wait_hydrated(page)

    # Unread notifications show in the tab title and on the favicon.
    await page.wait_for_function("() => document.title.startsWith('(3) ')")
    icon = await page.locator('link[rel~="icon"]').first.get_attribute("href")
    assert icon and icon.startswith("data:image/svg+xml")

    boxes = page.locator("[data-testid=setting-checkbox]")
    assert await boxes.count() == len(prefs.SETTINGS)
    mention = page.locator("[data-setting=mention]")
    digest = page.locator("[data-setting=digest]")
    await expect(mention).to_be_checked()
    await expect(digest).not_to_be_checked()
    await mention.uncheck()
    await digest.check()
    await page.get_by_test_id("settings-save").click()
    await expect(page.get_by_text("メールの設定を保存しました。")).to_be_visible()
    with app.session() as session:
        values = prefs.values(session, user_id)
    assert values["mention"] is False and values["digest"] is True and values["reply"] is True
    await page.reload()
    await expect(page.locator("[data-setting=mention]")).not_to_be_checked()
    await expect(page.locator("[data-setting=digest]")).to_be_checked()

    assert await page.evaluate("window.__asked") == 0
    await page.get_by_test_id("desktop-notify").click()
    await page.wait_for_function("() => window.__asked === 1")
    await page.screenshot(path=shot_path("settings"))
    hosts = {urlsplit(u).hostname for u in recorder.requests if not u.startswith("data:")}
    assert hosts == {"localhost"}
    await ctx.close()


async def test_unsubscribe_page_turns_off_one_kind(app: App, browser: Browser) -> None:
    address = "unsubscribe@city.sapporo.lg.jp"
    user_id = _member(app, address, "停止 次郎")
    with app.session() as session:
        token = prefs.unsubscribe_token(prefs.link_secret(session), user_id, "reply")
        session.commit()
    recorder = Recorder()
    ctx = await new_context(browser, recorder=recorder)
    page = await ctx.new_page()
    await page.goto(f"{app.url}/unsubscribe?token={token}")
    await expect(page.get_by_role("heading")).to_have_text("メールの配信停止")
    with app.session() as session:
        assert prefs.values(session, user_id)["reply"] is True  # opening it changes nothing
    await page.get_by_role("button", name="配信を停止する").click()
    await expect(page.get_by_role("heading")).to_have_text("配信を停止しました")
    with app.session() as session:
        values = prefs.values(session, user_id)
        assert session.exec(select(User.status).where(User.id == user_id)).one() == "active"
    assert values["reply"] is False and values["mention"] is True
    assert {urlsplit(u).hostname for u in recorder.requests} == {"localhost"}
    await ctx.close()


async def test_mail_pages_pass_axe(app: App, browser: Browser, axe_source: str) -> None:
    token = login_token(app, ADMIN)
    problems: dict[str, list[dict]] = {}
    for path, ready in (("/password/forgot", "forgot-submit"), ("/verify", "verify-resend"),
                        ("/password/reset?token=x", "form-error"), ("/settings", "settings-save"),
                        ("/admin/mail", "mail-item"), ("/admin", "admin-mail-link"),
                        # A rejected form's message inside the shell (on /settings in the lead's run).
                        ("/admin/mail?status=bogus", "form-error")):
        public = not path.startswith(("/settings", "/admin"))
        ctx = await new_context(browser, token=None if public else token)
        page = await ctx.new_page()
        await page.goto(app.url + path)
        await page.get_by_test_id(ready).first.wait_for()
        await page.wait_for_timeout(300)
        found = await axe_violations(page, axe_source)
        if found:
            problems[path] = found
        await ctx.close()
    assert problems == {}


def _mention(app: App, author_id: int, target_id: int, target_name: str, text: str) -> int:
    """A new thread in #zatsudan that mentions the target (as the composer's autocomplete would)."""
    from kyoso.models import Channel
    from kyoso.services import messages

    with app.session() as session:
        author = session.get(User, author_id)
        channel = session.exec(select(Channel).where(Channel.slug == "zatsudan")).one()
        message = messages.post_message(session, author, channel.id or 0, f"@[{target_name}] {text}",
                                        mention_ids={target_name: target_id})
        return message.id or 0


def _notification_mails(app: App, address: str) -> list[str]:
    from tests.utils.mail import mails_to

    with app.session() as session:
        return [m.body_text for m in mails_to(session, address) if m.kind == "mention"]


async def test_a_mention_is_mailed_after_the_delay_unless_read_first(app: App, browser: Browser) -> None:
    """The mentioned member's tab is closed: one mail once the mention has
    stayed unread for KYOSO_NOTIFY_DELAY_SECONDS (the shared app runs with a
    short delay); a mention read in the app first is never mailed."""
    import asyncio
    import time

    delay = int(app.env["KYOSO_NOTIFY_DELAY_SECONDS"])
    author = _member(app, "mention.author@city.sapporo.lg.jp", "加藤 誠")
    target_email = "mention.target@city.sapporo.lg.jp"
    target = _member(app, target_email, "木村 彩")

    # Read first: the target opens the inbox and the mention before the delay.
    _mention(app, author, target, "木村 彩", "先に読まれる連絡です")
    page = await open_as(browser, app, target_email, "/inbox")
    await wait_hydrated(page)
    item = page.get_by_test_id("inbox-item").filter(has_text="先に読まれる連絡です")
    await item.click()
    await page.context.close()

    # Unread: the tab stays closed.
    posted = time.monotonic()
    _mention(app, author, target, "木村 彩", "未読のままの連絡です")
    await asyncio.sleep(max(0.0, delay / 2 - (time.monotonic() - posted)))
    assert _notification_mails(app, target_email) == []  # not before the delay
    deadline = time.monotonic() + delay + 40  # the mail jobs run every 10 s
    while time.monotonic() < deadline and not _notification_mails(app, target_email):
        await asyncio.sleep(1)
    await asyncio.sleep(12)  # one more round of the jobs: nothing else arrives
    mails = _notification_mails(app, target_email)
    assert len(mails) == 1, mails
    assert "未読のままの連絡です" in mails[0] and "先に読まれる連絡です" not in mails[0]
