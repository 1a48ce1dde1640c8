"""Tokenizer offsets and normalization, custom separators, stemming."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sift.engine.analysis import Analyzer, is_cjk, normalize, stem_words


def test_tokens_keep_offsets_into_the_original_text() -> None:
    text = "Héllo, wörld! déjà-vu"
    tokens = Analyzer().tokens(text)
    assert [t.norm for t in tokens] == ["hello", "world", "deja", "vu"]
    assert [text[t.start:t.end] for t in tokens] == ["Héllo", "wörld", "déjà", "vu"]


def test_cjk_is_one_token_per_character() -> None:
    tokens = Analyzer().tokens("東京タワー is tall")
    assert [t.norm for t in tokens[:4]] == ["東", "京", "タ", "ワ"]
    assert tokens[-1].norm == "tall"
    assert is_cjk("東") and not is_cjk("a")


def test_emoji_and_underscore_separate_words() -> None:
    assert Analyzer().words("rocket🚀launch great_stuff") == ["rocket", "launch", "great", "stuff"]


def test_non_latin_scripts_keep_their_marks() -> None:
    assert normalize("नमस्ते") == "नमस्ते"
    assert normalize("Straße") == "strasse"
    assert normalize("ÉCOLE") == "ecole"


def test_separator_non_separator_and_dictionary_settings() -> None:
    analyzer = Analyzer(separators=["|"], non_separators=["+", "#"], dictionary=["J. R. R."])
    assert analyzer.words("C++ and C# by J. R. R. Tolkien a|b") == [
        "c++", "and", "c#", "by", "j. r. r.", "tolkien", "a", "b"]


def test_nul_and_u10ffff_separate_words_whatever_the_settings_say() -> None:
    """The vocabulary's order cannot tell a term's trailing NULs and ends a prefix's terms
    at U+10FFFF (sift.engine.vocab): as letters they gave wrong prefix answers."""
    a = Analyzer(non_separators=["\x00", "\U0010ffff", "-"], dictionary=["q\x00r", "s-t"])
    assert a.words("ab\x00\x00 c-d\U0010ffffe q\x00r s-t") == ["ab", "c-d", "e", "q", "r", "s-t"]
    assert [t.norm for t in a.tokens("x\x00y")] == ["x", "y"]


def test_english_stemming_groups_variants() -> None:
    assert stem_words(["running", "runs", "connection", "connected"]) == [
        "run", "run", "connect", "connect"]


@given(st.text(max_size=60))
def test_every_token_is_the_normalized_slice_it_points_at(text: str) -> None:
    for token in Analyzer().tokens(text):
        assert 0 <= token.start < token.end <= len(text)
        assert normalize(text[token.start:token.end]) == token.norm


TEXTS = st.lists(
    st.text(alphabet=st.sampled_from(list("aZ9 .;!?\n…-_@éÇß日\u0301\x00\x01İ")), max_size=30)
    | st.sampled_from(["A b", "x" * 300, "end.", "a\n\nb", "", "ÉLAN vital"]),
    max_size=12,
)
ANALYZERS = st.sampled_from([
    Analyzer(),
    Analyzer(separators=["-", "Z"], non_separators=["@"], dictionary=["a b", "x."]),
    Analyzer(dictionary=["AB"]),
])


@given(ANALYZERS, TEXTS)
def test_sentences_of_many_texts_are_each_texts_sentences(analyzer: Analyzer,
                                                          texts: list[str]) -> None:
    each = [analyzer.sentences(t) for t in texts]
    many = analyzer.sentences_many(texts)
    assert many.every_word() == [w for text in each for sentence in text for w in sentence]
    if many.codes is not None:  # the distinct words, in order of first appearance
        assert many.words == list(dict.fromkeys(many.every_word()))
    assert many.lengths.tolist() == [len(sentence) for text in each for sentence in text]
    assert many.per_text.tolist() == [len(text) for text in each]


ASCII_TEXTS = st.lists(
    st.text(alphabet=st.sampled_from(list("aZ9 .,;!?\n\t-_@/'\"\x00\x7f")), max_size=40)
    | st.sampled_from(["A b", "x" * 255, "y" * 256 + " z", "end.", "a\n\nb", "", "2024-05"]),
    max_size=12,
)


@given(ASCII_TEXTS)
def test_ascii_words_by_byte_table_are_the_regex_words(texts: list[str]) -> None:
    # The byte-table path (analysis._plain_words) against the regex over marked texts
    # it replaced for ASCII with the default tokens; None only for a word it must cut.
    from sift.engine.analysis import _plain_words

    analyzer = Analyzer()
    plain = _plain_words(texts)
    regex_words, regex_counts = analyzer._marked_words(texts)
    if plain is None:
        assert any(len(w) == 255 for w in regex_words)
        return
    distinct, counts, codes = plain
    assert codes is not None
    assert [distinct[c] for c in codes.tolist()] == regex_words
    assert distinct == list(dict.fromkeys(regex_words))  # each once, first seen first
    assert counts.tolist() == regex_counts.tolist()
    each = [analyzer.sentences(t) for t in texts]
    assert analyzer.sentences_many(texts).every_word() == [w for t in each for s in t for w in s]


def test_words_made_to_collide_are_taken_as_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_PROBES slots probed for one word, the batch's words are every word, as
    str.split finds them (no codes): 0 probes allowed, 3,000 distinct words surely share
    a slot."""
    from sift.engine import analysis

    texts = [f"w{i} Shared w{i} x{i % 7}" for i in range(1_500)]
    kept = analysis._plain_words(texts)
    assert kept is not None and kept[2] is not None  # the kernel's codes, normally
    monkeypatch.setattr(analysis, "MAX_PROBES", 0)
    words, counts, codes = analysis._plain_words(texts)  # type: ignore[misc]
    assert codes is None and words == " ".join(texts).lower().split()
    assert counts.tolist() == [4] * len(texts)
    many = Analyzer().sentences_many(texts)
    assert many.codes is None and many.every_word() == words
