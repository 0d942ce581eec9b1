"""A tab's state tree, each state made when it is first used (issue 20:
memory per connected client).

Reflex 0.10.1's in-memory state manager makes, for every new tab, an
instance of all 31 state classes (kyoso's 26 and Reflex's own): ~18 KiB per
tab before any value (two sets and a dict each), and ~0.09 ms of CPU per
arrival. A channel page uses about a third of them; the login, admin,
survey and directory states of a channel's reader are never touched.

Here the root a tab's state is kept under starts with no substates, and its
``substates`` mapping makes one the first time it is looked up: by
``get_state``/``get_substate`` (Reflex checks ``name in substates`` and then
indexes it), by a delta of a state that is always dirty, by a dependency of
a computed var. Iterating the mapping (``reset``, Reflex's ``dict``) sees only
the states made so far: the others are at their defaults, which a reset
leaves alone, and which the hydrate (``reflex_page_load.snapshot``) sends
from the classes when the browser does not hold them already.

Only the in-memory manager's trees are made this way: with Redis, Reflex
already loads the states an event needs, and Reflex's own
``State(_reflex_internal_init=True)`` elsewhere (its compiler, tests) still
makes the whole tree.
"""

from __future__ import annotations

import functools
from typing import Any

from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken

_kinds: dict[tuple[type, str], type] = {}


def substate_class(parent: type, name: str) -> type | None:
    """``parent``'s substate class called ``name`` (None if there is none)."""
    found = _kinds.get((parent, name))
    if found is None:
        for cls in parent.get_substates():  # type: ignore[attr-defined]
            if cls.get_name() == name:
                found = _kinds[(parent, name)] = cls
                break
    return found


class Substates(dict):  # type: ignore[type-arg]
    """A state's substates, each made on first use (the module's docstring)."""

    __slots__ = ("owner",)

    def __init__(self, owner: Any) -> None:
        super().__init__()
        self.owner = owner

    def __missing__(self, name: str) -> Any:
        cls = substate_class(type(self.owner), name)
        if cls is None:
            raise KeyError(name)
        return dict.setdefault(self, name, make(cls, parent=self.owner))

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or (
            isinstance(name, str) and substate_class(type(self.owner), name) is not None)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def made(self, name: str) -> bool:
        """Whether the substate ``name`` has been made (without making it)."""
        return dict.__contains__(self, name)


def make(cls: type, parent: Any = None) -> Any:
    """An instance of ``cls`` whose substates are made on first use."""
    state = cls(parent_state=parent, init_substates=False, _reflex_internal_init=True)
    object.__setattr__(state, "substates", Substates(state))
    return state


def is_made(state: Any, name: str) -> bool:
    """Whether ``state``'s substate ``name`` exists already (a whole tree's
    are all made)."""
    substates = state.substates
    return substates.made(name) if isinstance(substates, Substates) else name in substates


def makes_on_use(state: Any) -> bool:
    """Whether ``state``'s missing substates are made when looked up (not so
    in Reflex's own trees: with Redis, those an event did not load)."""
    return isinstance(state.substates, Substates)


def _lazy_roots(get_or_create: Any) -> Any:
    @functools.wraps(get_or_create)
    def get_or_create_state(self: Any, token: Any) -> Any:
        if isinstance(token, BaseStateToken) and token.cache_key not in self.states:
            self.states[token.cache_key] = make(token.cls.get_root_state())
        return get_or_create(self, token)

    get_or_create_state.kyoso_lazy = True  # type: ignore[attr-defined]
    return get_or_create_state


def install() -> None:
    """Make the in-memory manager's new trees this way (idempotent; called by
    ``reflex_page_load.install``, which checks Reflex's version first)."""
    current = StateManagerMemory._get_or_create_state
    if not getattr(current, "kyoso_lazy", False):
        StateManagerMemory._get_or_create_state = _lazy_roots(current)  # type: ignore[method-assign]

