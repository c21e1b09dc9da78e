"""Field-suggestion benchmark on the CSL sample: accuracy against a majority baseline.

    python bench/field_suggestion.py [--data DIR] [--limit N]

Reads ``csl_papers_dev.jsonl`` (title, abstract, keywords, discipline, category) and asks
:func:`luodi.inventory.enrichment.suggest_field` for a field, twice: on title + abstract and on
title + abstract + keywords. Two measures, both documented in ``docs/field-taxonomy.md``:

* *category* (lenient): the suggestion is right when it is in the set of luodi fields consistent
  with the paper's CSL category (13 values) — ``CATEGORY_FIELDS``;
* *discipline* (strict): for the CSL disciplines with one clear luodi field (``DISCIPLINE_FIELD``),
  the suggestion must be that field; disciplines without a clear field are skipped and counted.

Each measure carries a majority baseline computed in the same run — the single constant field that
would score best — and the ratio to it. Output is one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from luodi.inventory.enrichment import suggest_field  # noqa: E402
from luodi.inventory.taxonomy import seed_taxonomy  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared/data/sample"
SOCIAL = frozenset({"social"})
ENGINEERING = frozenset({
    "ai", "ic_it", "space_net", "ev_auto", "robotics", "quantum", "commercial_space", "synbio",
    "materials", "energy_env", "advanced_mfg",
    # 农业工程 and 食品科学与工程 are 工学 disciplines in the Chinese catalogue.
    "agri_food",
})
CATEGORY_FIELDS: dict[str, frozenset[str]] = {
    "工学": ENGINEERING,
    "医学": frozenset({"health"}),
    "农学": frozenset({"agri_food", "synbio"}),
    # Mathematics, physics, biology, earth, ocean and space sciences.
    "理学": frozenset({"other", "quantum", "materials", "synbio", "energy_env", "space_net",
                       "commercial_space", "ai"}),
    "军事学": frozenset({"social", "other"}),
    **dict.fromkeys(
        ("法学", "文学", "哲学", "历史学", "艺术学", "经济学", "教育学", "管理学"), SOCIAL
    ),
}
_AGRI = ("作物学", "农业资源利用", "园艺学", "林学/林业工程", "植物保护", "水产", "畜牧学/兽医学",
         "农业工程", "食品科学与工程")
_HEALTH = ("中医学/中药学", "公共卫生与预防医学", "口腔医学", "基础医学/临床医学", "药学")
_MFG = ("交通运输工程", "力学", "土木工程", "建筑学", "机械工程", "水利工程", "石油与天然气工程",
        "矿业工程", "船舶与海洋工程")
_SOCIAL = ("历史学", "哲学", "教育学", "中国语言文学", "新闻传播学", "政治学", "民族学", "法学",
           "社会学", "公共管理", "图书馆、情报与档案管理", "工商管理", "应用经济学", "理论经济学",
           "艺术学")
DISCIPLINE_FIELD: dict[str, str] = {
    **dict.fromkeys(_AGRI, "agri_food"),
    **dict.fromkeys(_HEALTH, "health"),
    **dict.fromkeys(_MFG, "advanced_mfg"),
    **dict.fromkeys(_SOCIAL, "social"),
    "信息与通信工程": "ic_it",
    "电子科学与技术": "ic_it",
    "冶金工程": "materials",
    "材料科学与工程": "materials",
    "环境科学与工程": "energy_env",
}
BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)


def load(path: Path, limit: int | None) -> list[dict]:
    """Return the JSONL records of ``path`` (the first ``limit`` when given)."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return rows[:limit] if limit else rows


def _ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 3) if baseline else None


def category_measure(rows: list[dict], predictions: list[tuple[str, float]]) -> dict:
    """Accuracy of predictions against the category sets, per category, baseline and confusion."""
    pairs = list(zip(rows, predictions, strict=True))
    hits = [p in CATEGORY_FIELDS[r["category"]] for r, (p, _) in pairs]
    per_cat: dict[str, list[bool]] = defaultdict(list)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for row, (pred, _), hit in zip(rows, predictions, hits, strict=True):
        per_cat[row["category"]].append(hit)
        confusion[row["category"]][pred] += 1
    codes = seed_taxonomy().codes
    constant = {c: sum(c in CATEGORY_FIELDS[r["category"]] for r in rows) / len(rows)
                for c in codes}
    base_code = max(constant, key=lambda c: constant[c])
    accuracy = sum(hits) / len(hits)
    return {
        "n": len(rows),
        "accuracy": round(accuracy, 4),
        "baseline": {"constant_field": base_code, "accuracy": round(constant[base_code], 4)},
        "ratio_vs_baseline": _ratio(accuracy, constant[base_code]),
        "per_category": {
            cat: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)}
            for cat, v in sorted(per_cat.items(), key=lambda kv: -len(kv[1]))
        },
        "confusion_top": {
            cat: dict(confusion[cat].most_common(4)) for cat in per_cat
        },
        "by_confidence": _bands(predictions, hits),
    }


