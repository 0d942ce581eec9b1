"""Views that every reader of a room sees alike (a channel's newest page, a
説明会's question list), made once and reused while their version, read
from the database on each use, is unchanged. At most ``seconds`` old, so what
the version does not cover (an author's new name) still shows."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SharedViews(Generic[V]):
    def __init__(self, seconds: float, size: int = 1000) -> None:
        self.seconds = seconds
        self.size = size
        self._items: dict[Hashable, tuple[Hashable, V, float]] = {}

    def get_or_make(self, key: Hashable, version: Hashable, make: Callable[[], V]) -> V:
        cached = self.get(key, version)
        if cached is not None:
            return cached
        value = make()
        self.keep(key, version, value)
        return value

    def get(self, key: Hashable, version: Hashable) -> V | None:
        """The view kept for ``key`` at ``version``, if there is one (for a
        caller that makes the missing ones together)."""
        cached = self._items.get(key)
        if cached is not None and cached[0] == version and time.monotonic() - cached[2] < self.seconds:
            return cached[1]
        return None

    def keep(self, key: Hashable, version: Hashable, value: V) -> None:
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[key] = (version, value, time.monotonic())

    def clear(self) -> None:
        self._items.clear()
