"""Mail throughput: one 重要なお知らせ to 15,000 members, queued and sent to a
local SMTP server.

    python bench/mail_bench.py --members 15000
    python bench/mail_bench.py --members 15000 \
        --url postgresql+psycopg://kyoso@127.0.0.1:55433/kyoso_bench

Makes a fresh database (SQLite in a temporary folder unless ``--url``; a
PostgreSQL database given is emptied), adds the members with one Core insert,
then times

1. ``announcements.publish`` of an announcement marked 重要: the outbox rows
   are written in the publishing transaction (what the publisher waits for);
2. ``sender.deliver_due`` until the outbox is empty, against aiosmtpd's Sink
   server in a separate process (``python -m aiosmtpd``), so the server does
   not share this process's CPU time with the sender.

While the sender runs, a thread reads a member's inbox count and a session
row every 50 ms, the way a page load does, and reports how long those reads
took (the app keeps answering pages while mail goes out). Peak memory is the
process's maximum resident set size. Not a test: numbers depend on the
machine (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=15000)
    parser.add_argument("--url", default="", help="a PostgreSQL database the bench may empty")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kyoso-mail-bench-"))
    url = args.url or f"sqlite:///{tmp / 'bench.db'}"
    port = free_port()
    os.environ.update({"KYOSO_DATABASE_URL": url, "KYOSO_SMTP_URL": f"smtp://127.0.0.1:{port}",
                       "KYOSO_BASE_URL": "https://kyoso.example.lg.jp", "KYOSO_DEMO": "0"})

    from kyoso import db
    from kyoso.migrate import upgrade
    from kyoso.models import Channel, Outbox, OutboxStatus, Role, User, UserStatus
    from kyoso.services import accounts, announcements, channels, notifications
    from kyoso.services.mail import sender
    from kyoso.services.security import hash_password

    if url.startswith("postgresql"):
        with db.get_engine(url).begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    upgrade(url)
    hashed = hash_password("bench-password-1")
    now = db.utcnow()
    user_t = User.__table__  # type: ignore[attr-defined]
    with db.session_scope() as session:
        session.execute(sa.insert(user_t), [
            {"email": f"member{i}@city.example.lg.jp", "name": f"職員 {i}号", "org_code": "131016",
             "department": "情報政策課", "role": Role.national if i == 0 else Role.member,
             "status": UserStatus.active, "password_hash": hashed, "bio": "", "interests": "",
             "rejection_reason": "", "created_at": now, "session_epoch": 0}
            for i in range(args.members)])
    with db.session_scope() as session:
        publisher = session.exec(sa.select(User).where(User.email == "member0@city.example.lg.jp")).scalar_one()  # type: ignore[call-overload]
        reader = session.exec(sa.select(User).where(User.email == "member1@city.example.lg.jp")).scalar_one()  # type: ignore[call-overload]
        channel = channels.create_channel_unchecked(session, slug="oshirase", name="お知らせ", announcement=True)
        token = accounts.create_session(session, reader)
        channel_id = channel.id

    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                import socket

                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        t0 = time.perf_counter()
        with db.session_scope() as session:
            announcements.publish(session, publisher, announcements.AnnouncementInput(
                title="【重要】標準準拠システムへの移行期限について",
                body="移行期限の扱いが変わりました。詳細は添付の資料と説明会でお知らせします。\n" * 5,
                category="policy", channel_ids=[channel_id or 0], importance="high"))
        queue_seconds = time.perf_counter() - t0
        with db.read_scope() as session:
            queued = session.exec(sa.select(sa.func.count()).select_from(Outbox)).scalar_one()  # type: ignore[call-overload]
        rss_after_queue = rss_mb()

        reads: list[float] = []
        stop = threading.Event()

        def page_reads() -> None:
            while not stop.is_set():
                r0 = time.perf_counter()
                with db.read_scope() as session:
                    accounts.user_for_token(session, token)
                    notifications.unread_count(session, reader.id or 0)
                reads.append((time.perf_counter() - r0) * 1000)
                time.sleep(0.05)

        reader_thread = threading.Thread(target=page_reads, daemon=True)
        reader_thread.start()
        t1 = time.perf_counter()
        sent = 0
        while True:
            report = sender.deliver_due(limit=5000)
            sent += report.sent
            if report.handled == 0:
                break
        send_seconds = time.perf_counter() - t1
        stop.set()
        reader_thread.join()
        with db.read_scope() as session:
            left = session.exec(sa.select(sa.func.count()).select_from(Outbox).where(  # type: ignore[call-overload]
                Outbox.status != OutboxStatus.sent)).scalar_one()
    finally:
        server.terminate()
        server.wait()

    engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    reads.sort()
    print(f"engine: {engine}; members: {args.members:,}")
    print(f"queue (publish, one transaction): {queued:,} mails in {queue_seconds:.2f} s "
          f"({queued / queue_seconds:,.0f} mails/s); max RSS {rss_after_queue:.0f} MB")
    print(f"send (SMTP, one worker): {sent:,} mails in {send_seconds:.1f} s "
          f"({sent / send_seconds:,.0f} mails/s); not sent: {left}")
    print(f"page reads during sending: {len(reads)} reads, p50 {statistics.median(reads):.1f} ms, "
          f"p95 {reads[int(len(reads) * 0.95)]:.1f} ms, max {reads[-1]:.1f} ms")
    print(f"peak memory (max RSS of the process): {rss_mb():.0f} MB")
    return 0 if left == 0 and sent == queued else 1


if __name__ == "__main__":
    sys.exit(main())
