"""The component that connects the browser's Reflex state store to the live
patches (``assets/kyoso_live.js``). It renders nothing."""

from __future__ import annotations

import json

import reflex as rx

from kyoso.realtime.registry import live_state_names, me_state_name


class LiveBridge(rx.Fragment):
    """Put once in every members' page (the shell does)."""

    def add_imports(self) -> dict:
        return {
            "$/public/kyoso_live.js": [rx.ImportVar(tag="attachLive")],
            "$/utils/context-registry": [rx.ImportVar(tag="StateStoreContext")],
            "react": [rx.ImportVar(tag="useContext"), rx.ImportVar(tag="useEffect")],
        }

    def add_hooks(self) -> list[str]:
        return [
            "const kyosoStore = useContext(StateStoreContext);",
            "useEffect(() => attachLive(kyosoStore, "
            f"{json.dumps(live_state_names())}, {json.dumps(me_state_name())}), [kyosoStore]);",
        ]


def live_bridge() -> rx.Component:
    return LiveBridge.create()
