"""Push-cycle planning: min-cost flow against greedy top-k, in the same run.

    python bench/push_plan.py [--recipients 10000] [--items 100000] [--candidates 30]
                              [--listed 5000] [--k 5] [--d 2] [--demo DATA_DIR]

**Synthetic** (default): R recipients × N achievements. Each recipient has C candidate
achievements drawn with a Zipf-like popularity (some achievements suit many enterprises, as in
real catalogues), scores from a per-recipient decreasing curve plus noise; L of the N
achievements are "listed" (in an active catalogue) and aim for d recipients each. Timed:
``plan_cycle`` (OR-Tools min-cost flow) and ``greedy_plan`` on the same pairs. Coverage, exposure
Gini and mean score of both are printed with their ratios.

**Demo** (``--demo DATA_DIR``): ``run_cycle(dry_run=True)`` on the demo database of that data
dir (``luodi demo`` + ``luodi index rebuild`` first) — the real candidate search, filters and
plan, nothing written. Results go to ``bench/results/push_plan.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from luodi.matching.planner import greedy_plan, plan_cycle

RESULTS = Path(__file__).parent / "results" / "push_plan.json"


def synthetic(recipients: int, items: int, candidates: int, listed: int, seed: int = 7,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs with skewed item popularity; ``d`` marks the listed items."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, items + 1) ** 0.8
    weights /= weights.sum()
    perm = rng.permutation(items)  # popular items are not the low ids
    r_list, i_list = [], []
    for r in range(recipients):
        picks = np.unique(perm[rng.choice(items, size=candidates * 2, p=weights)])[:candidates]
        r_list.append(np.full(len(picks), r))
        i_list.append(picks)
    recipient, item = np.concatenate(r_list), np.concatenate(i_list)
    # A recipient's candidates score like a ranked list: 3–11, best first, with noise.
    score = 11 - 8 * rng.random(len(item)) ** 0.7 + rng.normal(0, 0.3, len(item))
    need = np.zeros(items, np.int64)
    need[rng.choice(items, size=listed, replace=False)] = 1
    return recipient, item, score, need


def run_synthetic(args: argparse.Namespace) -> dict[str, object]:
    started = time.perf_counter()
    r, i, s, listed = synthetic(args.recipients, args.items, args.candidates, args.listed)
    made = time.perf_counter() - started
    d = listed * args.d
    t0 = time.perf_counter()
    flow = plan_cycle(r, i, s, n_items=args.items, k=args.k, d=d)
    t1 = time.perf_counter()
    greedy = greedy_plan(r, i, s, n_items=args.items, k=args.k, d=d)
    t2 = time.perf_counter()
    return {"kind": "synthetic", "recipients": args.recipients, "items": args.items,
            "pairs": len(s), "listed": args.listed, "k": args.k, "d": args.d,
            "generate_seconds": round(made, 2),
            "flow": {**flow.as_json(), "seconds": round(t1 - t0, 3)},
            "greedy": {**greedy.as_json(), "seconds": round(t2 - t1, 3)}}


def run_demo(data_dir: str, args: argparse.Namespace) -> dict[str, object]:
    import luodi.models  # noqa: F401 — every table
    from luodi.auth.actor import system_actor
    from luodi.config import Settings
    from luodi.db import Database
    from luodi.push.cycles import run_cycle

    settings = Settings(env="development", data_dir=Path(data_dir),
                        push_cap_per_recipient=args.k, push_min_recipients=args.d)
    db = Database.from_url(settings.resolved_database_url)
    with db.sessions() as session:
        started = time.perf_counter()
        result = run_cycle(session, system_actor(), settings, dry_run=True)
        seconds = time.perf_counter() - started
    figures = dict(result.figures)
    greedy = figures.pop("greedy")
    figures.pop("uncovered_ids", None)
    return {"kind": "demo", "embedders": list(settings.embedder_names), "k": args.k,
            "d": args.d, "cycle_seconds": round(seconds, 2),
            "flow": {k: figures[k] for k in ("pushes", "recipients", "coverage",
                                            "exposure_gini", "mean_score")},
            "greedy": greedy, "context": {k: figures[k] for k in (
                "eligible_items", "eligible_recipients", "candidates", "allowed_pairs",
                "min_score", "plan_seconds")}}


def _print(result: dict[str, object]) -> None:
    flow, greedy = result["flow"], result["greedy"]
    assert isinstance(flow, dict) and isinstance(greedy, dict)
    print(json.dumps({k: v for k, v in result.items() if k not in ("flow", "greedy")},
                     ensure_ascii=False))
    print(f"{'':16}{'flow':>10}{'greedy':>10}{'flow/greedy':>14}")
    for key in ("pushes", "recipients", "coverage", "exposure_gini", "mean_score", "seconds"):
        if key in flow:
            a, b = flow[key], greedy[key]
            ratio = f"{a / b:.2f}" if b else "—"
            print(f"{key:16}{a:>10}{b:>10}{ratio:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--listed", type=int, default=5_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--demo", metavar="DATA_DIR")
    args = parser.parse_args()
    result = run_demo(args.demo, args) if args.demo else run_synthetic(args)
    _print(result)
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous[str(result["kind"])] = result
    RESULTS.write_text(json.dumps(previous, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
