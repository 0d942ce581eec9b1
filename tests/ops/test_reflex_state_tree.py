"""A tab's state tree made as it is used (kyoso/ops/reflex_state_tree.py);
that pages behave the same on it is tested through the states
(tests/states, whose trees are made this way) and the browser tests."""

from __future__ import annotations

import pytest
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken
from reflex.state import OnLoadInternalState, State

import kyoso.kyoso  # noqa: F401 - the app, which installs it
from kyoso.ops import reflex_state_tree
from kyoso.states.channel import ChannelState
from kyoso.states.session import SessionState

SESSION = SessionState.get_name()


def names(state: object) -> list[str]:
    return [state.get_name(), *(n for sub in state.substates.values() for n in names(sub))]  # type: ignore[attr-defined]


async def test_a_state_is_made_when_it_is_first_looked_up_and_only_its_parents_with_it() -> None:
    root = reflex_state_tree.make(State)
    assert names(root) == [State.get_name()]
    assert SESSION in root.substates and "no_such_state" not in root.substates
    with pytest.raises(KeyError):
        root.substates["no_such_state"]
    assert not reflex_state_tree.is_made(root, SESSION)

    channel = await root.get_state(ChannelState)
    assert isinstance(channel, ChannelState) and channel.parent_state.parent_state is root
    assert names(root) == [State.get_name(), SESSION, ChannelState.get_name()]
    assert await root.get_state(ChannelState) is channel  # made once
    assert root.substates.get("no_such_state") is None


async def test_the_memory_manager_keeps_each_new_tab_in_a_tree_made_as_it_is_used() -> None:
    manager = StateManagerMemory()
    token = BaseStateToken(ident="tab-1", cls=State)
    async with manager.modify_state(token) as root:
        assert names(root) == [State.get_name()]
        await root.get_state(OnLoadInternalState)
    async with manager.modify_state(token) as again:
        assert again is root and names(again) == [State.get_name(), OnLoadInternalState.get_name()]


def test_installing_twice_wraps_reflexs_manager_once() -> None:
    first = StateManagerMemory._get_or_create_state
    reflex_state_tree.install()
    assert StateManagerMemory._get_or_create_state is first and first.kyoso_lazy  # type: ignore[attr-defined]
