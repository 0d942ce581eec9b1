"""The ASGI app of one kyoso node in production (deploy/systemd/kyoso.service):

    gunicorn --preload --worker-class kyoso.ops.worker.UvicornWorker ... 'kyoso.ops.serve:asgi()'

It serves the frontend built beforehand (``reflex export --frontend-only
--no-zip`` with REFLEX_API_URL set to the public URL, deploy/README.md) and
never compiles or builds: several nodes start from one build, and a node
restarts in seconds. This is what ``reflex run --env prod --single-port``
does after its build step (reflex/utils/exec.py ``run_backend_prod``), with
Reflex's own switches for it set through its environment API.
"""

from __future__ import annotations

from typing import Any

from reflex_base import constants
from reflex_base.environment import environment


def asgi() -> Any:
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.set(True)
    # Imported here, not at the top: the app module reads the environment
    # above while it builds the app.
    from kyoso.kyoso import app

    return app()
