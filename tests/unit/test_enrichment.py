"""Enrichment on save and the configurable industry-field taxonomy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.errors import ValidationFailed
from luodi.inventory.enrichment import (
    _merge_keywords,
    _profiles,
    enrich,
    extract_keywords,
    suggest_field,
)
from luodi.inventory.taxonomy import FALLBACK_CODE, SEED_FIELDS, load_taxonomy, seed_taxonomy
from luodi.matching.text import default_segmenter, normalise

MEDICAL_ZH = (
    "一种治疗非小细胞肺癌的靶向药物",
    "本发明提供一种小分子抑制剂，临床试验显示可显著延长患者无进展生存期，毒副作用低。",
)
MEDICAL_EN = (
    "Monoclonal antibody therapy for metastatic breast cancer",
    "A clinical trial in patients showed improved survival; the drug delivery formulation "
    "reduces toxicity.",
)
AI_ZH = (
    "面向工业质检的视觉大模型",
    "基于深度学习和卷积神经网络的缺陷图像识别，结合预训练模型与迁移学习，提升目标检测精度。",
)
AI_EN = (
    "Large language model for question answering",
    "A deep learning approach using a transformer neural network, pretrained on text and "
    "fine-tuned with reinforcement learning for natural language processing.",
)


@pytest.mark.parametrize(
    ("text", "field"),
    [(MEDICAL_ZH, "health"), (MEDICAL_EN, "health"), (AI_ZH, "ai"), (AI_EN, "ai")],
)
def test_clear_texts_get_the_obvious_field(text: tuple[str, str], field: str) -> None:
    result = enrich(*text)
    assert result.suggested_field == field
    assert 0.5 < result.field_confidence <= 1.0
    assert result.evidence


def test_confidence_is_a_probability_for_any_text() -> None:
    for title, summary in [MEDICAL_ZH, AI_EN, ("", ""), ("xyz qwerty", "。。。"), ("训练", "")]:
        result = enrich(title, summary)
        assert 0.0 <= result.field_confidence <= 1.0
        assert all(0.0 <= alt.probability <= 1.0 for alt in result.alternatives)


def test_no_evidence_falls_back_to_other_with_zero_confidence() -> None:
    result = enrich("Zorblax frobnicator", "qwerty uiop")
    assert result.suggested_field == FALLBACK_CODE
    assert result.field_confidence == 0.0


def test_more_contested_evidence_gives_lower_confidence() -> None:
    clear = suggest_field(*MEDICAL_ZH)
    mixed = suggest_field("用于医疗影像的人工智能芯片", "深度学习 诊断 医院")
    assert clear[1] > mixed[1]


def test_user_keywords_come_first_then_extracted_ones() -> None:
    result = enrich(*AI_ZH, keywords=["工业质检", " 视觉大模型 ", "工业质检"], top_k=5)
    assert result.keywords[:2] == ("工业质检", "视觉大模型")
    assert len(result.keywords) == 5
    assert len(set(result.keywords)) == 5


def test_extracted_keywords_keep_taxonomy_terms_whole() -> None:
    enrich("warm-up", "")  # registers the taxonomy terms
    text = "固态电池电解质界面研究：固态电池的循环寿命与固态电池安全性"
    keywords = extract_keywords(text, top_k=3)
    assert keywords[0] == "固态电池"
    assert all(len(k) > 1 for k in keywords)


def test_enrichment_carries_normalised_text_and_language() -> None:
    result = enrich("機器人 ＡＩ 平台", "Embodied AI for robots", description="灵巧手")
    assert result.normalised_text == "机器人 ai 平台 embodied ai for robots 灵巧手"
    assert result.language == "mixed"


def test_seed_taxonomy_covers_the_plan_and_the_broad_fields() -> None:
    codes = seed_taxonomy().codes
    assert codes[-1] == FALLBACK_CODE
    assert {"ai", "ic_it", "health", "space_net", "ev_auto", "robotics", "quantum",
            "commercial_space", "synbio", "materials", "energy_env"} <= set(codes)
    assert {"agri_food", "advanced_mfg", "social"} <= set(codes)
    for field in SEED_FIELDS:
        if field.code != FALLBACK_CODE or field.keywords_zh:
            assert 30 <= len(field.keywords_zh) <= 80, field.code
            assert 30 <= len(field.keywords_en) <= 80, field.code
        assert len(set(field.keywords_zh)) == len(field.keywords_zh), field.code


def test_load_taxonomy_without_a_file_is_the_seed() -> None:
    assert load_taxonomy() == seed_taxonomy()


def test_custom_taxonomy_file_adds_renames_and_disables(tmp_path: Path) -> None:
    path = tmp_path / "fields.toml"
    path.write_text(
        """
