"""Which Reflex states receive live patches (each has a ``live_patch`` var)."""

from __future__ import annotations

from functools import cache


@cache
def live_states() -> tuple[type, ...]:
    from kyoso.states.briefings import BriefingState
    from kyoso.states.channel import ChannelState
    from kyoso.states.home import HomeState
    from kyoso.states.polls import PollState
    from kyoso.states.sidebar import SidebarState

    return (ChannelState, SidebarState, PollState, HomeState, BriefingState)


def live_state_names() -> list[str]:
    return [s.get_full_name() for s in live_states()]


def me_state_name() -> str:
    from kyoso.states.session import SessionState

    return SessionState.get_full_name()


def state_name(cls: type) -> str:
    return cls.get_full_name()  # type: ignore[attr-defined]
