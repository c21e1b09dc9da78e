"""Text layer: the one place that normalises and segments Chinese and English text.

Everything that indexes, extracts keywords or compares records goes through here, so that a record
and a query are always cut the same way.

* :func:`normalise` — NFKC (which also folds full-width forms to half-width), traditional →
  simplified with OpenCC ``t2s``, lowercase, whitespace collapsed. For indexing only: callers keep
  the original.
* :func:`segment` — jieba precise mode on normalised text, punctuation, bare numbers, single Latin
  letters and stopwords (``luodi/data/stopwords.txt``) dropped.
* :func:`add_user_terms` — domain terms (taxonomy names and keywords) become single tokens.
* :func:`language_of` — ``'zh'``, ``'en'`` or ``'mixed'``.

English decisions: words are kept whole and only *plural-folded* (``batteries`` → ``battery``,
``sensors`` → ``sensor``; ``-ss``/``-us``/``-is``/``-ous``/``-ics`` and a few listed words such as
``diabetes`` are left alone). A full Porter stemmer would
gain a little recall but turns the terms we show users in match explanations into non-words
(``battery`` → ``batteri``); plural folding keeps them readable. Multi-word English user terms
(``machine learning``) are merged into one token, written as their folded words joined by a space.

jieba runs on a private ``jieba.Tokenizer()`` so that user terms never leak into the process-wide
``jieba.dt`` that other code may use; it is built lazily on first use (about a second, from jieba's
shipped dictionary) with jieba's logging turned down to warnings.

Speed (enrichment runs all of this on every save; ``bench/enrichment_speed.py``), without changing
any result:

* OpenCC's pure-Python ``t2s`` is slow on long text, and most text is already simplified:
  :mod:`luodi.matching.simplify` hands OpenCC only the stretches it would change.
* :func:`normalise` is memoised for short strings (keywords, user terms, words).
* jieba cuts the stretches between single spaces of normalised text independently (a space always
  ends a jieba block), so the cleaned tokens of each space-free chunk are cached per segmenter;
  the cache is replaced whenever user terms change jieba's dictionary. A record's title, summary
  and keywords are then cut once although enrichment, indexing and search all segment them.
* The cut itself is :func:`jieba_cut`, jieba's precise mode re-written on lists (same tokens,
  about twice as fast); tests hold it to ``jieba.Tokenizer.cut`` on real and random text.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Literal

import jieba

from luodi.matching.cut import jieba_cut
from luodi.matching.simplify import SkippingConverter, _t2s, to_simplified  # noqa: F401

__all__ = [
    "Segmenter",
    "SkippingConverter",
    "add_user_terms",
    "default_segmenter",
    "jieba_cut",
    "language_of",
    "normalise",
    "segment",
    "stopwords",
    "to_simplified",
]

_WHITESPACE = re.compile(r"\s+")
# CJK Unified Ideographs, extension A and compatibility ideographs: what counts as "Chinese".
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A token is kept only if it carries at least one letter, digit or ideograph.
_WORDISH = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"^[0-9][0-9.,%]*$")
# jieba keeps these inside alphanumeric runs ("v2.0", "c++"); at the edges they are punctuation.
_EDGE_PUNCT = ".-_&%'·"
_MAX_PHRASE = 5


# Inputs up to this length go through a memo (keywords, user terms, stopwords, single words).
_MEMO_LENGTH = 64


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    folded = to_simplified(folded).lower()
    return _WHITESPACE.sub(" ", folded).strip()


_normalise_short = lru_cache(maxsize=8192)(_normalise)


def normalise(text: str | None) -> str:
    """Return ``text`` folded for indexing: NFKC, simplified Chinese, lowercase, single spaces.

    NFKC maps full-width letters, digits, punctuation and the ideographic space to their half-width
    forms; OpenCC ``t2s`` converts traditional characters to simplified ones (character level, so
    regional vocabulary such as 軟體/软件 is not rewritten). ``None`` and blank text give ``""``.
    """
    if not text:
        return ""
    if len(text) <= _MEMO_LENGTH:
        return _normalise_short(text)
    return _normalise(text)


# Words that end like plurals but are not (or whose singular would mislead).
_NOT_PLURAL = frozenset({"diabetes", "series", "species", "news", "lens", "gas", "bias", "herpes"})


def fold_plural(word: str) -> str:
    """Fold a lowercase English plural to its singular by suffix rules (see module docstring)."""
    if len(word) <= 3 or not word.isalpha() or word in _NOT_PLURAL or word.endswith("ics"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Return the shipped Chinese and English stopwords, normalised, with plural-folded forms."""
    raw = resources.files("luodi").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    words: set[str] = set()
    for line in raw.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word = normalise(line)
            words.update((word, fold_plural(word)))
    return frozenset(words)


