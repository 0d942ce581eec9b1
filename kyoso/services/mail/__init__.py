"""Outgoing mail: a durable outbox and an SMTP sender.

    outbox.py     queue mail in the caller's transaction; build the MIME message;
                  the outbox as 運営 see it (/admin/mail)
    sender.py     deliver due rows over SMTP: claim with a lease, retry with
                  backoff, at most once per Message-ID; ``kyoso mail test``
    templates.py  the words of every mail (plain text and HTML)
    prefs.py      each member's mail settings and one-click unsubscribe links
    links.py      one-time links (address confirmation, password reset)
    jobs.py       clock-driven mail: unread notifications, digests, reminders,
                  重要なお知らせ to everyone
    smtp_url.py   KYOSO_SMTP_URL

This package imports no other domain module but ``briefings`` (jobs.py, for
the .ics), so accounts, announcements and briefings may import it.
"""
