"""Search over a generated Japanese corpus: latency per query length, index size.

    python bench/search_bench.py --engine sqlite   --n 1000000
    python bench/search_bench.py --engine postgres --n 1000000 \
        --url postgresql+psycopg://kyoso@127.0.0.1:55433/kyoso_bench

Generates messages from a 自治体DX vocabulary (policy terms, 団体 names,
katakana words, ASCII terms like LGWAN/API), bulk-loads them with the search
documents and the full-text index built from the same tokenizer the app uses,
then times ``kyoso.services.search.search`` (the domain call a page makes:
match, filters, hits with snippets) for queries of 1, 2, 3-5, 6-10 characters
and mixed ASCII + Japanese, plus filtered searches and similar-question
suggestions. Prints p50/p95 per group and the index size.

``--reuse`` skips generation when the database already holds the corpus.
Not a test: numbers depend on the machine (see bench/README.md).
"""

from __future__ import annotations

import argparse
import html
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

SUBJECTS = [
    "ガバメントクラウド", "標準準拠システム", "書かない窓口", "マイナンバーカード", "公金受取口座", "コンビニ交付",
    "生成AI", "LGWAN", "庁内ネットワーク", "基幹業務システム", "住民記録システム", "税務システム", "データ移行",
    "運用経費", "RPA", "電子申請", "オンライン申請", "テレワーク", "クラウド", "情報セキュリティ", "ISMAP",
    "API連携", "SaaS", "AWS", "ガイドライン", "窓口BPR", "キャッシュレス決済", "電子契約", "文書管理システム",
    "グループウェア", "ヘルプデスク", "ベンダーロックイン", "移行計画", "共同利用", "回線費用", "議事録要約",
    "プロンプト", "スマート自治体", "地域DX", "デジタル人材", "ワークショップ", "eLTAX", "LINE公式アカウント",
    "標準化", "LGWAN接続", "インターネット接続環境", "職員研修", "αモデル", "三層分離",
]
KATAKANA = [
    "ベンダー", "スケジュール", "テスト", "リハーサル", "マニュアル", "アンケート", "サーバー", "バックアップ",
    "ライセンス", "ダッシュボード", "チャットボット", "ノウハウ", "コスト", "リスク", "セミナー", "フォーマット",
]
ENDINGS = [
    "について教えてください。", "を検討しています。", "の進め方に悩んでいます。", "はどうしていますか？",
    "を導入しました。", "の事例を共有します。", "で困っています。", "の見込みを試算しました。",
    "が遅れています。", "の説明会に参加しました。", "の資料を更新しました。", "を来年度から始めます。",
]
FILLERS = [
    "先日、", "現在、", "来月から", "今年度は", "職員3人で", "県内の町村でも", "他の団体さんの", "参考までに",
    "庁内で", "担当課として", "昨年度から", "小規模団体では", "", "", "",
]
CONNECTORS = ["の", "と", "に関する", "での", "における", "や"]

QUERIES = {
    "1": ["市", "ク", "標", "費", "の", "鍵"],
    "2": ["窓口", "経費", "移行", "連携", "札幌", "研修", "ＡＩ"],
    "3-5": ["標準化", "ガバメント", "マイナンバー", "書かない", "公金受取", "小布施町", "ﾍﾞﾝﾀﾞｰ", "回線費用"],
    "6-10": ["ガバメントクラウド", "書かない窓口", "運用経費の見込み", "データ移行のテスト", "標準準拠システム",
             "公金受取口座", "クラウド窓口", "電子契約の事例"],
    "mixed": ["LGWAN 接続", "API 連携", "RPA 導入", "生成AI ガイドライン", "AWS 経費", '"LGWAN接続"'],
}
FILTERED = [("窓口", {"channel": "ch-1"}), ("ガバメントクラウド", {"prefecture": "01"}),
            ("移行", {"date_from": "2025-01-01", "date_to": "2025-01-31"}), ("LGWAN", {"org": "011002"})]
DRAFTS = [
    "ガバメントクラウドの運用経費の見込みはどう立てていますか？",
    "書かない窓口を導入した団体さん、職員の研修はどのくらいしましたか",
    "標準準拠システムへのデータ移行テストの回数を教えてください",
    "生成AIのガイドラインで、入力してよい情報の線引きに悩んでいます",
    "LGWAN 接続の回線費用を共同利用で下げた事例はありますか",
]


# -- corpus ---------------------------------------------------------------------


def sentence(rng: random.Random, places: list[str]) -> str:
    s = rng.choice(SUBJECTS)
    parts = [rng.choice(FILLERS), s]
    if rng.random() < 0.6:
        parts += [rng.choice(CONNECTORS), rng.choice(SUBJECTS if rng.random() < 0.5 else KATAKANA)]
    parts.append(rng.choice(ENDINGS))
    if rng.random() < 0.3:
        parts.insert(0, f"{rng.choice(places)}です。")
    if rng.random() < 0.15:
        parts.append(f"{rng.randint(2, 40)}業務のうち{rng.randint(1, 9)}件は対応済みです。")
    return "".join(parts)


