"""Every route string in one place, and the links into them. Plain Python:
the domain builds links with these too (inbox items, search hits, mail)."""

from __future__ import annotations

HOME = "/"
LOGIN = "/login"
SIGNUP = "/signup"
ADMIN = "/admin"
CHANNELS = "/channels"
CHANNEL = "/c/[slug]"
SEARCH = "/search"
PROFILE = "/u/[user_id]"
BRIEFINGS = "/briefings"
BRIEFING = "/briefings/[id]"
BRIEFING_PRESENT = "/briefings/[id]/present"
INBOX = "/inbox"
POLL = "/polls/[id]"
SURVEY = "/surveys/[id]"
QUESTIONS = "/questions"
# Mail (issue 15): pages before login, my settings, 運営's outbox.
PASSWORD_FORGOT = "/password/forgot"
PASSWORD_RESET = "/password/reset"  # ?token=
VERIFY = "/verify"  # ?token=
SETTINGS = "/settings"
ADMIN_MAIL = "/admin/mail"
UNSUBSCRIBE = "/unsubscribe"  # ?token= (a backend route: kyoso/unsubscribe_route.py)
# Attachments, served by the backend (kyoso/files_route.py), never as static files.
FILES = "/files"


def channel(slug: str) -> str:
    return f"/c/{slug}"


def message(slug: str, message_id: int, thread_id: int | None = None) -> str:
    """A message in its channel; with ``thread_id``, the thread panel opens on it."""
    if thread_id:
        return f"/c/{slug}?thread={thread_id}&m={message_id}"
    return f"/c/{slug}?m={message_id}"


def thread(slug: str, thread_id: int) -> str:
    """A thread, open in its channel's thread panel."""
    return message(slug, thread_id, thread_id)


def profile(user_id: int) -> str:
    return f"/u/{user_id}"


def briefing(briefing_id: int) -> str:
    return f"/briefings/{briefing_id}"


def survey(survey_id: int) -> str:
    return f"/surveys/{survey_id}"


def poll(poll_id: int) -> str:
    return f"/polls/{poll_id}"


def file(attachment_id: int) -> str:
    return f"{FILES}/{attachment_id}"


def file_preview(attachment_id: int) -> str:
    return f"{FILES}/{attachment_id}/preview"
