"""Files attached to posts, replies, お知らせ and 説明会.

    prepared = attachments.prepare(stream, name, scratch)          # no database: checks, cleaning
    view = attachments.add_upload(session, user, prepared)         # a pending upload of its member
    attachments.attach(session, user, [view.id], message=message)  # sent with the post
    download = attachments.open_download(session, user, view.id)   # checked on every request

Modules: ``checks`` (the type from the content, the allow-list, names),
``images`` (re-encoding without metadata, bombs, previews), ``extract``
(text for search, in a child process), ``storage`` (a local directory or the
database), ``scan`` (the virus-scan hook), ``files`` (the rules and records).
"""

from kyoso.services.attachments.checks import clean_name, detect
from kyoso.services.attachments.storage import scratch_root
from kyoso.services.attachments.files import (
    FILE,
    AttachmentView,
    Download,
    Prepared,
    add_upload,
    attach,
    attach_to_announcement,
    attach_to_briefing,
    check_can_see,
    check_quota,
    collect_orphans,
    extract_pending,
    for_announcements,
    for_briefings,
    for_messages,
    limit_bytes,
    open_download,
    prepare,
    read_bytes,
    receive,
    remove_pending,
    sync_message,
    text_status,
)

__all__ = [
    "FILE", "AttachmentView", "Download", "Prepared", "add_upload", "attach", "attach_to_announcement",
    "attach_to_briefing", "check_can_see", "check_quota", "clean_name", "collect_orphans", "detect",
    "extract_pending", "for_announcements", "for_briefings", "for_messages", "limit_bytes", "open_download",
    "prepare", "read_bytes", "receive", "remove_pending", "scratch_root", "sync_message", "text_status",
]
