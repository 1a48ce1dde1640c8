"""How deeply a JSON text nests, measured on its bytes before any parser builds it.

Parsers pay for depth before they can refuse it: ijson keeps a prefix string per level
(memory grows with the square of the depth: 40,000 levels, 78 KiB, took 3.8 GiB) and
orjson cannot serialise what it parsed beyond 255 levels. The scan is vectorised (numpy,
a few passes per chunk) and streaming: it carries its state across chunks, so a payload
is checked in pieces as it is read.
"""

from __future__ import annotations

import numpy as np

MAX_DEPTH = 128  # serde_json's recursion limit, which Meilisearch's payload parsing has
# Bytes scanned at once: the scratch arrays hold 8 bytes per bracket or quote, so a window
# bounds the scan's memory (~10 MiB) whatever the size of the text.
WINDOW = 256 << 10

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
# `[` and `{` (and `]` and `}`) differ by one bit: OR-ing it in folds each pair into one.
_CASE_BIT, _OPEN, _CLOSE = 0x20, ord("{"), ord("}")


class TooDeep(ValueError):
    """The text nests beyond the limit; `offset` is where it first does."""

    def __init__(self, limit: int, offset: int) -> None:
        super().__init__(f"recursion limit of {limit} nested arrays or objects exceeded")
        self.limit, self.offset = limit, offset


class DepthScanner:
    """Feed a JSON text chunk by chunk; raises :class:`TooDeep` once it nests too deep.

    State between chunks: the depth, whether the chunk boundary falls inside a string,
    and the length of the run of backslashes the previous chunk ended with (a quote is
    escaped when an odd number of backslashes comes right before it)."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.trailing_backslashes = 0
        self.offset = 0

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        for start in range(0, len(view), WINDOW):
            self._feed(view[start : start + WINDOW])

    def _feed(self, chunk: memoryview) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8)
        quotes = np.flatnonzero(data == _QUOTE)
        if quotes.size:
            quotes = quotes[~self._escaped(data, quotes)]
        folded = data | _CASE_BIT
        is_open = folded == _OPEN
        brackets = np.flatnonzero(is_open | (folded == _CLOSE))
        if brackets.size:
            # A bracket is structure when an even number of quotes precedes it.
            quotes_before = np.searchsorted(quotes, brackets) + int(self.in_string)
            outside = brackets[(quotes_before & 1) == 0]
            steps = np.where(is_open[outside], 1, -1)
            depths = np.cumsum(steps) + self.depth
            over = np.flatnonzero(depths > self.limit)
            if over.size:
                raise TooDeep(self.limit, self.offset + int(outside[over[0]]))
            if depths.size:
                self.depth = int(depths[-1])
        self.in_string = bool((quotes.size + int(self.in_string)) & 1)
        self.trailing_backslashes = self._trailing(data)
        self.offset += data.size

    def _escaped(self, data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
        """For each quote position, whether an odd run of backslashes comes right before it."""
        escaped = np.zeros(quotes.size, dtype=bool)
        after_backslash = quotes > 0
        after_backslash[after_backslash] = data[quotes[after_backslash] - 1] == _BACKSLASH
        at_start = quotes == 0
        if not after_backslash.any() and not (at_start.any() and self.trailing_backslashes):
            return escaped
        slashes = np.flatnonzero(data == _BACKSLASH)
        # Each backslash's run start: where the run of consecutive positions begins.
        breaks = np.ones(slashes.size, dtype=bool)
        breaks[1:] = np.diff(slashes) != 1
        run_start = slashes[np.maximum.accumulate(np.where(breaks, np.arange(slashes.size), 0))]
        which = np.flatnonzero(after_backslash)
        last = np.searchsorted(slashes, quotes[which] - 1)
        starts = run_start[last]
        runs = quotes[which] - starts
        runs += np.where(starts == 0, self.trailing_backslashes, 0)  # continues last chunk's run
        escaped[which] = (runs & 1) == 1
        if at_start.any():
            escaped[at_start] = (self.trailing_backslashes & 1) == 1
        return escaped

    def _trailing(self, data: np.ndarray) -> int:
        if data[-1] != _BACKSLASH:
            return 0
        others = np.flatnonzero(data != _BACKSLASH)
        if others.size == 0:
            return self.trailing_backslashes + data.size
        return int(data.size - 1 - others[-1])


def check_depth(text: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` when the whole JSON `text` nests deeper than `limit`."""
    # A text cannot nest deeper than it has opening brackets: two counts in C spare the
    # scan's dozen numpy calls (~50 µs) for every ordinary body, a search's included.
    if text.count(b"[") + text.count(b"{") <= limit:
        return
    DepthScanner(limit).feed(text)
