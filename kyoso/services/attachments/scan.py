"""The optional virus-scan hook (``KYOSO_SCAN_CMD``): the command is run with
the uploaded file's path as its last argument, without a shell; exit 0 means
clean, anything else (or no answer in time) refuses the upload."""

from __future__ import annotations

import logging
import shlex
import subprocess
from pathlib import Path

from kyoso.services.errors import InvalidInput

logger = logging.getLogger("kyoso.attachments")
SCAN_SECONDS = 120
REFUSED = "ウイルス検査で問題が見つかったため、このファイルは添付できません。"
UNAVAILABLE = "ウイルス検査を実行できなかったため、添付できませんでした。しばらくしてからもう一度お試しください。"


def scan(path: Path, command: str) -> None:
    if not command.strip():
        return
    argv = [*shlex.split(command), str(path)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=SCAN_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.error("virus scan could not run: %s", exc)
        raise InvalidInput(UNAVAILABLE) from None
    if done.returncode != 0:
        logger.warning("virus scan refused an upload (exit %s): %s", done.returncode,
                       done.stdout[-500:].decode("utf-8", "replace"))
        raise InvalidInput(REFUSED)