[fields.ai]
name_zh = "人工智能与大模型"
add_keywords_zh = ["具身大模型"]

[fields.quantum]
enabled = false

[fields.low_altitude]
name_zh = "低空经济"
name_en = "Low-altitude economy"
priority = true
keywords_zh = ["低空经济", "电动垂直起降飞行器", "无人机物流", "低空飞行服务"]
keywords_en = ["low-altitude economy", "evtol", "drone delivery"]
""",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(path)
    assert "quantum" not in taxonomy
    assert taxonomy.get("ai").name_zh == "人工智能与大模型"
    assert taxonomy.get("ai").keywords_zh[-1] == "具身大模型"
    assert taxonomy.codes[-2:] == ("low_altitude", FALLBACK_CODE)
    result = enrich("城市低空经济无人机物流配送网络", "电动垂直起降飞行器起降场", taxonomy=taxonomy)
    assert result.suggested_field == "low_altitude"


def test_custom_taxonomy_json(tmp_path: Path) -> None:
    path = tmp_path / "fields.json"
    path.write_text(json.dumps({"fields": {"social": {"name_en": "Soft science"}}}))
    assert load_taxonomy(path).get("social").name_en == "Soft science"


@pytest.mark.parametrize(
    "content",
    [
        '{"fields": {"other": {"enabled": false}}}',
        '{"fields": {"Bad Code": {"name_zh": "x", "name_en": "x"}}}',
        '{"fields": {"new_one": {"name_zh": "新"}}}',
        '{"fields": {"ai": {"colour": "red"}}}',
        '{"fields": {"ai": {"keywords_zh": "不是列表"}}}',
        "not json",
    ],
)
def test_bad_taxonomy_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "fields.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationFailed):
        load_taxonomy(path)


def test_unknown_field_code_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        seed_taxonomy().get("nope")


# --- enrich() shares one cut per text; it must give what the separate functions give -----------

RECORD_TEXT = st.lists(
    st.one_of(
        st.sampled_from([*MEDICAL_ZH, *MEDICAL_EN, *AI_ZH, *AI_EN, "固態電池", "锂离子电池",
                         "machine learning", "Machine", "learning", "无人机物流", " ", "，"]),
        st.text(alphabet="的一是在研究方法系统技术电池材料機器學習芯片 ab", max_size=6),
    ),
    max_size=8,
).map("".join)


def _separately(title: str, summary: str, keywords: list[str], top_k: int) -> tuple:
    """What enrich() computed before it shared the cuts: suggest_field + extract_keywords."""
    user = [k for k in keywords if k and k.strip()]
    body = " ".join(p for p in (summary, " ".join(user)) if p)
    full = f"{title} {body}".strip()
    code, confidence, ranked, evidence = suggest_field(title, body)
    merged = _merge_keywords(user, extract_keywords(full, top_k=top_k), top_k)
    return code, min(max(confidence, 0.0), 1.0), ranked[:3], evidence, merged, normalise(full)


@settings(deadline=None, max_examples=80)
@given(RECORD_TEXT, RECORD_TEXT, st.lists(RECORD_TEXT, max_size=3), st.integers(1, 10))
def test_enrich_equals_the_separate_functions(
    title: str, summary: str, keywords: list[str], top_k: int
) -> None:
    result = enrich(title, summary, keywords=keywords, top_k=top_k)
    got = (result.suggested_field, result.field_confidence, result.alternatives,
           result.evidence, result.keywords, result.normalised_text)
    assert got == _separately(title, summary, keywords, top_k)


def test_field_profiles_are_found_for_an_equal_taxonomy() -> None:
    # seed_taxonomy() builds a new, equal object each call: the profiles must be reused.
    assert _profiles(seed_taxonomy(), default_segmenter()) is _profiles(
        seed_taxonomy(), default_segmenter()
    )
