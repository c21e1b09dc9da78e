"""Traditional → simplified Chinese with OpenCC ``t2s``, fast when little or nothing changes.

OpenCC's pure-Python conversion is slow on long text, and most text is already simplified:
:class:`SkippingConverter` hands OpenCC only the stretches it would change, with the same result.
Used by the text layer (:func:`luodi.matching.text.normalise`) and by near-duplicate detection.
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

__all__ = ["SkippingConverter", "to_simplified"]


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


class SkippingConverter:
    """An OpenCC converter that returns text it would not change untouched, and fast.

    ``SkippingConverter(opencc.OpenCC(config)).convert(text) == OpenCC(config).convert(text)``
    for every ``text``. OpenCC's pure-Python conversion is slow (dictionary look-ups of every
    substring length) even when nothing changes, which is the common case (simplified text through
    ``t2s``). OpenCC cuts text at its separators and converts each stretch on its own by dictionary
    matches; a stretch in which no *rewriting* entry (one whose value differs from its key) occurs
    comes out as it went in. So each stretch is checked first: does it hold a character that a
    one-character entry rewrites, or a longer rewriting key (indexed by one of its characters)?
    Only stretches that do are handed to OpenCC. If OpenCC's tables do not look as expected, every
    text is converted, as without this class.
    """

    def __init__(self, converter: opencc.OpenCC) -> None:
        """Read the rewriting entries from ``converter``'s dictionaries."""
        self._converter = converter
        self._chars: frozenset[str] | None = None
        self._phrases: dict[str, tuple[str, ...]] = {}
        self._phrase_chars: frozenset[str] = frozenset()
        self._split: re.Pattern[str] | None = None
        try:
            chars: set[str] = set()
            phrases: list[str] = []
            stack = list(converter._dict_chain_data)
            while stack:
                item = stack.pop()
                if isinstance(item, list):
                    stack.extend(item)
                    continue
                _, _, mapping = item
                for key, value in mapping.items():
                    # OpenCC keeps the first of several values; an empty one matches nothing.
                    if not key or value.split(" ")[0] == key:
                        continue
                    if len(key) == 1:
                        chars.add(key)
                    else:
                        phrases.append(key)
            index: dict[str, list[str]] = {}
            for key in phrases:
                if chars.isdisjoint(key):  # else its rewritten character already flags it
                    index.setdefault(key[0], []).append(key)
            split = converter.split_chars_re
        except (AttributeError, TypeError, ValueError):
            return
        if isinstance(split, re.Pattern) and chars:
            self._chars = frozenset(chars)
            self._phrases = {c: tuple(keys) for c, keys in index.items()}
            self._phrase_chars = frozenset(self._phrases)
            self._split = split

    def _rewrites(self, text: str) -> bool:
        """Whether some rewriting dictionary key occurs in ``text`` (so it may change)."""
        if self._chars is None or not self._chars.isdisjoint(text):
            return True
        if self._phrase_chars.isdisjoint(text):
            return False
        return any(
            key in text for c in self._phrase_chars.intersection(text) for key in self._phrases[c]
        )

    def convert(self, text: str) -> str:
        """What ``converter.convert(text)`` returns, converting only what may change."""
        if self._chars is None or self._split is None:
            return str(self._converter.convert(text))
        if not self._rewrites(text):
            return text
        parts = self._split.split(text)  # stretches at even indexes, separators between them
        for i in range(0, len(parts), 2):
            if self._rewrites(parts[i]):
                parts[i] = self._converter.convert(parts[i])
        return "".join(parts)


@lru_cache(maxsize=1)
def _fast_t2s() -> SkippingConverter:
    return SkippingConverter(_t2s())


def to_simplified(text: str) -> str:
    """OpenCC ``t2s`` of ``text`` (the same result, fast when little or nothing changes)."""
    return _fast_t2s().convert(text)
