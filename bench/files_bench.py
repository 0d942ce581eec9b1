"""Attachments: text extraction speed, search over extracted documents, and
50 members uploading 10 MB each at once.

    python bench/files_bench.py extract [--pages 200]
    python bench/files_bench.py search [--n 100000] [--reuse]
    python bench/files_bench.py upload [--n 50] [--mb 10]

``extract`` writes a 200-page Japanese PDF (tests/utils/files.py's writer)
and times ``extract_text`` in process and through the child process the
worker uses. ``search`` bulk-loads N file documents (a name and 5-12
sentences of the search benchmark's vocabulary, about 700 characters, each
on a message of its own) and times ``search()`` with and without
「ファイルのみ». ``upload`` starts kyoso as the load tool does, joins N
members' headless clients to a channel, sends each a 10 MB upload through
Reflex's upload endpoint at the same moment, and meanwhile loads the channel
page with fresh clients: backend memory before/peak and page-load p95.
Not a test: numbers depend on the machine (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_bench import QUERIES, pct, sentence, setup_people  # noqa: E402


# -- extract -----------------------------------------------------------------------


def run_extract(pages: int) -> None:
    from kyoso.services.attachments import extract
    from kyoso.services.attachments.files import extract_in_child
    from tests.utils.files import make_pdf

    rng = random.Random(3)
    places = ["札幌市", "那覇市", "千代田区", "福岡市", "高知県"]
    text_pages = ["\n".join(sentence(rng, places) for _ in range(18)) for _ in range(pages)]
    data = make_pdf(text_pages)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(data)
        chars = sum(len(p) for p in text_pages)
        print(f"PDF: {pages} pages, {len(data) / 2**20:.1f} MiB, {chars:,} characters of text")
        t = time.perf_counter()
        text, read = extract.extract_text(path, "pdf", max_seconds=600)
        dt = time.perf_counter() - t
        print(f"in process:  {read} pages in {dt:.2f} s = {read / dt:.0f} pages/s ({len(text):,} characters kept)")
        t = time.perf_counter()
        result = extract_in_child(path, "pdf")
        dt = time.perf_counter() - t
        print(f"child process (as the worker runs it, start-up included): {result.get('pages')} pages "
              f"in {dt:.2f} s = {int(result.get('pages', 0)) / dt:.0f} pages/s")


# -- search ------------------------------------------------------------------------------


def load_files(url: str, n: int, rng: random.Random) -> None:
    from kyoso.db import get_engine
    from kyoso.services.search.tokens import document_tokens

    users, chans, places = setup_people(url, rng)
    raw = get_engine(url).raw_connection()
    con = raw.driver_connection
    con.execute("PRAGMA synchronous=OFF")
    con.execute("INSERT INTO file_blob (id, sha256, size, mime, kind, storage, width, height, text_status, text, "
                "text_error, created_at) VALUES (1, ?, 1000, 'application/pdf', 'pdf', 'local', 0, 0, 'done', '', "
                "'', '2025-01-01 00:00:00')", ("0" * 64,))
    start = datetime(2023, 4, 1, tzinfo=timezone.utc)
    step = timedelta(days=3 * 365) / n
    names = ["移行計画書", "運用経費見積", "説明会資料", "事務連絡", "仕様書", "議事録", "調査票", "手順書"]
    t0 = time.perf_counter()
    bm, ba, bd, bf = [], [], [], []

    def flush() -> None:
        con.execute("BEGIN")
        con.executemany("INSERT INTO message (id, channel_id, author_id, body, body_html, created_at, reply_count, "
                        "rev, is_question) VALUES (?,?,?,?,?,?,0,1,0)", bm)
        con.executemany("INSERT INTO attachment (id, blob_id, uploader_id, name, message_id, created_at) "
                        "VALUES (?,1,?,?,?,?)", ba)
        con.executemany("INSERT INTO search_doc (id, kind, ref_id, channel_id, thread_id, author_id, created_at, "
                        "body) VALUES (?,'file',?,?,?,?,?,?)", bd)
        con.executemany("INSERT INTO search_fts (rowid, grams, tails) VALUES (?,?,?)", bf)
        con.execute("COMMIT")
        bm.clear(), ba.clear(), bd.clear(), bf.clear()

    for i in range(1, n + 1):
        ch, author = rng.choice(chans), rng.choice(users)
        ts = (start + step * i).strftime("%Y-%m-%d %H:%M:%S.%f")
        name = f"{rng.choice(places)}_{rng.choice(names)}_{i}.pdf"
        body = name + "\n" + "".join(sentence(rng, places) for _ in range(rng.randint(5, 12)))
        bm.append((i, ch, author, "資料です", "<p>資料です</p>\n", ts))
        ba.append((i, author, name, i, ts))
        bd.append((i, i, ch, i, author, ts, body))
        grams, tails = document_tokens(body).text()
        bf.append((i, grams, tails))
        if len(bm) >= 10000:
            flush()
            print(f"\r  {i:,} documents ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
    if bm:
        flush()
    con.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    con.execute("ANALYZE")
    raw.close()
    print(f"\n  loaded and optimized in {time.perf_counter() - t0:.0f} s")


def run_search(n: int, reuse: bool, rounds: int) -> None:
    from sqlmodel import select

    from kyoso.db import read_scope
    from kyoso.migrate import upgrade
    from kyoso.models import User
    from kyoso.services import attachments, search  # noqa: F401 - registers the file kind

    path = Path(f"/tmp/kyoso-files-bench-{n}.db")
    url = f"sqlite:///{path}"
    if not (reuse and path.exists()):
        path.unlink(missing_ok=True)
        upgrade(url)
        load_files(url, n, random.Random(7))
    with read_scope(url) as session:
        user = session.exec(select(User).where(User.email == "bench0@example.lg.jp")).one()
        files_only = search.make_filters(session, files_only=True)
        print(f"\n{'group':<12} {'filter':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        everything: list[float] = []
        for group, queries in QUERIES.items():
            if group == "1":
                continue  # one character: not a question anybody asks of documents
            for flt, label in ((files_only, "files"), (None, "none")):
                times = []
                for q in queries:
                    search.search(session, user, q, flt)
                    for _ in range(rounds):
                        t = time.perf_counter()
                        page = search.search(session, user, q, flt)
                        times.append((time.perf_counter() - t) * 1000)
                    assert all(h.title for h in page.hits)
                everything += times
                print(f"{group:<12} {label:<10} {statistics.median(times):8.1f} {pct(times, 95):8.1f} "
                      f"{max(times):8.1f}")
        print(f"{'all':<12} {'':<10} {statistics.median(everything):8.1f} {pct(everything, 95):8.1f} "
              f"{max(everything):8.1f}")
    print(f"database file: {path.stat().st_size / 2**20:.0f} MiB")


# -- upload ------------------------------------------------------------------------------


def _rss_tree(pid: int, *, children_too: bool = True) -> int:
    """The app's memory: gunicorn and its worker (and, with ``children_too``,
    the short-lived text-extraction children the worker starts)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        if not children_too:  # without the extraction and preview children
            procs = [p for p in procs if not any(x in " ".join(p.cmdline()) for x in ("extract.py", "thumb.py"))]
        return sum(p.memory_info().rss for p in procs)
    except psutil.Error:
        return 0


