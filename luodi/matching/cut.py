"""jieba's precise-mode cut, rewritten on plain lists, and the memoised chunk cutter.

:func:`jieba_cut` gives exactly the tokens of ``jieba.Tokenizer.cut`` (tests compare the two on
random and known sentences, so a jieba upgrade that cuts differently fails loudly) at about twice
the speed.
"""

from __future__ import annotations

from collections.abc import Callable
from math import log

import jieba
import jieba.finalseg


def _route(block: str, freq_get: Callable[[str], int | None], logtotal: float) -> list[int]:
    """For each position of ``block``, where the best word starting there ends (inclusive).

    jieba's ``get_DAG`` and ``calc`` fused into one backward pass, with the same arithmetic in
    the same order (so the same floats) and the same tie-break (``max`` over ``(score, end)``
    pairs: on equal scores the longer word wins).
    """
    n = len(block)
    score = [0.0] * (n + 1)
    end = list(range(n))
    unknown = log(1) - logtotal  # a character no dictionary word starts with
    for idx in range(n - 1, -1, -1):
        best: float | None = None
        i = idx
        freq = freq_get(block[idx])
        while freq is not None:  # FREQ holds every prefix of every word (0: not a word itself)
            if freq:
                candidate = log(freq) - logtotal + score[i + 1]
                if best is None or candidate >= best:
                    best = candidate
                    end[idx] = i
            i += 1
            if i == n:
                break
            freq = freq_get(block[idx : i + 1])
        score[idx] = unknown + score[idx + 1] if best is None else best
    return end


def jieba_cut(tokenizer: jieba.Tokenizer, sentence: str, *, hmm: bool = True) -> list[str]:
    """Exactly ``list(tokenizer.cut(sentence, HMM=hmm))`` (precise mode), about twice as fast.

    jieba 0.42's own code spends most of its time building a DAG dict and taking ``max`` over
    generator expressions; this is the same algorithm on lists. Tests compare it with jieba on
    real and random text, so a jieba release that cuts differently is caught.
    """
    tokenizer.check_initialized()
    freq = tokenizer.FREQ
    freq_get = freq.get
    logtotal = log(tokenizer.total)
    re_han, re_skip, re_eng = jieba.re_han_default, jieba.re_skip_default, jieba.re_eng
    out: list[str] = []
    for block in re_han.split(sentence):
        if not block:
            continue
        if not re_han.match(block):
            for piece in re_skip.split(block):
                if re_skip.match(piece):
                    out.append(piece)
                else:
                    out.extend(piece)  # one character at a time, as jieba does
            continue
        end = _route(block, freq_get, logtotal)
        n = len(block)
        x = 0
        buf = ""
        if hmm:
            while x < n:
                y = end[x] + 1
                if y - x == 1:
                    buf += block[x]
                else:
                    if buf:
                        _flush_hmm(buf, freq_get, out)
                        buf = ""
                    out.append(block[x:y])
                x = y
            if buf:
                _flush_hmm(buf, freq_get, out)
        else:
            while x < n:
                y = end[x] + 1
                word = block[x:y]
                if y - x == 1 and re_eng.match(word):
                    buf += word
                else:
                    if buf:
                        out.append(buf)
                        buf = ""
                    out.append(word)
                x = y
            if buf:
                out.append(buf)
    return out


def _flush_hmm(buf: str, freq_get: Callable[[str], int | None], out: list[str]) -> None:
    # Runs of single characters: jieba's HMM guesses words in them unless the run is a word.
    if len(buf) == 1:
        out.append(buf)
    elif not freq_get(buf):
        out.extend(jieba.finalseg.cut(buf))
    else:
        out.extend(buf)
