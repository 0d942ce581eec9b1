"""The real-browser check beside the load: two Chromium pages in the bench
channel see the same updates while N headless clients are in the room and
posting.

    python -m bench.browser_check --n 500                 # starts kyoso itself
    python -m bench.browser_check --n 500 --url URL --db-url DB
    python -m bench.browser_check --n 1000 --workers 2 --redis auto

1. N headless clients join /c/bench-room (bench.load), two Chromium pages
   (Debian's /usr/bin/chromium, logged in with their own session tokens) open
   the same page;
2. while the headless clients keep posting (background chatter, ~4 posts/s),
   a headless client posts a marker message: both pages and every headless
   client must show it;
3. page A posts through the composer: page B and every headless client must
   show it; then a headless client presses a stamp on it: both pages must show
   the stamp's count.
Prints the times and exits 1 when a page misses an update.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import kyoso_db, server  # noqa: E402
from bench.load.profiles import KyosoChannel  # noqa: E402
from bench.load.scenarios import Crowd  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as tests/browser/conftest.py
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]


async def open_page(browser, url: str, token: str):  # type: ignore[no-untyped-def]
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP",
                                    timezone_id="Asia/Tokyo")
    await ctx.add_init_script(f"localStorage.setItem('kyoso_session', {json.dumps(token)});")
    ctx.set_default_timeout(30000)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=user-menu]') !== null", timeout=60000)
    await page.get_by_test_id("message-list").wait_for()
    return page, errors


async def seen_by_page(page, text: str, timeout: float) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    await page.get_by_test_id("message-list").get_by_text(text).first.wait_for(timeout=timeout * 1000)
    return time.monotonic() - t0


async def run(args: argparse.Namespace, url: str, db_url: str) -> int:
    from playwright.async_api import async_playwright

    people = kyoso_db.prepare(db_url, args.n + 2, args.slug)
    kyoso_db.clear_rate_hits(db_url, people.user_ids)
    profile = KyosoChannel(people.slug, people.channel_id, people.tokens[: args.n],
                           people.user_ids[: args.n], ROOT / ".web")
    failures: list[str] = []
    async with Crowd(url, profile, args.n) as crowd:
        _, errors, span = await crowd.join(crowd.clients, max(1.0, args.n / 50))
        print(f"{len(crowd.joined)}/{args.n} headless clients joined in {span:.1f} s"
              + (f" ({len(errors)} errors: {errors[0]})" if errors else ""))
        stop = asyncio.Event()

        async def chatter() -> None:
            k = 0
            while not stop.is_set():
                c = crowd.joined[(k * 31 + 7) % len(crowd.joined)]
                name, payload = profile.post_event(c.idx, f"雑談 {k} (負荷)")
                try:
                    await c.emit(name, payload)
                except Exception:  # noqa: BLE001
                    pass
                k += 1
                await asyncio.sleep(0.25)

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page_url = f"{url}/c/{people.slug}"
            (a, a_errors), (b, b_errors) = await asyncio.gather(
                open_page(browser, page_url, people.tokens[args.n]),
                open_page(browser, page_url, people.tokens[args.n + 1]))
            print("two Chromium pages open on", page_url)
            bg = asyncio.create_task(chatter())
            try:
                # 1. a headless client posts; both pages and all headless clients see it.
                marker = f"headless-{crowd.run_id}"
                for c in crowd.joined:
                    c.watch(marker, lambda v, m=marker: profile.shows_text(v, m))
                poster = crowd.joined[0]
                name, payload = profile.post_event(poster.idx, f"{marker} 資料を更新しました")
                t0 = time.monotonic()
                await poster.emit(name, payload)
                ta, tb = await asyncio.gather(seen_by_page(a, marker, 15), seen_by_page(b, marker, 15))
                await crowd.wait_seen(marker, crowd.joined, 15)
                got = len(crowd.latencies(marker, crowd.joined, t0))
                print(f"headless post: page A {ta * 1000:.0f} ms, page B {tb * 1000:.0f} ms, "
                      f"headless {got}/{len(crowd.joined)}")
                if got != len(crowd.joined):
                    failures.append(f"headless clients saw the headless post: {got}/{len(crowd.joined)}")

                # 2. page A posts through its composer; page B and the headless clients see it.
                marker2 = f"browser-{crowd.run_id}"
                for c in crowd.joined:
                    c.watch(marker2, lambda v, m=marker2: profile.shows_text(v, m))
                await a.get_by_test_id("composer-input").fill(f"{marker2} ブラウザから投稿")
                t0 = time.monotonic()
                await a.get_by_test_id("composer-send").click()
                ta, tb = await asyncio.gather(seen_by_page(a, marker2, 15), seen_by_page(b, marker2, 15))
                await crowd.wait_seen(marker2, crowd.joined, 15)
                got = len(crowd.latencies(marker2, crowd.joined, t0))
                print(f"browser post: page A {ta * 1000:.0f} ms, page B {tb * 1000:.0f} ms, "
                      f"headless {got}/{len(crowd.joined)}")
                if got != len(crowd.joined):
                    failures.append(f"headless clients saw page A's post: {got}/{len(crowd.joined)}")

                # 3. a headless client stamps page A's post; both pages show the count.
                mid = profile.message_id(poster.view, marker2)
                name, payload = profile.toggle_stamp(mid, "了解")
                await crowd.joined[1].call(name, payload)
                for pg, label in ((a, "A"), (b, "B")):
                    item = pg.locator(f'[data-message-id="{mid}"]')
                    await item.get_by_text("了解").first.wait_for(timeout=15000)
                print(f"stamp on page A's post (message {mid}) shown on both pages")
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                stop.set()
                await bg
            for label, errs in (("A", a_errors), ("B", b_errors)):
                if errs:
                    failures.append(f"page {label} errors: {errs[:3]}")
            shots = Path(args.workdir)
            await a.screenshot(path=str(shots / "browser-check-a.png"))
            await b.screenshot(path=str(shots / "browser-check-b.png"))
            await browser.close()
    print("PASS: both pages saw every update" if not failures else "FAIL: " + "; ".join(failures))
    return 0 if not failures else 1


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.browser_check")
    p.add_argument("--n", type=int, default=500, help="headless clients beside the two pages")
    p.add_argument("--url", default=None)
    p.add_argument("--db-url", default=None)
    p.add_argument("--slug", default="bench-room")
    p.add_argument("--workdir", default="/tmp/kyoso-bench")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--redis", default=None, help="URL, or 'auto' to start redis-server on loopback")
    args = p.parse_args()
    server.raise_fd_limit()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = args.db_url or f"sqlite:///{workdir / 'kyoso.db'}"
    os.environ["KYOSO_DATABASE_URL"] = db_url
    app = redis_proc = None
    try:
        if args.url:
            url = args.url.rstrip("/")
        else:
            redis = args.redis
            if redis == "auto":
                redis, redis_proc = server.start_redis(workdir)
            app = server.start_kyoso(db_url, workdir, redis=redis, workers=args.workers)
            url = app.url
        return asyncio.run(run(args, url, db_url))
    finally:
        if app is not None:
            app.stop()
        if redis_proc is not None:
            redis_proc.terminate()


if __name__ == "__main__":
    sys.exit(main())
