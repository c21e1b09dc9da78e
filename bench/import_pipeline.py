"""Benchmark the FULL bulk import — read, validate, enrich, flag duplicates, write — on SQLite.

    python bench/import_pipeline.py [--rows 100000] [--small 10000] [--formats csv,xlsx]
                                    [--data PATH] [--trace-rows 2000]

Builds achievement files of ``--small`` and ``--rows`` rows (CSV and XLSX) whose titles and
summaries recombine sentences of the CSL sample (``--data``), then imports each into a fresh,
migrated temporary SQLite database through :func:`luodi.inventory.importing.import_file`, each in
a child process so ``ru_maxrss`` belongs to that import alone. Prints JSON with, per size and
format: the check pass alone (a dry run: read + map + validate + key checks) and the full import
(seconds, rows/s), ``ru_maxrss`` after loading the dictionaries, after the check and after the
import, and the tracemalloc peak of the check pass. tracemalloc slows enrichment (jieba
allocates per character) about fifteenfold, so the traced FULL import runs on ``--trace-rows``
rows only, with the dictionaries loaded before tracing starts. Also prints how fast enrichment
alone runs on the same text, to show where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

DEFAULT_DATA = Path("/work/shared/data/sample/csl_papers_dev.jsonl")
HEADERS = ["编号", "成果名称", "摘要", "关键词", "技术成熟度", "参考价格（万元）", "所在地区",
           "完成单位", "发明人", "专利号", "转化方式"]
REGIONS = ("110108", "110105", "120116", "130100", "130629", "310115", "440305")
MODES = ("转让", "许可", "作价投资", "合作实施", "技术开发；许可", "转让；许可")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
# 100,000 rows with CSL-length summaries make a ~63 MB CSV, over the 50 MB upload default.


def _papers(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def generate_rows(count: int, data: Path, seed: int = 7):
    """Yield ``count`` distinct, realistic achievement rows built from the CSL sample."""
    papers = _papers(data)
    rng = random.Random(seed)
    sentences = [s.strip() for p in papers for s in re.split(r"[。；;.!?！？]", p["abstract"])
                 if len(s.strip()) >= 12]
    titles = [p["title"] for p in papers if len(p["title"]) >= 6]
    keywords = [p.get("keywords") or [] for p in papers]
    institutions = [f"示范{kind}{i:02d}" for i in range(40) for kind in ("大学", "研究院")][:60]
    for i in range(count):
        a, b = rng.choice(titles), rng.choice(titles)
        title = (a[: len(a) // 2] + b[len(b) // 2:])[:290]
        summary = "。".join(rng.sample(sentences, rng.randint(2, 4))) + "。"
        year, kind = rng.randint(2015, 2025), rng.choice("12")
        yield [
            f"BENCH-{i:07d}", title, summary[:4000], "；".join(rng.choice(keywords)[:4]),
            rng.randint(1, 9), rng.choice(("", "面议", str(rng.randint(10, 2000)))),
            rng.choice(REGIONS), rng.choice(institutions),
            "、".join(rng.choice(SURNAMES) + rng.choice(SURNAMES) for _ in range(2)),
            f"ZL{year}{kind}{rng.randint(0, 9_999_999):07d}.{rng.randint(0, 9)}",
            rng.choice(MODES),
        ]


def build_file(path: Path, rows: int, data: Path) -> float:
    """Write the bench file (format by extension); returns the seconds it took."""
    from luodi.inventory.exporters import write_table

    start = time.perf_counter()
    write_table(path, HEADERS, generate_rows(rows, data))
    return time.perf_counter() - start


def _limits():  # type: ignore[no-untyped-def]
    from luodi.inventory.importers import ReadLimits

    return ReadLimits(max_file_bytes=512 * 2**20)


def _fresh_database(folder: Path):  # type: ignore[no-untyped-def]
    from luodi.config import Settings
    from luodi.db import Database
    from luodi.migrate import upgrade

    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = Settings(env="development", database_url=url, data_dir=folder,
                        _env_file=None)  # type: ignore[call-arg]
    return Database.from_url(url), settings


def _warm_up() -> None:
    """Load the segmenters' dictionaries first, so memory figures show the import's own growth."""
    from luodi.inventory.indexing import apply_enrichment

    apply_enrichment(SimpleNamespace(title="预热一种固态电池", summary="预热", keywords=[],
                                     field_code=None))


def _maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _import(db, settings, path: Path, *, dry_run: bool, trace: bool):  # type: ignore[no-untyped-def]
    from luodi.auth.actor import system_actor
    from luodi.inventory.importing import import_file

    if trace:
        tracemalloc.start()
    with db.sessions() as session:
        start = time.perf_counter()
        report = import_file(session, system_actor(), "achievements", path, settings=settings,
                             dry_run=dry_run, limits=_limits())
        seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    tracemalloc.stop()
    return report, seconds, peak


def child(path: Path, mode: str) -> dict:
    """In a child process, on a fresh database: ``timed`` runs a dry run (the check pass) and
    then the full import untraced; ``traced-check`` and ``traced-full`` trace one of them."""
    with tempfile.TemporaryDirectory() as tmp:
        db, settings = _fresh_database(Path(tmp))
        _warm_up()
        rss_warm = _maxrss_mb()
        if mode == "traced-check":
            report, _s, peak = _import(db, settings, path, dry_run=True, trace=True)
            return {"tracemalloc_peak_mb": round(peak or 0, 1), "rows": report.accepted}
        if mode == "traced-full":
            report, _s, peak = _import(db, settings, path, dry_run=False, trace=True)
            return {"tracemalloc_peak_mb": round(peak or 0, 1), "rows": report.accepted}
        checked, check_s, _ = _import(db, settings, path, dry_run=True, trace=False)
        rss_check = _maxrss_mb()
        report, total_s, _ = _import(db, settings, path, dry_run=False, trace=False)
        db.dispose()
    rows = report.accepted + report.rejected
    return {
        "rows": rows, "accepted": report.accepted, "created": report.created,
        "flagged_duplicates": report.flagged_duplicates, "dry_run_accepted": checked.accepted,
        "check_pass_s": round(check_s, 2), "check_pass_rows_per_s": round(rows / check_s),
        "full_import_s": round(total_s, 1), "full_rows_per_s": round(rows / total_s, 1),
        "ru_maxrss_mb_after_warm_up": rss_warm, "ru_maxrss_mb_after_check": rss_check,
        "ru_maxrss_mb_after_import": _maxrss_mb(),
    }


def run_child(path: Path, mode: str = "timed") -> dict:
    """Run :func:`child` in a new interpreter and return its JSON."""
    args = [sys.executable, __file__, "--child", str(path), "--mode", mode]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-5000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def enrichment_only(data: Path, rows: int = 2000) -> float:
    """Rows/s of enrichment alone (keywords, field, index tokens, MinHash) on the bench text."""
    from luodi.inventory.indexing import apply_enrichment

    sample = list(generate_rows(rows, data, seed=11))
    apply_enrichment(SimpleNamespace(title="预热", summary="预热", keywords=[], field_code=None))
    start = time.perf_counter()
    for row in sample:
        apply_enrichment(SimpleNamespace(title=row[1], summary=row[2], keywords=row[3].split("；"),
                                         field_code=None))
    return round(rows / (time.perf_counter() - start), 1)


def main() -> None:
    """Parse arguments, build the files, run every import, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the scaling run (0: skip)")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--trace-rows", type=int, default=2_000,
                        help="rows of the traced full import (tracing slows it ~15x; 0: skip)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="timed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.mode)))
        return
    results: dict = {"python": platform.python_version(), "cpus": os.cpu_count(),
                     "enrichment_only_rows_per_s": enrichment_only(args.data), "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        if args.trace_rows:
            path = Path(tmp) / f"achievements-{args.trace_rows}.csv"
            build_file(path, args.trace_rows, args.data)
            results["traced_full_import"] = {"rows": args.trace_rows, "format": "csv",
                                             **run_child(path, "traced-full")}
            _progress(results["traced_full_import"])
        for rows in [n for n in (args.small, args.rows) if n]:
            for fmt in args.formats.split(","):
                path = Path(tmp) / f"achievements-{rows}.{fmt}"
                built = build_file(path, rows, args.data)
                run = run_child(path)
                run["check_pass_tracemalloc_peak_mb"] = run_child(
                    path, "traced-check")["tracemalloc_peak_mb"]
                run.update(file_mb=round(path.stat().st_size / 2**20, 1), build_s=round(built, 1))
                results["runs"][f"{rows}-{fmt}"] = run
                _progress({f"{rows}-{fmt}": run})
    print(json.dumps(results, ensure_ascii=False, indent=2))


def _progress(data: dict) -> None:
    print(json.dumps(data, ensure_ascii=False), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
