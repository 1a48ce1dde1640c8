"""Text analysis: tokenize, normalize, stem.

A token keeps its character offsets in the original text (for highlighting and
``_matchesPosition``) next to its normalized form (for matching). Normalization
lowercases (casefold) and, for Latin/Greek/Cyrillic words, folds accents via
NFKD + dropping combining marks, so "Élan" matches "elan". CJK ideographs, kana
and Hangul syllables become one token per character: a unigram index finds any
substring of a CJK query, and the proximity rules reward adjacent characters,
which is what a bigram index would buy, without doubling the postings.

Stemming (English Snowball, PyStemmer) is applied on top of normalized words
and only used by the relevance rule to group variants; the exact normalized word
is what the index stores, so exactness and highlighting stay precise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final, NamedTuple

import numpy as np
import Stemmer

from sift.engine.kernels import distinct_words

_CJK_RANGES: Final = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
CJK_CHAR: Final = f"[{_CJK_RANGES}]"
# letters, digits and combining marks, but not underscore and not CJK
_WORD_CHAR: Final = rf"[^\W_{_CJK_RANGES}]|\p{{M}}"

# Words a typical English query carries that say nothing about the topic. Only
# the relevance rule uses this list (as a weak prior); it never removes words
# from the index and is independent of the user's stopWords setting.
ENGLISH_STOP_WORDS: Final = frozenset(
    [
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
        "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
        "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during",
        "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
        "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
        "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself",
        "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our", "ours",
        "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such",
        "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
        "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
        "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
        "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
        "yourselves",
    ]
)


# A longer run of letters is cut into words of this length, as it is read: work on a word
# (prefixes, typo variants, highlighting) grows with its length, and a megabyte "word" in a
# document or a query took seconds and hundreds of MiB. Meilisearch indexes at most 255
# bytes of a word.
MAX_WORD_CHARS: Final = 255

# Slots a word may probe in kernels.distinct_words before its words are taken as strings
# instead (text made to collide in its unkeyed hash).
MAX_PROBES: Final = 64

# Hard separators end a sentence: words on either side are not "close", so the
# proximity rules see a gap (Meilisearch counts such a pair as distance 8).
_HARD = re.compile(r"[.;!?…]+(?=\s|$)|[\u3002\uff01\uff1f\uff1b]|\n\s*\n")
SENTENCE_GAP: Final = 7
_HARD_CHARS: Final = ".;!?…\u3002\uff01\uff1f\uff1b"  # or a newline starts each match


# Joins the texts of a batch for one regex pass: never a word character, never part of a
# word the pattern matches (texts, separators or dictionary entries holding it fall back).
_MARK: Final = "\x01"

# Never letters of a word, whatever nonSeparatorTokens and the dictionary say: the sorted
# vocabulary is numpy's fixed-width unicode order, which drops a string's trailing NULs
# ("ab\x00" == "ab"), and a prefix's terms are those before prefix + U+10FFFF
# (sift.engine.vocab, kernels.expansion), so words holding them missed prefix and typo
# answers (docs/benchmarks/hostile-input.md, "NUL and U+10FFFF are never letters"). Neither
# is a letter by default (\w takes neither); as separators they stay out of every term.
NEVER_LETTERS: Final = frozenset("\x00\U0010ffff")


class Sentences(NamedTuple):
    """``[analyzer.sentences(t) for t in texts]``, flattened."""

    # The words of every non-empty sentence, text after text; with ``codes``, each distinct
    # word once (in order of first appearance) and ``codes`` the words by their numbers.
    words: list[str]
    lengths: np.ndarray  # words in each non-empty sentence (int64)
    per_text: np.ndarray  # non-empty sentences of each text (int64)
    codes: np.ndarray | None = None  # each word's position in ``words`` (int64)

    def every_word(self) -> list[str]:
        """The words of every non-empty sentence, repeats included."""
        if self.codes is None:
            return self.words
        return list(map(self.words.__getitem__, self.codes.tolist()))


class Token(NamedTuple):
    norm: str  # normalized form used for matching
    start: int  # character offset in the original text
    end: int  # character offset one past the token


def _is_foldable(word: str) -> bool:
    # Accent folding is safe for scripts where marks are diacritics on a base
    # letter; in e.g. Devanagari or Hebrew, dropping marks changes the word.
    return all(ord(c) < 0x0530 for c in word)


@lru_cache(maxsize=200_000)
def normalize(word: str) -> str:
    """Lowercase and fold accents of one word (cached: vocabularies repeat)."""
    lowered = word.casefold()
    if lowered.isascii():
        return lowered
    if _is_foldable(lowered):
        decomposed = unicodedata.normalize("NFKD", lowered)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        # A word of marks alone (the pattern takes them as letters) keeps them: folded
        # it was the empty term, and an empty query word's typo search read its first
        # letter (IndexError, a 500, where minWordSizeForTypos' oneTypo is 0).
        if folded:
            return folded
    return unicodedata.normalize("NFKC", lowered)


class Analyzer:
    """Tokenizer configured by the index's separator, non-separator and dictionary settings."""

    def __init__(
        self,
        separators: Iterable[str] = (),
        non_separators: Iterable[str] = (),
        dictionary: Iterable[str] = (),
    ) -> None:
        seps = sorted({s for s in separators if s}, key=len, reverse=True)
        letters = {c for s in non_separators for c in s} - NEVER_LETTERS
        extra = "".join(re.escape(c) for c in sorted(letters))
        dictionary = [d for d in dictionary if NEVER_LETTERS.isdisjoint(d)]
        word = f"(?:{_WORD_CHAR}|[{extra}])" if extra else f"(?:{_WORD_CHAR})"
        if seps:
            stop = "|".join(re.escape(s) for s in seps)
            word = f"(?:(?!{stop}){word})"
        parts = [re.escape(w) for w in sorted({d for d in dictionary if d}, key=len, reverse=True)]
        parts += [CJK_CHAR, f"{word}{{1,{MAX_WORD_CHARS}}}"]
        self._pattern = _compile("|".join(parts))
        self._marked = _compile("|".join([*parts, _MARK]))  # the pattern, plus the mark
        # Lowercased ASCII without custom tokens: a word is a run of letters and digits.
        plain = not (seps or extra or parts[:-2])
        self._ascii_marked = (re.compile(f"[a-z0-9]{{1,{MAX_WORD_CHARS}}}|{_MARK}")
                              if plain else self._marked)
        self._plain = plain  # words of ASCII texts: runs of letters and digits
        self._markable = not any(_MARK in x for x in (*seps, *dictionary))
        self._dictionary = {normalize(d) for d in dictionary}
        # Lowercasing a whole ASCII text before matching equals normalising each word,
        # unless a custom separator or dictionary entry has capitals of its own.
        self._ascii_fast = all(x == x.lower() for x in (*seps, *dictionary))

    def tokens(self, text: str) -> list[Token]:
        """All tokens of ``text`` with offsets, in order."""
        return [Token(normalize(m.group()), m.start(), m.end())
                for m in self._pattern.finditer(text)]

    def words(self, text: str) -> list[str]:
        """Normalized words only (queries, indexing)."""
        if self._ascii_fast and text.isascii():
            return self._pattern.findall(text.lower())
        return [normalize(m) for m in self._pattern.findall(text)]

    def sentences(self, text: str) -> list[list[str]]:
        """Normalized words of each sentence (split on hard separators)."""
        if not _HARD.search(text):  # the common case: one sentence, no splitting
            words = self.words(text)
            return [words] if words else []
        return [w for w in (self.words(part) for part in _HARD.split(text)) if w]

    def sentences_many(self, texts: list[str]) -> Sentences:
        """The sentences of every text, as :meth:`sentences` finds them, in one regex
        pass over the texts joined by a mark instead of two passes per text (indexing a
        batch: a per-text call was a third of the time)."""
        checked = "\n".join(texts)  # a hard separator at a text's end still has \s after
        if not self._markable or _MARK in checked:
            return _flattened([self.sentences(t) for t in texts])
        if _may_split(checked, len(texts)) and _HARD.search(checked):
            split = [_HARD.split(t) for t in texts]
            parts = [p for ps in split for p in ps]
            per_text = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        else:
            parts, per_text = texts, np.ones(len(texts), dtype=np.int64)
        plain = _plain_words(parts) if self._plain else None
        codes = None
        if plain is not None:
            words, counts, codes = plain
        else:
            words, counts = self._marked_words(parts)
        kept = counts > 0  # a part with no words is no sentence
        starts = np.cumsum(per_text) - per_text
        per_sentence = (np.add.reduceat(kept.astype(np.int64), starts) if starts.size
                        else starts)
        return Sentences(words, counts[kept], per_sentence, codes)

    def _marked_words(self, parts: list[str]) -> tuple[list[str], np.ndarray]:
        """The words of every part, and how many each has: one regex pass over the parts
        joined by marks (per run of ASCII or other parts)."""
        tokens: list[str] = []
        for i, (fast, run) in enumerate(_runs(parts, self._ascii_fast)):
            if i:
                tokens.append(_MARK)
            joined = _MARK.join(run)
            if fast:
                tokens += self._ascii_marked.findall(joined.lower())
            else:
                tokens += map(normalize, self._marked.findall(joined))
        stream = np.array(tokens, dtype=object)
        marks = np.flatnonzero(stream == _MARK)
        # Words per part: the gaps between marks.
        counts = (np.diff(np.concatenate(([-1], marks, [len(tokens)]))) - 1)[: len(parts)]
        words = np.delete(stream, marks).tolist() if marks.size else tokens
        return words, counts