def _bands(predictions: list[tuple[str, float]], hits: list[bool]) -> list[dict]:
    """Accuracy within confidence bands: higher bands should be right more often."""
    out = []
    for low, high in zip(BANDS, BANDS[1:], strict=False):
        band = [h for (_, conf), h in zip(predictions, hits, strict=True) if low <= conf < high]
        if band:
            out.append({"confidence": f"[{low:.1f},{min(high, 1.0):.1f})", "n": len(band),
                        "accuracy": round(sum(band) / len(band), 4)})
    return out


def discipline_measure(rows: list[dict], predictions: list[tuple[str, float]]) -> dict:
    """Strict accuracy over disciplines mapped to one field; the others are skipped and counted."""
    kept = [(r, p) for r, p in zip(rows, predictions, strict=True)
            if r["discipline"] in DISCIPLINE_FIELD]
    skipped = Counter(r["discipline"] for r in rows if r["discipline"] not in DISCIPLINE_FIELD)
    hits = [DISCIPLINE_FIELD[r["discipline"]] == p for r, (p, _) in kept]
    gold = Counter(DISCIPLINE_FIELD[r["discipline"]] for r, _ in kept)
    base_code, base_n = gold.most_common(1)[0]
    accuracy = sum(hits) / len(hits)
    per_field: dict[str, list[bool]] = defaultdict(list)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for (row, (pred, _)), hit in zip(kept, hits, strict=True):
        per_field[DISCIPLINE_FIELD[row["discipline"]]].append(hit)
        confusion[DISCIPLINE_FIELD[row["discipline"]]][pred] += 1
    return {
        "n": len(kept),
        "disciplines_mapped": len({r["discipline"] for r, _ in kept}),
        "skipped": {"records": sum(skipped.values()), "disciplines": len(skipped)},
        "accuracy": round(accuracy, 4),
        "baseline": {"constant_field": base_code, "accuracy": round(base_n / len(kept), 4)},
        "ratio_vs_baseline": _ratio(accuracy, base_n / len(kept)),
        "per_gold_field": {f: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)}
                           for f, v in sorted(per_field.items(), key=lambda kv: -len(kv[1]))},
        "confusion_top": {f: dict(c.most_common(4)) for f, c in confusion.items()},
        "by_confidence": _bands([p for _, p in kept], hits),
    }


def run(rows: list[dict], *, with_keywords: bool) -> list[tuple[str, float]]:
    """Return ``(field, confidence)`` for each row."""
    out = []
    for row in rows:
        body = row.get("abstract") or ""
        if with_keywords:
            body = f"{body} {' '.join(row.get('keywords') or [])}"
        code, confidence, _, _ = suggest_field(row["title"], body)
        out.append((code, round(confidence, 4)))
    return out


def main(argv: list[str] | None = None) -> None:
    """Run both variants and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the sample")
    parser.add_argument("--limit", type=int, default=None, help="only the first N records")
    args = parser.parse_args(argv)
    rows = load(args.data / "csl_papers_dev.jsonl", args.limit)
    report: dict = {"data": str(args.data / "csl_papers_dev.jsonl"), "records": len(rows)}
    suggest_field("warm-up")  # builds jieba and the profiles outside the timing
    for name, with_keywords in (("title_abstract", False), ("title_abstract_keywords", True)):
        started = time.perf_counter()
        predictions = run(rows, with_keywords=with_keywords)
        elapsed = time.perf_counter() - started
        report[name] = {
            "ms_per_record": round(1000 * elapsed / max(len(rows), 1), 2),
            "category": category_measure(rows, predictions),
            "discipline": discipline_measure(rows, predictions),
        }
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
