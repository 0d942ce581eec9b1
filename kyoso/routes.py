"""Every route string in one place."""

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


def channel(slug: str) -> str:
    return f"/c/{slug}"


def profile(user_id: int) -> str:
    return f"/u/{user_id}"