# ASCII letters and digits to themselves lowercased, every other byte to a space: in
# ASCII text, the words `[a-z0-9]+` finds after lower() are then what split() finds.
_PLAIN_BYTES: Final = bytes(
    c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32
    for c in range(256)
)


def _plain_words(parts: list[str]
                 ) -> tuple[list[str], np.ndarray, np.ndarray | None] | None:
    """The distinct words of ASCII parts with the default tokens (in order of first
    appearance), how many words each part has, and each word's position among the
    distinct ones (None: the words are every word, when they were made to collide in
    kernels.distinct_words); None when a part is not ASCII or a word is longer than
    MAX_WORD_CHARS (the regex cuts it).

    A byte table finds the words, and numpy counts the word starts between the parts'
    boundaries: the regex over the marked texts, then numpy over an array of the words to
    find the marks, was a fifth of indexing a batch of small documents. The words are
    told apart on their bytes (kernels.distinct_words): a batch of products repeats a
    few hundred words, and a Python string and a dict lookup for every occurrence were
    the largest part of indexing left (docs/benchmarks/ingestion.md, "Term ids from the words'
    bytes")."""
    joined = _MARK.join(parts)
    if not joined.isascii():
        return None
    table = joined.encode("ascii").translate(_PLAIN_BYTES)
    letters = np.frombuffer(table, dtype=np.uint8) != 32
    edges = np.flatnonzero(np.diff(letters, prepend=False, append=False))
    # Each word's [first, end) byte (contiguous: what kernels.distinct_words is built for).
    firsts, ends = np.ascontiguousarray(edges[::2]), np.ascontiguousarray(edges[1::2])
    if firsts.size and int((ends - firsts).max()) > MAX_WORD_CHARS:
        return None
    # A part's words start between its boundaries: the marks, which are never letters.
    bounds = np.flatnonzero(np.frombuffer(joined.encode("ascii"), dtype=np.uint8) == ord(_MARK))
    before = np.searchsorted(firsts, bounds)
    counts = np.diff(np.concatenate(([0], before, [firsts.size])))[: len(parts)]  # [] of []
    codes, reps = distinct_words(np.frombuffer(table, dtype=np.uint8), firsts, ends,
                                 MAX_PROBES)
    if codes.size != firsts.size:  # words made to collide (see distinct_words): every word
        return table.decode("ascii").split(), counts, None
    # The distinct words' bytes, each with the byte after it (a space: the table maps
    # every other byte to one), then split as the whole text used to be.
    spaced = np.frombuffer(table + b" ", dtype=np.uint8)
    rep_firsts = firsts[reps]
    picked = spaced[spans(rep_firsts, ends[reps] - rep_firsts + 1)]
    return picked.tobytes().decode("ascii").split(), counts, codes


