"""Enrichment-on-save speed: records/s of :func:`luodi.inventory.indexing.apply_enrichment`.

    python bench/enrichment_speed.py [--data DIR] [--repeat N] [--limit N] [--baseline SRC]

``apply_enrichment`` is what saving an achievement or demand runs: :func:`enrich` (keywords,
field suggestion, language), the search-mode cut of the public text (``segment(text,
search=True)``) and the near-duplicate signature (``dedupe.signature``). The bench calls it on
plain objects built from two samples in ``--data``:

* ``csl`` — the 1,000 CSL papers of ``csl_papers_dev.jsonl`` (title + abstract + keywords, Chinese);
* ``nasa`` — the titles of ``nasa_patents.csv`` (short English titles, no summary).

Each sample runs in a fresh child process (``--repeat`` times; the median is reported), after a
warm-up on an unrelated record that loads jieba's dictionaries, OpenCC and the field profiles, so
the timing covers per-record work only and no cache is warm from an earlier pass over the same
records. Output is one JSON document on stdout: records/s and ms/record per sample.

``--baseline SRC`` also times another source tree — a directory holding a ``luodi`` package, e.g.
the commit before the speed-up exported with ``git archive <commit> luodi | tar -x -C SRC`` — in
child runs interleaved with the current ones (so machine load hits both alike) and reports the
speed-up (of the medians, and of the fastest runs). Without it the speed-up is against
``BEFORE``. Measured on the development machine (2 vCPUs, shared with other work), median of 5:

    git archive 5ef455b luodi | tar -x -C /tmp/base    # the commit before the speed-up
    python bench/enrichment_speed.py --repeat 5 --baseline /tmp/base

    before (5ef455b)  csl  103.4 records/s (9.67 ms/record)   nasa   365.9 records/s (2.73 ms)
    after             csl  330.6 records/s (3.03 ms/record)   nasa  2324.9 records/s (0.43 ms)
    speed-up          csl  3.2× (fastest runs 3.6×)            nasa  6.4× (fastest runs 5.9×)

Timings on a shared machine move by ±20 % from run to run; ``--baseline`` is the fair comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/sample"
SAMPLES = ("csl", "nasa")
# records/s before the speed-up (see the module docstring for how they were measured).
BEFORE = {"csl": 103.4, "nasa": 365.9}


def load(sample: str, data: Path, limit: int | None) -> list[tuple[str, str, list[str]]]:
    """Return ``(title, summary, keywords)`` for each record of ``sample``."""
    if sample == "csl":
        with (data / "csl_papers_dev.jsonl").open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        records = [(r["title"], r.get("abstract") or "", list(r.get("keywords") or []))
                   for r in rows]
    else:
        with (data / "nasa_patents.csv").open(encoding="utf-8", newline="") as handle:
            records = [(r["Title"], "", []) for r in csv.DictReader(handle) if r["Title"].strip()]
    return records[:limit] if limit else records


def time_sample(sample: str, data: Path, limit: int | None) -> dict:
    """Run ``apply_enrichment`` over ``sample`` once in this process and time it."""
    import luodi
    from luodi.inventory.indexing import apply_enrichment

    records = load(sample, data, limit)
    # Warm-up outside the timing: jieba dictionaries, OpenCC tables, the field profiles.
    apply_enrichment(SimpleNamespace(title="预热 warm-up", summary="一段無關的文字。", keywords=[],
                                     field_code=None))
    objects = [SimpleNamespace(title=t, summary=s, keywords=k, field_code=None)
               for t, s, k in records]
    started, cpu_started = time.perf_counter(), time.process_time()
    for obj in objects:
        apply_enrichment(obj)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"records": len(objects), "seconds": elapsed, "cpu_seconds": cpu,
            "luodi": str(Path(luodi.__file__).parent)}


def _child(sample: str, src: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", sample, "--src", str(src),
               "--data", str(args.data)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def _summary(runs: list[dict]) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    records = runs[0]["records"]
    return {
        "records": records,
        "records_per_s": round(records / seconds, 1) if seconds else None,
        "ms_per_record": round(1000 * seconds / max(records, 1), 3),
        # CPU time of the child: less moved than wall time by other work on a shared machine.
        "cpu_records_per_s": round(records / cpu, 1) if cpu else None,
        # The fastest run: the one least disturbed by other work.
        "best_records_per_s": round(records / min(r["seconds"] for r in runs), 1),
        "runs_s": [round(r["seconds"], 3) for r in runs],
        "luodi": runs[0]["luodi"],
    }


def main(argv: list[str] | None = None) -> None:
    """Time each sample in fresh child processes and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the samples")
    parser.add_argument("--repeat", type=int, default=3, help="child runs per sample (median)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N records")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another source tree (holding luodi/) to time alongside")
    parser.add_argument("--child", choices=SAMPLES, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(args.src.resolve()))
        json.dump(time_sample(args.child, args.data, args.limit), sys.stdout)
        return
    if args.baseline and not (args.baseline / "luodi" / "__init__.py").is_file():
        parser.error(f"{args.baseline} holds no luodi package")
    report: dict = {"data": str(args.data), "repeat": args.repeat, "samples": {}}
    if args.baseline:
        report["baseline"] = str(args.baseline)
    for sample in SAMPLES:
        current: list[dict] = []
        baseline: list[dict] = []
        for _ in range(max(args.repeat, 1)):
            current.append(_child(sample, ROOT, args))
            if args.baseline:
                baseline.append(_child(sample, args.baseline, args))
        entry = _summary(current)
        rate = entry["records_per_s"]
        if baseline:
            entry["baseline"] = _summary(baseline)
            before = entry["baseline"]["records_per_s"]
            cpu_before = entry["baseline"]["cpu_records_per_s"]
            cpu_rate = entry["cpu_records_per_s"]
            entry["cpu_speedup"] = round(cpu_rate / cpu_before, 2) if cpu_rate and cpu_before \
                else None
            entry["best_speedup"] = round(
                entry["best_records_per_s"] / entry["baseline"]["best_records_per_s"], 2
            )
        else:
            entry["before_records_per_s"] = before = BEFORE[sample]
        entry["speedup"] = round(rate / before, 2) if rate and before else None
        report["samples"][sample] = entry
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