async def run_upload(n: int, mb: int, probes: int) -> int:
    import aiohttp
    from sqlmodel import select

    from bench.load import kyoso_db, server
    from bench.load.client import RxClient
    from bench.load.profiles import TOKEN_VAR, KyosoChannel
    from kyoso.db import read_scope
    from kyoso.models import Attachment

    server.raise_fd_limit()
    workdir = Path("/tmp/kyoso-files-bench-upload")
    if workdir.exists():
        import shutil  # noqa: PLC0415 - only here: a fresh work directory

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    db_url = f"sqlite:///{workdir / 'kyoso.db'}"
    os.environ["KYOSO_FILES_DIR"] = str(workdir / "files")  # the app inherits it
    app = server.start_kyoso(db_url, workdir)
    app.db_url = db_url  # type: ignore[attr-defined]
    try:
        people = kyoso_db.prepare(db_url, n)
        profile = KyosoChannel(people.slug, people.channel_id, people.tokens, people.user_ids,
                               ROOT / ".web")
        page = profile.page()
        people.token_var = TOKEN_VAR  # type: ignore[attr-defined]
        clients = [RxClient(i, app.url, page, {TOKEN_VAR: tok}) for i, tok in enumerate(people.tokens)]
        await asyncio.gather(*(c.join() for c in clients))
        print(f"{n} members joined #{people.slug}")
        handler = "reflex___state____state.kyoso___states___session____session_state." \
                  "kyoso___states___attachments____attachment_state.upload"
        from tests.utils.files import make_pdf  # noqa: PLC0415 - the bench's only use of the tests' writer

        # Half PDFs (random padding: no two alike, so nothing is deduplicated),
        # half Japanese text files; every one is checked, hashed and stored.
        pdfs = [make_pdf([f"説明会資料 {i}"], pad=os.urandom(mb * 1024 * 1024)) for i in range(n)]
        line = f"ガバメントクラウド移行の議事録 第{{}}回\n"
        texts = ["".join(line.format(i * 100_000 + k) for k in range(mb * 1024 * 1024 // 50)).encode()
                 for i in range(n)]
        base_rss = _rss_tree(app.pid)
        peak = [base_rss]
        peak_app = [base_rss]
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], _rss_tree(app.pid))
                peak_app[0] = max(peak_app[0], _rss_tree(app.pid, children_too=False))
                await asyncio.sleep(0.05)

        loads: list[float] = []

        async def probe() -> None:
            i = 0
            while not stop.is_set():
                c = RxClient(10_000 + i, app.url, page, {TOKEN_VAR: people.tokens[i % n]})
                try:
                    loads.append(await c.join() * 1000)
                finally:
                    await c.close()
                i += 1

        async def upload(session: aiohttp.ClientSession, c: RxClient, i: int) -> tuple[int, float]:
            form = aiohttp.FormData()
            if i % 2:
                form.add_field("files", io.BytesIO(texts[i]), filename=f"議事録{i}.txt", content_type="text/plain")
            else:
                form.add_field("files", io.BytesIO(pdfs[i]), filename=f"資料{i}.pdf", content_type="application/pdf")
            form.add_field("__reflex_event_args", json.dumps({"slot": "composer"}))
            t = time.perf_counter()
            async with session.post(f"{app.url}/_upload", data=form, headers={
                    "reflex-client-token": c.token, "reflex-event-handler": handler}) as r:
                text = await r.text()
                if "attach_error_rx_state_\": \"\"" not in text and "attach_error" in text:
                    print(f"  upload {i} refused: {text[:400]}")
                return r.status, time.perf_counter() - t

        sampler = asyncio.create_task(sample())
        probe_tasks = [asyncio.create_task(probe()) for _ in range(probes)]
        await asyncio.sleep(1.0)
        t0 = time.perf_counter()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
            results = await asyncio.gather(*(upload(http, c, i) for i, c in enumerate(clients)))
        wall = time.perf_counter() - t0
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(sampler, *probe_tasks, return_exceptions=True)
        with read_scope(app.db_url) as s:
            stored = len(s.exec(select(Attachment)).all())
        statuses = sorted({st for st, _ in results})
        print(f"uploads: {n} x {mb} MB in {wall:.1f} s (HTTP statuses {statuses}); attachments recorded: {stored}"
              "")
        print(f"backend memory: {base_rss / 2**20:.0f} MiB before, peak {peak[0] / 2**20:.0f} MiB "
              f"(+{(peak[0] - base_rss) / 2**20:.0f} MiB with the extraction and preview children; "
              f"+{(peak_app[0] - base_rss) / 2**20:.0f} MiB gunicorn and its worker alone)")
        if loads:
            print(f"channel page loads during the uploads: {len(loads)}, p50 {statistics.median(loads):.0f} ms, "
                  f"p95 {pct(loads, 95):.0f} ms, max {max(loads):.0f} ms")
        for c in clients:
            await c.close()
        return 0 if peak[0] - base_rss < 200 * 2**20 else 1  # the target
    finally:
        app.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--pages", type=int, default=200)
    s = sub.add_parser("search")
    s.add_argument("--n", type=int, default=100_000)
    s.add_argument("--reuse", action="store_true")
    s.add_argument("--rounds", type=int, default=5)
    u = sub.add_parser("upload")
    u.add_argument("--n", type=int, default=50)
    u.add_argument("--mb", type=int, default=10)
    u.add_argument("--probes", type=int, default=2)
    args = ap.parse_args()
    if args.what == "extract":
        run_extract(args.pages)
        return 0
    if args.what == "search":
        run_search(args.n, args.reuse, args.rounds)
        return 0
    return asyncio.run(run_upload(args.n, args.mb, args.probes))


if __name__ == "__main__":
    sys.exit(main())