def spans(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lens)])``, without a loop."""
    ends = np.cumsum(lens)
    return np.repeat(starts - ends + lens, lens) + np.arange(int(ends[-1]) if lens.size else 0)


def _may_split(joined: str, texts: int) -> bool:
    """Whether texts joined by newlines may hold a hard separator (quick: no regex)."""
    return joined.count("\n") >= texts or any(c in joined for c in _HARD_CHARS)


def _runs(parts: list[str], ascii_fast: bool) -> list[tuple[bool, list[str]]]:
    """Consecutive parts that :meth:`Analyzer.words` lowercases whole (ASCII, when the
    settings allow it) or normalises word by word."""
    if ascii_fast and "".join(parts).isascii():
        return [(True, parts)]
    runs: list[tuple[bool, list[str]]] = []
    for part in parts:
        fast = ascii_fast and part.isascii()
        if runs and runs[-1][0] == fast:
            runs[-1][1].append(part)
        else:
            runs.append((fast, [part]))
    return runs


def _flattened(sentences: list[list[list[str]]]) -> Sentences:
    lengths = [len(words) for text in sentences for words in text]
    return Sentences([w for text in sentences for words in text for w in words],
                     np.asarray(lengths, dtype=np.int64),
                     np.asarray([len(text) for text in sentences], dtype=np.int64))


def _compile(pattern: str) -> re.Pattern[str]:
    # \p{M} is not supported by the stdlib re; spell combining marks as ranges.
    pattern = pattern.replace(r"\p{M}", "[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a"
                              "\u064b-\u065f\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
                              "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff"
                              "\u20d0-\u20ff\ufe20-\ufe2f]")
    return re.compile(pattern)


# Without PyStemmer's cache (10,000 words): a vocabulary's new words miss it, and purging
# the full cache made stemming 200k new terms (every document's id) five times slower.
_STEMMER = Stemmer.Stemmer("english", 0)


def stem_words(words: list[str]) -> list[str]:
    """English Snowball stems (PyStemmer's C implementation, one call per batch)."""
    return list(_STEMMER.stemWords(words))


def stem_word(word: str) -> str:
    """One word's English Snowball stem (``stem_words([word])[0]`` without the lists)."""
    return _STEMMER.stemWord(word)  # type: ignore[no-any-return]


def is_cjk(word: str) -> bool:
    return len(word) == 1 and re.fullmatch(CJK_CHAR, word) is not None