def _clean(piece: str, stop: frozenset[str]) -> str | None:
    """Turn one raw jieba piece into an index token, or ``None`` when it carries no content."""
    token = piece.strip().strip(_EDGE_PUNCT)
    if not token or not _WORDISH.search(token) or _NUMBER.match(token):
        return None
    if token in stop:
        return None
    if token.isascii():
        if len(token) == 1:
            return None
        token = fold_plural(token)
        if token in stop:
            return None
    return token




# A segmenter remembers the cuts of many short chunks (words, keywords, short titles: they recur
# across records) and of a few long ones (a summary without spaces is one chunk: it only recurs
# within the record being enriched), so the memo stays a few megabytes.
_SHORT_CHUNK = 32
_SHORT_CHUNK_MEMO = 4096
_LONG_CHUNK_MEMO = 256
_PIECE_MEMO = 16384


def _chunk_cutter(tokenizer: jieba.Tokenizer) -> Callable[[str], tuple[str, ...]]:
    """A memo of the cleaned jieba tokens of one space-free chunk, for one dictionary state."""
    stop = stopwords()

    @lru_cache(maxsize=_PIECE_MEMO)
    def clean(piece: str) -> str | None:
        return _clean(piece, stop)  # the same few thousand words come back all the time

    def cut(chunk: str) -> tuple[str, ...]:
        cleaned = map(clean, jieba_cut(tokenizer, chunk))
        return tuple(tok for tok in cleaned if tok is not None)

    short = lru_cache(maxsize=_SHORT_CHUNK_MEMO)(cut)
    long = lru_cache(maxsize=_LONG_CHUNK_MEMO)(cut)

    def memoised(chunk: str) -> tuple[str, ...]:
        return short(chunk) if len(chunk) <= _SHORT_CHUNK else long(chunk)

    return memoised


