"""Which Reflex states receive live patches, registered by the states
themselves: the realtime layer never imports a state (or a page).

    @realtime.live("channel")          # kyoso/states/channel.py
    class ChannelState(SessionState): ...

A live state has a ``live_patch`` var; the builders in ``fanout.py`` address
it by its registered name ("channel", "sidebar", "polls", "home",
"briefing") and patch the vars named in their ops. The state that holds the
member's own ``me`` registers with ``identity`` (``unless_me`` ops read it).
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound=type)

_LIVE: dict[str, str] = {}
_IDENTITY: list[str] = []


def live(name: str):  # type: ignore[no-untyped-def]
    """Class decorator: this state receives the live patches addressed to ``name``."""

    def register(cls: T) -> T:
        full = cls.get_full_name()  # type: ignore[attr-defined]
        if _LIVE.get(name, full) != full:
            raise ValueError(f"two live states named {name!r}")
        _LIVE[name] = full
        return cls

    return register


def identity(cls: T) -> T:
    """Class decorator: the state holding the member's own ``me``."""
    _IDENTITY[:] = [cls.get_full_name()]  # type: ignore[attr-defined]
    return cls


def state_name(name: str) -> str:
    """The Reflex state registered as ``name`` (KeyError when none is)."""
    return _LIVE[name]


def live_state_names() -> list[str]:
    return sorted(_LIVE.values())


def me_state_name() -> str:
    return _IDENTITY[0] if _IDENTITY else ""
