"""Near-duplicate detection (查重) for achievements and demands: MinHash over shingles, with LSH.

The same achievement is often registered twice — re-typed by another office, pasted from a
traditional-Chinese brochure, or lightly edited. :class:`NearDuplicateIndex` finds such copies
by estimated Jaccard similarity of shingle sets; :func:`signature` gives the bytes to store in a
database so the index can be rebuilt with :func:`from_signatures` without re-reading the texts.

Shingling (frozen, see ``SIGNATURE_VERSION``)
    Text is NFKC-folded, converted traditional → simplified with OpenCC ``t2s``, lowercased,
    and every character that is not a letter, digit or ideograph becomes a space. The shingles
    are *word 2-shingles* (adjacent pairs of jieba tokens) **plus character 3-grams** of the
    text with spaces removed, for every text. Why both, always:

    * Character 3-grams keep short texts (titles, teasers: a handful of word pairs) measurable
      — changing one word removes 2 of ~8 word pairs but only 3 of ~25 trigrams — and they
      absorb jieba cutting an edited sentence differently from the original.
    * Word pairs add word-boundary and order information, so unrelated texts that share stock
      phrases (本发明, 一种基于) stay apart.
    * One rule for every length: with a length cut-off, an original just under it and its
      edited copy just over it would be shingled differently and look unrelated.

    The segmenter is a private ``jieba.Tokenizer`` (precise mode, HMM off) with jieba's shipped
    dictionary only, not :mod:`luodi.matching.text`: signatures are stored, so shingling must not
    move when someone adds user terms or stopwords for matching. Changing anything here means
    bumping ``SIGNATURE_VERSION`` and recomputing stored signatures (old ones are then rejected).

Speed (signatures are computed on every save): the ``t2s`` step hands OpenCC only the stretches
of text it would change (:func:`luodi.matching.text.to_simplified`, same output), the
punctuation fold is one regular expression (``[\\W_]`` is exactly "not ``str.isalnum``"), jieba's
cut of each space-free chunk is memoised (a space always ends a jieba block, so the chunks' cuts
joined are the text's cut) and runs through :func:`luodi.matching.text.jieba_cut`, an exact and
faster copy of jieba's precise mode. None of this changes a shingle.

MinHash: 128 permutations, seed 1, datasketch's ``affine32`` scheme and SHA-1 shingle hashes, so
signatures are the same in every process. The estimate's standard error is about
sqrt(J(1-J)/128) ≈ 0.035 at J = 0.8.

Thresholds, measured on ~150-character summaries: a copy with 3 characters changed scores
about 0.86, with 8 characters (five edits) about 0.66; unrelated summaries sharing stock
phrases stay below 0.15. So 0.8 (the default) flags near-copies, 0.6 catches re-worded ones.
Cost: ~0.2 ms to signature a 50-character text, ~7.5 KB of memory per indexed record.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import unicodedata
from collections.abc import Hashable, Iterable
from functools import cache, lru_cache

import jieba
import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from luodi.errors import ValidationFailed
from luodi.matching.text import jieba_cut, to_simplified

NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
SIGNATURE_VERSION = 1
# "LDMH" + version byte, then NUM_PERM little-endian uint32 hash values (517 bytes in all).
_HEADER = b"LDMH" + bytes([SIGNATURE_VERSION])
SIGNATURE_BYTES = len(_HEADER) + 4 * NUM_PERM

_lock = threading.Lock()
# Runs of characters that are not str.isalnum(): \W is "not alphanumeric and not _".
_NOT_ALNUM = re.compile(r"[\W_]+")


@cache
def _tokenizer() -> jieba.Tokenizer:
    # Private and lazy: importing luodi costs no dictionary load, and nobody's add_word() can
    # change our shingles. The lock stops two threads from building it at once.
    with _lock:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return tokenizer


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Building permutations costs ~0.25 ms per MinHash; they depend only on (seed, num_perm).
    template = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    return template.permutations


def normalise(text: str) -> str:
    """Fold width, traditional → simplified, case; punctuation and spacing become one space."""
    text = to_simplified(unicodedata.normalize("NFKC", text)).casefold()
    # Every character that is not alphanumeric becomes a space, runs of them one space.
    return _NOT_ALNUM.sub(" ", text).strip(" ")


def _cut(chunk: str) -> tuple[str, ...]:
    # HMM off: guessing unknown words is jieba's slowest part, and trigrams cover them anyway.
    return tuple(w for w in jieba_cut(_tokenizer(), chunk, hmm=False) if not w.isspace())


# Short chunks (words, short clauses) recur across records; long ones hardly ever do.
_MEMO_CHUNK = 16
_memo_cut = lru_cache(maxsize=8192)(_cut)


def _words(norm: str) -> list[str]:
    # ``norm`` has single spaces between space-free chunks; a space always ends a jieba block,
    # so cutting chunk by chunk gives the words of cutting ``norm`` whole (spaces dropped).
    words: list[str] = []
    for chunk in norm.split(" "):
        if chunk:
            words.extend(_memo_cut(chunk) if len(chunk) <= _MEMO_CHUNK else _cut(chunk))
    return words


def shingles(text: str) -> set[str]:
    """The shingle set of ``text``: word 2-shingles plus character 3-grams (see module doc)."""
    norm = normalise(text)
    words = _words(norm)
    compact = norm.replace(" ", "")
    result = {f"w:{a} {b}" for a, b in itertools.pairwise(words)}
    result.update(f"c:{compact[i : i + 3]}" for i in range(len(compact) - 2))
    if not result and compact:
        result.add(f"c:{compact}")  # one or two characters: the text itself is the shingle
    return result


def _hashvalues(text: str) -> np.ndarray | None:
    found = shingles(text)
    if not found:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations())
    minhash.update_batch([s.encode("utf-8") for s in found])
    return minhash.hashvalues


def signature(text: str) -> bytes:
    """MinHash signature of ``text`` as bytes to store (``SIGNATURE_BYTES`` long, versioned)."""
    values = _hashvalues(text)
    if values is None:
        raise ValidationFailed(
            "文本没有可比较的内容 / The text has nothing to compare (no letter, digit or Hanzi).",
            data={"field": "text", "reason": "empty_text"},
        )
    return _HEADER + values.astype("<u4").tobytes()


def _decode(sig: bytes) -> np.ndarray:
    if len(sig) != SIGNATURE_BYTES or not sig.startswith(_HEADER):
        raise ValueError(
            f"not a version-{SIGNATURE_VERSION} signature of {SIGNATURE_BYTES} bytes; "
            "recompute it with luodi.inventory.dedupe.signature()"
        )
    return np.frombuffer(sig, dtype="<u4", offset=len(_HEADER)).astype(np.uint32)


def estimate_jaccard(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity of the texts behind two stored signatures."""
    return float(np.count_nonzero(_decode(sig_a) == _decode(sig_b))) / NUM_PERM