def message_text(rng: random.Random, places: list[str]) -> str:
    return "".join(sentence(rng, places) for _ in range(rng.choice((1, 1, 2, 2, 3))))


def setup_people(url: str, rng: random.Random) -> tuple[list[int], list[int], list[str]]:
    from sqlmodel import Session, select

    from kyoso.db import get_engine
    from kyoso.models import Channel, Organisation, User, UserStatus

    engine = get_engine(url)
    with Session(engine) as s:
        orgs = s.exec(select(Organisation)).all()
        local = [o for o in orgs if o.kind != "agency"]
        users = [User(email=f"bench{i}@example.lg.jp", name=f"職員{i}", org_code=rng.choice(local).code,
                      department="情報政策課", role="member", status=UserStatus.active, password_hash="x")
                 for i in range(2000)]
        users[0].org_code = "011002"
        s.add_all(users)
        chans = [Channel(slug=f"ch-{i}", name=f"テーマ{i}") for i in range(130)]
        s.add_all(chans)
        s.commit()
        places = [o.display_name for o in local]
        return [u.id for u in users], [c.id for c in chans], places  # type: ignore[misc]


def generate(n: int, user_ids: list[int], channel_ids: list[int], places: list[str], rng: random.Random):
    """Rows (id, channel, parent, author, text, created_at), oldest first over three years."""
    start = datetime(2023, 4, 1, tzinfo=timezone.utc)
    step = timedelta(days=3 * 365) / n
    starters: dict[int, list[int]] = {c: [] for c in channel_ids}
    for i in range(1, n + 1):
        ch = rng.choice(channel_ids)
        recent = starters[ch]
        parent = None
        if recent and rng.random() < 0.7:
            parent = rng.choice(recent[-20:])
        else:
            recent.append(i)
            if len(recent) > 40:
                del recent[:20]
        yield i, ch, parent, rng.choice(user_ids), message_text(rng, places), start + step * i


