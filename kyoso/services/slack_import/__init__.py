"""Import a Slack workspace export (``kyoso import slack``).

- ``reader``: the export's files (zip or folder), safely and one day at a time
- ``mrkdwn``: Slack's mrkdwn to kyoso's Markdown; reactions to stamps
- ``people``: e-mail matching, unclaimed members, 団体 from the e-mail domain
- ``importer``: people, channels and messages, exact and resumable, in batches
- ``report``: what the import did, as text and JSON
- ``claims``: 運営 link an unclaimed member to an existing member
"""

from kyoso.services.slack_import.importer import Options, run_import
from kyoso.services.slack_import.reader import ExportError
from kyoso.services.slack_import.report import Report

__all__ = ["ExportError", "Options", "Report", "run_import"]