class Segmenter:
    """A jieba tokenizer of its own plus the user terms and English phrases added to it.

    Most code uses the module-level functions, which share :func:`default_segmenter`; tests and
    tools that must not see (or leave) user terms create their own instance.
    """

    def __init__(self) -> None:
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.RLock()
        self._terms: set[str] = set()
        # English multi-word terms, keyed by their token sequence: ("machine", "learning").
        self._phrases: set[tuple[str, ...]] = set()
        # How each compound user term was cut before it became one token: 锂离子电池 → 锂离子, 电池.
        self._parts: dict[str, tuple[str, ...]] = {}
        self._longest_phrase = 0
        # First tokens of the phrases: only there can a phrase start.
        self._phrase_starts: set[str] = set()
        # Cleaned tokens of one space-free chunk of normalised text; replaced (not cleared) when
        # jieba's dictionary changes, so a cut that raced with add_user_terms is never kept.
        self._chunk_tokens: Callable[[str], tuple[str, ...]] | None = None

    def _jieba(self) -> jieba.Tokenizer:
        # Lazy: importing luodi must not cost a dictionary load nor print jieba's banner.
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    self._tokenizer = tokenizer
        return self._tokenizer

    def _cutter(self) -> Callable[[str], tuple[str, ...]]:
        cutter = self._chunk_tokens
        if cutter is None:
            cutter = self._chunk_tokens = _chunk_cutter(self._jieba())
        return cutter

    def _tokens(self, normalised: str) -> list[str]:
        # A single space always ends a jieba block and is dropped by _clean, so cutting the
        # space-free chunks one by one gives exactly the tokens of cutting the whole text.
        cut = self._cutter()
        if " " not in normalised:
            return list(cut(normalised))
        tokens: list[str] = []
        for chunk in normalised.split(" "):
            if chunk:
                tokens.extend(cut(chunk))
        return tokens

    def segment(self, text: str | None, *, search: bool = False) -> list[str]:
        """Return the content tokens of ``text`` (normalised first), in order, duplicates kept.

        ``search=False`` is jieba's precise mode: each stretch of text becomes exactly one token.
        ``search=True`` also emits, before each compound user term, the words it was cut into
        before it was added (锂离子电池 → 锂离子, 电池, 锂离子电池; machine learning → machine,
        learning, machine learning) — more recall for scoring, at the price of overlapping tokens;
        never use it for display. Unlike jieba's own search mode it does not emit every dictionary
        word hidden inside a token (先进制造 does not yield 进制), which would invent matches.
        """
        precise = self.segment_normalised(normalise(text))
        return self.search_tokens(precise) if search else precise

    def segment_normalised(self, normalised: str) -> list[str]:
        """Precise-mode tokens of text that is already :func:`normalise`-d (not checked)."""
        if not normalised:
            return []
        tokens = self._tokens(normalised)
        if self._phrases:
            tokens = list(self._merge_phrases(tokens))
        return tokens

    def search_tokens(self, precise: list[str]) -> list[str]:
        """Search-mode tokens from precise-mode ones: compound user terms preceded by their parts.

        ``search_tokens(segment(text))`` equals ``segment(text, search=True)``; it saves a second
        cut when a caller needs both.
        """
        parts = self._parts
        if not parts:
            return list(precise)
        out: list[str] = []
        for tok in precise:
            before = parts.get(tok)
            if before:
                out.extend(before)
            out.append(tok)
        return out

    def _merge_phrases(self, tokens: list[str]) -> Iterator[str]:
        phrases, starts = self._phrases, self._phrase_starts
        i = 0
        n = len(tokens)
        while i < n:
            if tokens[i] in starts:
                longest = min(self._longest_phrase, n - i)
                for size in range(longest, 1, -1):
                    window = tuple(tokens[i : i + size])
                    if window in phrases:
                        yield " ".join(window)
                        i += size
                        break
                else:
                    yield tokens[i]
                    i += 1
            else:
                yield tokens[i]
                i += 1

    def add_user_terms(self, terms: Iterable[str]) -> int:
        """Make each term one token from now on; return how many were new (repeats are no-ops).

        Chinese terms go into jieba's dictionary with the frequency jieba suggests for keeping them
        whole; terms with spaces or hyphens (``machine learning``, ``solid-state``) become phrases
        merged after cutting, because jieba never keeps those inside one word.
        """
        added = 0
        with self._lock:
            for term in terms:
                normalised = normalise(term)
                if not normalised or normalised in self._terms:
                    continue
                self._terms.add(normalised)
                added += 1
                parts = tuple(self._tokens(normalised))
                # Latin terms that jieba cuts apart (on spaces or hyphens) become phrases.
                if " " in normalised or normalised.isascii():
                    if 2 <= len(parts) <= _MAX_PHRASE:
                        self._phrases.add(parts)
                        self._phrase_starts.add(parts[0])
                        self._longest_phrase = max(self._longest_phrase, len(parts))
                        self._parts[" ".join(parts)] = parts
                elif not normalised.isascii():
                    # Pure Latin words are already kept whole by jieba; only CJK needs the entry.
                    self._jieba().add_word(normalised)
                    # Cuts made before this word are stale: later terms must see it too.
                    self._chunk_tokens = None
                    if len(parts) >= 2:
                        self._parts[normalised] = parts
            if added:
                self._chunk_tokens = None  # also drop cuts made while terms were being added
        return added

    def user_terms(self) -> frozenset[str]:
        """Return the normalised user terms added so far."""
        return frozenset(self._terms)


_DEFAULT = Segmenter()


def default_segmenter() -> Segmenter:
    """Return the process-wide :class:`Segmenter` used by :func:`segment` and friends."""
    return _DEFAULT


def segment(text: str | None, *, search: bool = False) -> list[str]:
    """Segment ``text`` with the shared segmenter; see :meth:`Segmenter.segment`."""
    return _DEFAULT.segment(text, search=search)


def add_user_terms(terms: Iterable[str]) -> int:
    """Add domain terms to the shared segmenter; see :meth:`Segmenter.add_user_terms`."""
    return _DEFAULT.add_user_terms(terms)


Language = Literal["zh", "en", "mixed"]


def language_of(text: str | None, *, minority: float = 0.2) -> Language:
    """Return ``'zh'``, ``'en'`` or ``'mixed'`` for ``text``.

    Each Chinese character and each Latin word counts one unit. A language whose share of units is
    at most ``minority`` is ignored, so a Chinese sentence quoting "DNA" or "5G" is still ``'zh'``
    and an English title with one Chinese name is still ``'en'``. Text with neither (empty, only
    digits or punctuation) is reported as ``'zh'``, the platform's default language.
    """
    folded = unicodedata.normalize("NFKC", text or "")
    han = sum(len(run) for run in _HAN_RUN.findall(folded))
    latin = len(_LATIN_WORD.findall(folded))
    total = han + latin
    if total == 0 or latin <= minority * total:
        return "zh"
    if han <= minority * total:
        return "en"
    return "mixed"
