"""Escaped lone surrogates in a JSON text, found on its bytes as it streams in.

JSON writes a letter past U+FFFF as an escaped surrogate pair (``\\ud834\\udd1e``); half
of a pair alone names no letter. serde_json (Meilisearch) and orjson refuse it as
malformed; yajl, ijson's backend for a JSON array of documents, wrote a lone high half
as "?" (the document stored changed, silently) and a lone low half as bytes its decoder
then failed on (a 500). The scan reads only where a text has a surrogate's escape (a
regex over each chunk, ~1 ms a MiB), and carries what it needs across chunks: the
backslashes a chunk ended with (an escape's backslash is the last of an odd run) and the
last bytes, which may hold an escape cut in two.
"""

from __future__ import annotations

import re

# A surrogate's escape, when its backslash is the last of an odd run (counted back from
# it: a pattern reading the run first made the regex try every byte, ~150 ms a MiB, where
# one opening with a literal is searched for at ~1 ms): `u` and the hex (JSON's \u escapes
# are lowercase u). A pair in one match (one step of the loop a letter past U+FFFF, where
# each half apart took ~2.4 µs); group 1: whether the first half is a high one (D800-DBFF),
# group 2: a pair's low half.
_ESCAPE = re.compile(
    rb"\\u[dD]([89abAB])[0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?|\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_BACKSLASH = 0x5C
_HELD = 11  # bytes kept for the next chunk: an escape pair but its last byte
# What may follow a high half's escape while its low half's is still arriving.
_LOW_SO_FAR = re.compile(rb"(?:\\(?:u(?:[dD](?:[c-fC-F][0-9a-fA-F]?)?)?)?)?")


class LoneSurrogate(ValueError):
    """An escaped surrogate without its other half; ``offset``: where its escape starts."""

    def __init__(self, offset: int) -> None:
        super().__init__("lone surrogate in hex escape")
        self.offset = offset


class SurrogateScanner:
    """Feed a JSON text chunk by chunk; raises :class:`LoneSurrogate` at the first
    escaped surrogate that is not half of a pair (a high one right before a low one)."""

    def __init__(self) -> None:
        self._held = b""  # the previous chunk's last bytes, scanned again with the next
        self._start = 0  # the held bytes' offset in the text
        self._slashes = 0  # backslashes right before the held bytes
        self._done = 0  # escapes starting before this offset were judged
        self._high = -1  # where a high half's escape ends, its low half not yet seen

    def feed(self, chunk: bytes) -> None:
        data = self._held + chunk
        for m in _ESCAPE.finditer(data):
            at = self._start + m.start()
            if at >= self._done:
                first = m.start()  # the run's first backslash (each run is walked once)
                while first and data[first - 1] == _BACKSLASH:
                    first -= 1
                # An even run: an escaped backslash, then the letters "ud...".
                if (m.start() - first + 1 + (self._slashes if first == 0 else 0)) & 1:
                    if m.group(1):
                        self._check_pending(-1)  # a high half right after a high half
                        self._high = at + 6
                    else:
                        self._low(at)
                self._done = at + 6
            # A pair's low half (an escape: a hex digit before it), also where its high
            # half was judged with the chunk before.
            if m.group(2) and at + 6 >= self._done:
                self._low(at + 6)
                self._done = at + 12
        if self._high != -1:  # no low half's escape after it: the bytes there say so?
            after = data[self._high - self._start : self._high - self._start + 6]
            if len(after) == 6 or not _LOW_SO_FAR.fullmatch(after):
                raise LoneSurrogate(self._high - 6)
        cut = max(len(data) - _HELD, 0)
        before = data[:cut]
        trailing = len(before) - len(before.rstrip(b"\\"))
        self._slashes = trailing + (self._slashes if trailing == len(before) else 0)
        self._held, self._start = data[cut:], self._start + cut

    def finish(self) -> None:
        """The text ended: a high half still waiting for its low one is alone."""
        if self._high != -1:
            raise LoneSurrogate(self._high - 6)

    def _low(self, at: int) -> None:
        """A low half's escape at ``at``: the end of the high half's before it, or alone."""
        if self._high != at:
            self._check_pending(at)
            raise LoneSurrogate(at)
        self._high = -1

    def _check_pending(self, at: int) -> None:
        """A high half waiting for its low one, which an escape at ``at`` is not (-1:
        none is)."""
        if self._high != -1 and self._high != at:
            raise LoneSurrogate(self._high - 6)
