"""The local buckets answer "full" without asking the store only when that is the store's
answer too (sift/http/throttle/buckets.py, Refills)."""

from __future__ import annotations

import pytest

from sift.http.throttle import buckets as buckets_module
from sift.http.throttle.buckets import Buckets


async def test_the_shortcut_agrees_with_the_store() -> None:
    gate = Buckets("auth-failures", "1/s burst 2", None, "test")
    assert await gate.wait("10.0.0.1") == 0.0  # never spent from
    await gate.take("10.0.0.1")
    assert await gate.wait("10.0.0.1") == 0.0  # one token left
    await gate.take("10.0.0.1")
    assert await gate.wait("10.0.0.1") > 0.5  # empty: the store is asked and says so
    assert await gate.wait("10.0.0.2") == 0.0  # another address is untouched


async def test_an_emptied_bucket_is_never_called_full_past_the_tracked_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = Buckets("auth-failures", "1/m burst 1", None, "test")
    monkeypatch.setattr(buckets_module, "LOCAL_KEYS", 2)  # tracked; the store keeps more
    for address in ("a", "b", "c"):  # "c" is spent from beyond the tracked two
        await gate.take(address)
    assert [await gate.wait(a) > 0 for a in ("a", "b", "c")] == [True, True, True]
    assert await gate.wait("d") == 0.0  # untouched: asked of the store, which agrees
