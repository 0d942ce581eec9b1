"""The naive baseline for bench/: one rx.SharedState that every client links to."""

import os

os.environ.setdefault("REFLEX_USE_NPM", "1")

import reflex as rx  # noqa: E402

config = rx.Config(
    app_name="sharedstate_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    state_manager_mode="memory",
    disable_plugins=[rx.plugins.SitemapPlugin],
)
