"""A frozen dataclass built as cheaply as a plain one.

A frozen dataclass's generated ``__init__`` stores each field through
``object.__setattr__`` (its own ``__setattr__`` refuses): ~0.17 µs a field, where a plain
store is a few ns. A search builds a handful of them (its Request, LexicalCandidates,
Ranking, StageContext, Page: ~30 fields, ~2.5 µs of a search's ~180-260 with warm caches:
docs/benchmarks/engine-speed.md, "A search's fixed cost outside the gather"). :func:`quick_init`
gives such a class an ``__init__`` with the same parameters and defaults that writes the
fields into the instance's ``__dict__``, which ``__setattr__`` does not guard: the
instance is the one the generated ``__init__`` would build (same fields, equality, repr,
hash, ``dataclasses.replace``), and still refuses assignment afterwards."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


class _Factory:
    """The default of a parameter whose field has a ``default_factory`` (as dataclasses
    writes it: the factory is called only when the argument is left out)."""

    def __repr__(self) -> str:
        return "<factory>"


_HAS_FACTORY = _Factory()


def quick_init(cls: type[T]) -> type[T]:
    """Replace the ``__init__`` of ``cls``, a ``@dataclass(frozen=True)`` without slots,
    ``__post_init__``, init-only, keyword-only or ``init=False`` fields (TypeError
    otherwise: those need what the generated ``__init__`` does)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init takes a frozen dataclass without slots")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or len(fields) != len(cls.__dataclass_fields__) or \
            any(not f.init or f.kw_only for f in fields):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__}: quick_init cannot write this __init__")
    namespace: dict[str, Any] = {"_HAS_FACTORY": _HAS_FACTORY}
    signature, body = [], []
    for f in fields:
        name = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{name}"] = f.default
            signature.append(f"{name}=_default_{name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{name}"] = f.default_factory
            signature.append(f"{name}=_HAS_FACTORY")
            body.append(f"    if {name} is _HAS_FACTORY:\n        {name} = _factory_{name}()\n")
        else:
            signature.append(name)
    body.append("    fields = self.__dict__\n")
    body.extend(f"    fields[{f.name!r}] = {f.name}\n" for f in fields)
    source = f"def __init__(self, {', '.join(signature)}):\n{''.join(body)}"
    exec(compile(source, f"<quick_init {cls.__qualname__}>", "exec"), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[misc]
    return cls
