"""Every page the app registers, at phone and desktop widths, as a person
would meet it. A page fails when something is wider than the screen, when a
primary action cannot be brought into view and pressed, when <html lang> is
not ja, when an English UI word shows outside the allow-list, or when
axe-core finds a serious or critical violation.

The routes come from the app itself (``kyoso.kyoso.app``): a page added later
is visited without editing this file. Dynamic segments take demo data:
``[slug]`` a channel, ``[user_id]`` a person, ``[id]`` a row of the model the
segment before it names (``/briefings/[id]`` → Briefing, ``/polls/[id]`` →
Poll). ``VARIANTS`` adds the states of a page reached by its query string
(the thread panel open). Phone screenshots go to test-artifacts/phone/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page
from sqlmodel import select

import kyoso.kyoso
from kyoso import models, routes
from kyoso.services import surveys
from tests.browser.conftest import ADMIN, ARTIFACTS, App, axe_violations, login_token, new_context

PHONES = [(360, 640), (390, 844)]
DESKTOP = (1280, 800)
WIDTHS = [*PHONES, DESKTOP]

# Routes that are not pages a person reads (operations endpoints).
NOT_PAGES = {"/healthz", "/readyz", "/metrics"}
# Pages seen before login, visited without a session.
PUBLIC = {routes.LOGIN, routes.SIGNUP, "/password/forgot", "/password/reset", "/verify"}
# A page's other states, reached by its query string ({thread}: a thread's id).
VARIANTS = {routes.CHANNEL: ["", "?thread={thread}"]}
MISSING = "/no-such-page"

# Things a member presses to get their work done. Each one shown on a page
# must be reachable: inside the screen's width, scrollable into view, not
# covered by something else.
PRIMARY = ["composer-send", "thread-send", "question-submit", "question-upvote", "briefing-register",
           "poll-option", "poll-submit", "search-submit", "login-submit", "signup-submit",
           "settings-save", "reset-submit", "forgot-submit", "channel-join", "survey-submit",
           "poll-close", "survey-close"]

# Latin words a Japanese government UI may show. Everything else in Latin
# letters (outside posts, names, addresses, code) is an untranslated string.
ALLOWED = {"lgwan", "dx", "csv", "url", "urls", "kyoso", "pdf", "ics", "ctrl", "enter", "esc", "shift",
           "cmd", "id", "it", "ai", "faq", "q", "a", "k", "ok", "svg", "png", "zip", "slack", "e", "mail",
           "smtp", "html", "markdown", "bim", "ict", "qr", "sns", "pc", "ver", "no", "bpr", "rpa", "ocr", "api",
           # File types and sizes on attachments (「写真.jpg ・ JPEG ・ 120 KB」).
           "jpg", "jpeg", "gif", "webp", "txt", "docx", "xlsx", "pptx", "odt", "ods", "odp",
           "kb", "mb", "gb"}


def _app_routes() -> list[str]:
    found = [r if r.startswith("/") else "/" + r for r in kyoso.kyoso.app._unevaluated_pages]
    found = ["/" if r in ("/index", "/") else r for r in found]
    return sorted({r for r in found if r not in NOT_PAGES and "404" not in r})


def _cases() -> list[tuple[str, str]]:
    cases = []
    for route in [*_app_routes(), MISSING]:
        for variant in VARIANTS.get(route, [""]):
            cases.append((route, variant))
    return cases


def _model_for(segment: str) -> Any:
    name = segment[:-1] if segment.endswith("s") else segment
    for cls in vars(models).values():
        if isinstance(cls, type) and cls.__name__.lower() == name.lower() and hasattr(cls, "__table__"):
            return cls
    raise AssertionError(f"no demo model for /{segment}/[id]: teach test_every_route how to fill it")


def _ensure_survey(app: App) -> None:
    with app.session() as s:
        if s.exec(select(models.Survey)).first() is not None:
            return
        admin = s.exec(select(models.User).where(models.User.email == ADMIN)).one()
        channel = s.exec(select(models.Channel).where(models.Channel.slug == "general")).first() \
            or s.exec(select(models.Channel)).first()
        surveys.create_survey(s, admin, channel.id, surveys.SurveyInput(  # type: ignore[union-attr]
            title="窓口DXの取組状況", description="各団体の状況を教えてください。",
            questions=[surveys.QuestionInput(kind="single", prompt="書かない窓口を導入していますか？",
                                             choices=["導入済み", "検討中", "未定"]),
                       surveys.QuestionInput(kind="text", prompt="課題を教えてください。", required=False)]))


def _fill(app: App, route: str, variant: str) -> str:
    """The route with demo data in its dynamic segments."""
    parts = route.strip("/").split("/")
    out = []
    with app.session() as s:
        for i, part in enumerate(parts):
            if not (part.startswith("[") and part.endswith("]")):
                out.append(part)
                continue
            name = part[1:-1]
            if name == "slug":
                out.append(s.exec(select(models.Channel.slug).where(models.Channel.slug == "gov-cloud")).first()
                           or s.exec(select(models.Channel.slug)).first())
            elif name == "user_id":
                out.append(str(s.exec(select(models.User.id).where(models.User.email == ADMIN)).one()))
            else:
                model = _model_for(parts[i - 1])
                row_id = s.exec(select(model.id).order_by(model.id)).first()
                assert row_id is not None, f"no demo {model.__name__} for {route}"
                out.append(str(row_id))
        path = "/" + "/".join(out)
        if "{thread}" in variant:
            slug = out[-1]
            channel = s.exec(select(models.Channel).where(models.Channel.slug == slug)).one()
            thread = s.exec(select(models.Message.id).where(
                models.Message.channel_id == channel.id, models.Message.parent_id.is_(None),  # type: ignore[union-attr]
                models.Message.reply_count > 0).order_by(models.Message.id.desc())).first()  # type: ignore[union-attr]
            variant = variant.replace("{thread}", str(thread))
    return path + variant


# Runs in the page: every problem as one line of text.
CHECK_JS = r"""
({primary, allowed}) => {
  const problems = [];
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  const lang = document.documentElement.getAttribute("lang");
  if (lang !== "ja") problems.push(`<html lang="${lang}">, not "ja"`);
  if (document.documentElement.scrollWidth > vw + 1)
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px wide on a ${vw}px screen`);
  const shown = (el) => {
    const st = getComputedStyle(el);
    if (st.display === "none" || st.visibility === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const label = (el) => {
    const t = el.getAttribute("data-testid");
    const text = (el.innerText || el.getAttribute("aria-label") || "").trim().slice(0, 30);
    return `${el.tagName.toLowerCase()}${t ? "[" + t + "]" : ""} "${text}"`;
  };
  // Wider than the screen: an element reaching past the right edge, unless a
  // box that clips it (ellipsis) or scrolls it on purpose (data-scroll-x, pre) holds it.
  const held = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (a.hasAttribute("data-scroll-x") || a.tagName === "PRE") return true;
    }
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if ((ox === "hidden" || ox === "clip") && a.getBoundingClientRect().right <= vw + 1) return true;
    }
    return false;
  };
  let wide = 0;
  for (const el of document.body.querySelectorAll("*")) {
    if (wide >= 5) break;
    if (el.closest(".skip-link") || !shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && !held(el)) {
      // Report the outermost offender only.
      const parent = el.parentElement;
      if (parent && parent.getBoundingClientRect().right > vw + 1 && !held(parent) && shown(parent)) continue;
      problems.push(`wider than the screen: ${label(el)} reaches x=${Math.round(r.right)} (screen ${vw})`);
      wide += 1;
    }
  }
  // Primary actions: inside the width, and once scrolled into view, on screen and not covered.
  for (const id of primary) {
    const els = [...document.querySelectorAll(`[data-testid="${id}"]`)].filter(shown).slice(0, 3);
    for (const el of els) {
      el.scrollIntoView({block: "nearest", inline: "nearest"});
      const r = el.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      if (r.left < -1 || r.right > vw + 1 || r.top < -1 || r.bottom > vh + 1) {
        problems.push(`primary action out of reach: ${label(el)} at x=${Math.round(r.left)}..${Math.round(r.right)}, ` +
                      `y=${Math.round(r.top)}..${Math.round(r.bottom)} on a ${vw}×${vh} screen`);
        continue;
      }
      const top = document.elementFromPoint(x, y);
      // Behind an open full-screen sheet (the thread on a phone): not shown.
      const sheet = top && top.closest("[data-kyoso-sheet]");
      if (sheet && !sheet.contains(el)) continue;
      if (top && !el.contains(top) && !top.contains(el))
        problems.push(`primary action covered: ${label(el)} lies under ${label(top)}`);
    }
  }
  // English UI words: visible text and labels, outside posts, code and addresses.
  const words = new Set();
  const skip = (node) => node.closest && node.closest(
    ".kyoso-md, code, pre, script, style, [data-user-content], input, textarea, .skip-link");
  const scan = (text) => {
    const cleaned = text
      .replace(/[\w.+-]+@[\w.-]+/g, " ")
      .replace(/https?:\/\/\S+/g, " ")
      .replace(/[\w-]*(\.[\w-]+)*\.(jp|com|org|net)\b/gi, " ")
      .replace(/\/[\w\-\/\[\]?=&.#]*/g, " ")
      .replace(/#[\w-]+/g, " ")
      .replace(/\b[\w-]+\.(png|pdf|csv|ics|svg|zip|jpg|jpeg|txt|xlsx|docx)\b/gi, " ");
    for (const w of cleaned.match(/[A-Za-z][A-Za-z']*/g) || []) {
      if (!allowed.includes(w.toLowerCase())) words.add(w);
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el) || !shown(el)) continue;
    scan(n.textContent || "");
  }
  // Labels a screen reader reads: of shown elements and of landmarks.
  for (const el of document.body.querySelectorAll("[aria-label], [placeholder], [title], [alt]")) {
    if (skip(el) && !["INPUT", "TEXTAREA"].includes(el.tagName)) continue;
    if (!shown(el) && !["SECTION", "NAV", "ASIDE", "MAIN", "REGION"].includes(el.tagName)) continue;
    for (const a of ["aria-label", "placeholder", "title", "alt"]) {
      const v = el.getAttribute(a);
      if (v) scan(v);
    }
  }
  scan(document.title || "");
  if (words.size) problems.push(`English UI words: ${[...words].sort().join(", ")}`);
  return problems;
}
"""


async def _settle(page: Page, public: bool) -> None:
    await page.wait_for_load_state("load")
    if not public:
        # Members' pages: Reflex has connected and the page's on_load has run
        # (the shell's user menu; the presenter view, for a projector, has none).
        try:
            await page.wait_for_function(
                "() => document.querySelector('[data-testid=user-menu], [data-testid=presenter] h2') !== null",
                timeout=20000)
        except Exception:  # noqa: BLE001 - the check below reports what is on screen
            pass
    else:
        await page.wait_for_function("() => document.querySelector('main, [role=main]') !== null",
                                     timeout=20000)
    await page.wait_for_timeout(600)


def _shot_name(path: str, width: int, height: int) -> str:
    name = re.sub(r"[^\w]+", "_", path.strip("/")) or "home"
    return f"{name}-{width}x{height}"


@pytest.mark.parametrize("route,variant", _cases())
async def test_every_route_fits_phone_and_desktop(app: App, browser: Browser, axe_source: str, route: str,
                                                  variant: str) -> None:
    _ensure_survey(app)
    path = _fill(app, route, variant) if route != MISSING else MISSING
    public = route in PUBLIC
    token = None if public else login_token(app, ADMIN)
    problems: list[str] = []
    for width, height in WIDTHS:
        ctx = await new_context(browser, width=width, height=height, token=token)
        page = await ctx.new_page()
        try:
            await page.goto(app.url + path)
            await _settle(page, public)
            if (width, height) != DESKTOP:
                shots = ARTIFACTS / "phone"
                shots.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(shots / f"{_shot_name(path, width, height)}.png"))
            found = await page.evaluate(CHECK_JS, {"primary": PRIMARY, "allowed": sorted(ALLOWED)})
            problems += [f"{width}×{height} {path}: {p}" for p in found]
            # axe-core: no serious or critical violation, at every width.
            problems += [f"{width}×{height} {path}: axe {v['id']} ({v['impact']}): {v['help']} {v['nodes']}"
                         for v in await axe_violations(page, axe_source)]
        finally:
            await ctx.close()
    assert not problems, "\n".join(problems)
