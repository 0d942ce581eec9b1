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
        cached = self._items.get(key)
        if cached is not None and cached[0] == version and time.monotonic() - cached[2] < self.seconds:
            return cached[1]
        value = make()
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[key] = (version, value, time.monotonic())
        return value

    def clear(self) -> None:
        self._items.clear()
