"""``app.state`` whose attributes are found by Python's ordinary attribute lookup.

Starlette's ``State`` keeps its values in a dict and answers ``state.name`` from
``__getattr__``, which Python calls only after the ordinary lookup has failed: CPython
3.11 first makes (and then drops) an ``AttributeError`` with its formatted message, so
each read cost ~1.5-3.5 µs instead of ~0.1 (`timeit`, `app.state.services`, min of 5 x
20,000, on the shared 2-core VM). A search read ``app.state`` eight times (services,
limits, placement, search threads), a few tens of µs of the ~140 µs its request costs
the app beyond the engine (issue #18). :class:`AppState` keeps Starlette's dict, so
its every other use (items, iteration, ``_state``) is unchanged, and mirrors each value
as an instance attribute, where the ordinary lookup finds it at once.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import State


class AppState(State):
    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__init__(state)
        for key, value in (state or {}).items():
            self._mirror(key, value)

    def _mirror(self, key: Any, value: Any) -> None:
        # Not a name the class has (its storage, its methods): read through it as before.
        if key != "_state" and not hasattr(type(self), key):
            object.__setattr__(self, key, value)

    def __setattr__(self, key: Any, value: Any) -> None:
        super().__setattr__(key, value)
        self._mirror(key, value)

    def __delattr__(self, key: Any) -> None:
        super().__delattr__(key)
        if key != "_state" and key in vars(self):
            object.__delattr__(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.__setattr__(key, value)

    def __delitem__(self, key: str) -> None:
        self.__delattr__(key)