class NearDuplicateIndex:
    """An in-memory index of signatures answering "which stored texts resemble this one?".

    Signatures live in one numpy matrix (512 bytes a record) and are scored exactly against the
    query; datasketch's MinHashLSH only proposes candidates. ``min_threshold`` sets its banding
    (default 0.7 → 20 bands of 6 rows): a pair at similarity 0.8 becomes a candidate with
    probability 0.998, at 0.75 with 0.98, at 0.7 with 0.92. Queries below ``min_threshold``
    scan every row instead — exact, and about 15 ms per query at 100k records.
    """

    def __init__(self, *, min_threshold: float = 0.7) -> None:
        """Create an empty index."""
        # Recall-heavy weights: a false positive costs one exact comparison, a false negative
        # is a duplicate nobody sees. Memory is the price: the LSH tables take ~7 KB a record.
        self._lsh = MinHashLSH(threshold=min_threshold, num_perm=NUM_PERM, weights=(0.1, 0.9))
        self.min_threshold = min_threshold
        self._matrix = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._alive = np.zeros(0, dtype=bool)
        self._keys: list[Hashable] = []  # row → key; rows are never reused, so row = age
        self._rows: dict[Hashable, int] = {}  # key → its current row

    def __len__(self) -> int:
        """Number of keys in the index."""
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is in the index."""
        return key in self._rows

    def add(self, key: Hashable, text: str) -> None:
        """Index ``text`` under ``key``; adding an existing key replaces its text."""
        self.add_signature(key, signature(text))

    def add_signature(self, key: Hashable, sig: bytes) -> None:
        """Index a stored signature under ``key`` (replacing any previous one)."""
        values = _decode(sig)
        if key in self._rows:
            self.remove(key)
        row = len(self._keys)
        if row == len(self._matrix):
            self._grow()
        self._matrix[row], self._alive[row] = values, True
        self._keys.append(key)
        self._rows[key] = row
        lean = LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)
        self._lsh.insert(key, lean, check_duplication=False)

    def _grow(self) -> None:
        # Doubling keeps appends amortised O(1) without holding a Python object per record.
        capacity = max(1024, 2 * len(self._matrix))
        matrix = np.zeros((capacity, NUM_PERM), dtype=np.uint32)
        alive = np.zeros(capacity, dtype=bool)
        matrix[: len(self._matrix)], alive[: len(self._alive)] = self._matrix, self._alive
        self._matrix, self._alive = matrix, alive

    def remove(self, key: Hashable) -> None:
        """Drop ``key`` from the index (KeyError if absent)."""
        row = self._rows.pop(key)
        self._alive[row] = False
        self._lsh.remove(key)

    def query(self, text: str, threshold: float = 0.8) -> list[tuple[Hashable, float]]:
        """Keys whose estimated Jaccard similarity with ``text`` is at least ``threshold``,
        most similar first (ties: earlier-added first). Empty text matches nothing.
        """
        values = _hashvalues(text)
        return [] if values is None else self._query(values, threshold)

    def query_signature(self, sig: bytes, threshold: float = 0.8) -> list[tuple[Hashable, float]]:
        """Like :meth:`query`, for a stored signature."""
        return self._query(_decode(sig), threshold)

    def _candidates(self, values: np.ndarray, threshold: float) -> np.ndarray:
        if threshold < self.min_threshold:
            return np.flatnonzero(self._alive)
        lean = LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)
        return np.fromiter((self._rows[k] for k in self._lsh.query(lean)), dtype=np.intp)

    def _query(self, values: np.ndarray, threshold: float) -> list[tuple[Hashable, float]]:
        rows = self._candidates(values, threshold)
        similarity = np.count_nonzero(self._matrix[rows] == values, axis=1) / NUM_PERM
        keep = similarity >= threshold
        rows, similarity = rows[keep], similarity[keep]
        order = np.lexsort((rows, -similarity))  # most similar first, then insertion order
        return [(self._keys[rows[i]], float(similarity[i])) for i in order]


def from_signatures(
    items: Iterable[tuple[Hashable, bytes]], *, min_threshold: float = 0.7
) -> NearDuplicateIndex:
    """Rebuild an index from stored ``(key, signature)`` pairs, e.g. rows read from the DB."""
    index = NearDuplicateIndex(min_threshold=min_threshold)
    for key, sig in items:
        index.add_signature(key, sig)
    return index
