"""Docking-event scheduling: CP-SAT against greedy first-fit, in the same run.

    python bench/event_schedule.py [--enterprises 100] [--institutions 100] [--per 8]
                                   [--accept 0.7] [--high 0.2] [--slots 12] [--tables 30]
                                   [--away 0.1] [--time-limit 10] [--workers 2] [--seed 11]

**Synthetic** event: E enterprises each ask about ``per`` institutions for a 1:1 meeting, drawn
with a Zipf-like popularity (a few institutions are wanted by many, as at real 对接会); each
request is accepted with probability ``accept`` and is high priority with probability
``high``. A share ``away`` of the participants misses a run of slots (arrives late or leaves
early). Slots × tables is the room's capacity. Timed: :func:`schedule` (CP-SAT, hinted with
greedy) and :func:`greedy_schedule` on the same accepted requests; meetings and weight met are
printed with their ratios, plus CP-SAT's proven bound. Results go to
``bench/results/event_schedule.json``, one entry per slots × tables.

With the default 12 × 30 the room (360 places for ~570 accepted requests) is the limit and
greedy, which takes high-priority requests first, is already optimal; with more tables the
popular participants' free slots are the limit and the order of placing starts to matter
(try ``--tables 40``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from luodi.docking.scheduler import PRIORITY_WEIGHTS, Schedule, greedy_schedule, schedule

RESULTS = Path(__file__).parent / "results" / "event_schedule.json"


def synthetic(args: argparse.Namespace) -> dict[str, object]:
    """Accepted requests (enterprise index, institution index), weights and unavailability."""
    rng = np.random.default_rng(args.seed)
    n_e, n_i = args.enterprises, args.institutions
    popularity = 1.0 / np.arange(1, n_i + 1) ** 0.9
    popularity /= popularity.sum()
    perm = rng.permutation(n_i)  # popular institutions are not the low ids
    requests, weights, asked = [], [], 0
    for e in range(n_e):
        wanted = perm[rng.choice(n_i, size=args.per, replace=False, p=popularity)]
        for i in wanted:
            asked += 1
            if rng.random() < args.accept:
                requests.append((e, n_e + int(i)))
                weights.append(PRIORITY_WEIGHTS[2 if rng.random() < args.high else 1])
    unavailable: dict[int, set[int]] = {}
    for p in rng.choice(n_e + n_i, size=round(args.away * (n_e + n_i)), replace=False):
        missed = int(rng.integers(2, max(3, args.slots // 3) + 1))  # a quarter to a third
        late = rng.random() < 0.5
        unavailable[int(p)] = set(range(missed) if late else range(args.slots - missed,
                                                                    args.slots))
    return {"requests": requests, "weights": weights, "asked": asked,
            "unavailable": unavailable, "participants": n_e + n_i}


def _context(event: dict[str, object], args: argparse.Namespace) -> dict[str, object]:
    requests = event["requests"]
    assert isinstance(requests, list)
    per_person = Counter(p for pair in requests for p in pair)
    busiest = max(per_person.values(), default=0)
    return {"participants": event["participants"], "requests_asked": event["asked"],
            "requests_accepted": len(requests), "slots": args.slots, "tables": args.tables,
            "capacity": args.slots * args.tables,
            "high_priority": sum(w == PRIORITY_WEIGHTS[2] for w in event["weights"]),  # type: ignore[attr-defined]
            "partly_away": len(event["unavailable"]),  # type: ignore[arg-type]
            "busiest_participant_requests": busiest,
            "time_limit": args.time_limit, "workers": args.workers, "seed": args.seed}


def run(args: argparse.Namespace) -> dict[str, object]:
    started = time.perf_counter()
    event = synthetic(args)
    made = time.perf_counter() - started
    call = (event["requests"], event["weights"], event["participants"], args.slots,
            args.tables, event["unavailable"])
    cp = schedule(*call, time_limit=args.time_limit, workers=args.workers)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    greedy = greedy_schedule(*call)  # type: ignore[arg-type]
    greedy_seconds = time.perf_counter() - t0
    weights = event["weights"]
    assert isinstance(weights, list)

    def high(plan: Schedule) -> int:
        return sum(weights[r] == PRIORITY_WEIGHTS[2] for r, _, _ in plan.assignments)

    return {"kind": "synthetic", **_context(event, args), "generate_seconds": round(made, 3),
            "cp_sat": {**cp.as_json(), "high_met": high(cp)},
            "greedy": {**greedy.as_json(), "seconds": round(greedy_seconds, 4),
                       "high_met": high(greedy)},
            "ratios": {"met": round(cp.met / greedy.met, 4) if greedy.met else None,
                       "weight_met": round(cp.weight_met / greedy.weight_met, 4)
                       if greedy.weight_met else None,
                       "gap_to_bound": round(1 - cp.weight_met / cp.bound, 4)
                       if cp.bound else 0.0}}


def _print(result: dict[str, object]) -> None:
    cp, greedy = result["cp_sat"], result["greedy"]
    assert isinstance(cp, dict) and isinstance(greedy, dict)
    print(json.dumps({k: v for k, v in result.items()
                      if k not in ("cp_sat", "greedy", "ratios")}, ensure_ascii=False))
    print(f"{'':14}{'cp-sat':>10}{'greedy':>10}{'cp/greedy':>12}")
    for key in ("met", "weight_met", "high_met", "seconds"):
        a, b = cp[key], greedy[key]
        ratio = f"{a / b:.3f}" if b else "—"
        print(f"{key:14}{a:>10}{b:>10}{ratio:>12}")
    print(f"cp-sat status {cp['status']} ({cp['method']}), proven bound {cp['bound']} "
          f"(gap {result['ratios']['gap_to_bound']:.2%})")  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enterprises", type=int, default=100)
    parser.add_argument("--institutions", type=int, default=100)
    parser.add_argument("--per", type=int, default=8, help="requests per enterprise")
    parser.add_argument("--accept", type=float, default=0.7)
    parser.add_argument("--high", type=float, default=0.2, help="share of high priority")
    parser.add_argument("--slots", type=int, default=12)
    parser.add_argument("--tables", type=int, default=30)
    parser.add_argument("--away", type=float, default=0.1, help="share missing some slots")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    result = run(args)
    _print(result)
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous[f"{result['kind']}-{args.slots}x{args.tables}"] = result  # one entry per room size
    RESULTS.write_text(json.dumps(previous, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