def load_sqlite(url: str, n: int, rng: random.Random) -> None:
    from kyoso.db import get_engine
    from kyoso.services.search.tokens import document_tokens

    users, chans, places = setup_people(url, rng)
    engine = get_engine(url)
    raw = engine.raw_connection()
    con = raw.driver_connection
    con.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    batch_m, batch_d, batch_f = [], [], []

    def flush() -> None:
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO message (id, channel_id, parent_id, author_id, body, body_html, created_at, "
            "reply_count, rev, is_question) VALUES (?,?,?,?,?,?,?,0,1,?)", batch_m)
        con.executemany(
            "INSERT INTO search_doc (id, kind, ref_id, channel_id, thread_id, author_id, created_at, body) "
            "VALUES (?,'message',?,?,?,?,?,?)", batch_d)
        con.executemany("INSERT INTO search_fts (rowid, grams, tails) VALUES (?,?,?)", batch_f)
        con.execute("COMMIT")
        batch_m.clear(), batch_d.clear(), batch_f.clear()

    for i, ch, parent, author, text, at in generate(n, users, chans, places, rng):
        ts = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        batch_m.append((i, ch, parent, author, text, f"<p>{html.escape(text)}</p>\n", ts,
                        parent is None and rng.random() < 0.1))
        batch_d.append((i, i, ch, parent or i, author, ts, text))
        grams, tails = document_tokens(text).text()
        batch_f.append((i, grams, tails))
        if len(batch_m) >= 20000:
            flush()
            print(f"\r  {i:,} messages ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
    if batch_m:
        flush()
    t1 = time.perf_counter()
    print(f"\n  loaded in {t1 - t0:.0f} s; optimizing the FTS5 index…", flush=True)
    con.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    con.execute("ANALYZE")
    raw.close()
    print(f"  optimized in {time.perf_counter() - t1:.0f} s")


def load_postgres(url: str, n: int, rng: random.Random) -> None:
    from kyoso.db import get_engine
    from kyoso.services.search.tokens import document_tokens, tsvector

    users, chans, places = setup_people(url, rng)
    engine = get_engine(url)
    raw = engine.raw_connection()
    con = raw.driver_connection
    t0 = time.perf_counter()
    with con.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS ix_search_doc_tsv")
        with cur.copy("COPY message (id, channel_id, parent_id, author_id, body, body_html, created_at, "
                      "reply_count, rev, is_question, edited_at, deleted_at, hidden_at, hidden_by_id, "
                      "last_reply_at, answer_id) FROM STDIN") as m_copy:
            for i, ch, parent, author, text, at in generate(n, users, chans, places, rng):
                m_copy.write_row((i, ch, parent, author, text, f"<p>{html.escape(text)}</p>\n", at, 0, 1,
                                  parent is None and rng.random() < 0.1, None, None, None, None, None, None))
                if i % 100000 == 0:
                    print(f"\r  {i:,} messages ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
        con.commit()
        print(f"\n  messages in {time.perf_counter() - t0:.0f} s; search documents…", flush=True)
        t1 = time.perf_counter()
        reader = engine.raw_connection()  # a COPY keeps its connection busy: read on another
        with reader.driver_connection.cursor(name="msgs") as read, cur.copy(
                "COPY search_doc (id, kind, ref_id, channel_id, thread_id, author_id, created_at, body, tsv) "
                "FROM STDIN") as d_copy:
            read.itersize = 20000
            read.execute("SELECT id, channel_id, parent_id, author_id, created_at, body FROM message ORDER BY id")
            for i, ch, parent, author, at, text in read:
                d_copy.write_row((i, "message", i, ch, parent or i, author, at, text,
                                  tsvector(document_tokens(text))))
        con.commit()
        reader.close()
        t2 = time.perf_counter()
        print(f"  documents in {t2 - t1:.0f} s; GIN index…", flush=True)
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("CREATE INDEX ix_search_doc_tsv ON search_doc USING gin (tsv)")
        for table in ("message", "search_doc"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
        con.commit()
        print(f"  index in {time.perf_counter() - t2:.0f} s")
    raw.close()


# -- measuring --------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def measure(url: str, rounds: int) -> None:
    from sqlmodel import select

    from kyoso.db import get_engine, read_scope
    from kyoso.models import User
    from kyoso.services import search
    from kyoso.services.search import engine as search_engine

    def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = fn()
        return (time.perf_counter() - t) * 1000, out

    with read_scope(url) as session:
        user = session.exec(select(User).where(User.email == "bench0@example.lg.jp")).one()
        groups: dict[str, list[tuple[str, object]]] = {k: [(q, None) for q in v] for k, v in QUERIES.items()}
        groups["filtered"] = [(q, f) for q, f in FILTERED]
        print(f"\n{'group':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   queries (hits on the first page)")
        for name, items in groups.items():
            times: list[float] = []
            hits: list[str] = []
            for q, f in items:
                flt = search.make_filters(session, **f) if f else None  # type: ignore[arg-type]
                search.search(session, user, q, flt)  # warm
                for _ in range(rounds):
                    ms, page = timed(lambda: search.search(session, user, q, flt))
                    times.append(ms)
                hits.append(f"{q}({len(page.hits)}{'+' if page.more else ''})")  # type: ignore[attr-defined]
            print(f"{name:<10} {statistics.median(times):8.1f} {pct(times, 95):8.1f} {max(times):8.1f}   "
                  + " ".join(hits))
        times = []
        for d in DRAFTS:
            search.similar_threads(session, user, d)
            for _ in range(rounds):
                ms, _ = timed(lambda: search.similar_threads(session, user, d))
                times.append(ms)
        print(f"{'similar':<10} {statistics.median(times):8.1f} {pct(times, 95):8.1f} {max(times):8.1f}   "
              f"{len(DRAFTS)} drafts")
        sizes = search_engine.index_size(session)
        docs = session.execute(sa.text("SELECT count(*) FROM search_doc")).scalar_one()
        print(f"\ndocuments: {docs:,}")
        for k, v in sizes.items():
            print(f"{k + ':':<22} {v / 2**20:9.1f} MiB")
        if get_engine(url).dialect.name == "postgresql":
            tsv = session.execute(sa.text("SELECT sum(pg_column_size(tsv)) FROM search_doc")).scalar_one()
            print(f"{'tsv column:':<22} {int(tsv) / 2**20:9.1f} MiB (inside documents)")
        else:
            path = get_engine(url).url.database
            print(f"{'database file:':<22} {os.path.getsize(path) / 2**20:9.1f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--n", type=int, default=1_000_000, help="messages to generate")
    ap.add_argument("--url", help="database URL (default: a SQLite file under /tmp; for postgres, required)")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs per query")
    ap.add_argument("--reuse", action="store_true", help="keep an already generated corpus")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    from kyoso import db
    from kyoso.migrate import upgrade

    if args.engine == "sqlite":
        url = args.url or f"sqlite:////tmp/kyoso-search-bench-{args.n}.db"
    else:
        if not args.url:
            ap.error("--url is required for postgres")
        url = args.url
    os.environ["KYOSO_DATABASE_URL"] = url
    rng = random.Random(args.seed)

    have = 0
    if args.reuse:
        try:
            with db.get_engine(url).connect() as c:
                have = c.execute(sa.text("SELECT count(*) FROM message")).scalar_one()
        except sa.exc.DBAPIError:
            have = 0
    if have != args.n:
        print(f"Generating {args.n:,} messages on {args.engine}…", flush=True)
        if args.engine == "sqlite":
            path = Path(db.get_engine(url).url.database or "")
            db.dispose_engines()
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        else:
            with db.get_engine(url).begin() as c:
                c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        upgrade(url)
        (load_sqlite if args.engine == "sqlite" else load_postgres)(url, args.n, rng)
        db.dispose_engines()
    else:
        print(f"Reusing {have:,} messages on {args.engine}.")
    measure(url, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
