"""The text layer: normalisation, segmentation, user terms, language detection."""

from __future__ import annotations

import jieba
import pytest

from luodi.matching.text import (
    Segmenter,
    add_user_terms,
    fold_plural,
    language_of,
    normalise,
    segment,
    stopwords,
)


@pytest.fixture(scope="module")
def fresh() -> Segmenter:
    """A segmenter of its own, so user terms added here never reach the shared one."""
    return Segmenter()


def test_normalise_folds_width_case_script_and_space() -> None:
    assert normalise("  ＡＩ　芯片  ") == "ai 芯片"
    assert normalise("機器學習\t\n與\u3000資料") == "机器学习 与 资料"
    assert normalise("ＣＯＶＩＤ－１９，疫苗") == "covid-19,疫苗"
    assert normalise(None) == ""
    assert normalise("   ") == ""


def test_normalise_leaves_the_input_alone() -> None:
    original = "人工智慧 ＡＩ"
    normalise(original)
    assert original == "人工智慧 ＡＩ"


def test_chinese_is_cut_into_words_not_characters(fresh: Segmenter) -> None:
    text = "本项目研究锂离子电池的热管理技术"
    tokens = fresh.segment(text)
    assert any(len(t) >= 2 for t in tokens)
    assert "电池" in tokens
    # Not a character split, and not a split on spaces (there are none).
    assert tokens != list(text)
    assert tokens != [text]
    assert "的" not in tokens  # stopword


def test_chinese_with_spaces_is_still_segmented(fresh: Segmenter) -> None:
    tokens = fresh.segment("新能源汽车 动力电池回收利用")
    assert "动力电池回收利用" not in tokens
    assert "回收" in tokens or "回收利用" in tokens


def test_traditional_gives_the_same_tokens_as_simplified(fresh: Segmenter) -> None:
    assert fresh.segment("機器學習與電池管理系統") == fresh.segment("机器学习与电池管理系统")
    assert fresh.segment("醫藥衛生") == fresh.segment("医药卫生")


def test_english_tokens_are_whole_words_lowercased_and_plural_folded(fresh: Segmenter) -> None:
    tokens = fresh.segment("Lithium Batteries and Sensors, e.g. for the ISS (2024).")
    assert tokens == ["lithium", "battery", "sensor", "iss"]


def test_punctuation_numbers_and_stopwords_are_dropped(fresh: Segmenter) -> None:
    assert fresh.segment("，。！？ 2024 ... the of 的 了") == []


def test_fold_plural_leaves_non_plurals() -> None:
    assert fold_plural("batteries") == "battery"
    assert fold_plural("classes") == "class"
    assert fold_plural("analysis") == "analysis"
    assert fold_plural("physics") == "physics"
    assert fold_plural("diabetes") == "diabetes"
    assert fold_plural("gas") == "gas"


def test_user_terms_become_single_tokens(fresh: Segmenter) -> None:
    text = "一种低轨遥感星座调度平台"
    assert "低轨遥感星座" not in fresh.segment(text)
    assert fresh.add_user_terms(["低轨遥感星座", "Soft Actuator Skin"]) == 2
    assert "低轨遥感星座" in fresh.segment(text)
    tokens = fresh.segment("A soft actuator skin for grippers")
    assert "soft actuator skin" in tokens
    assert "gripper" in tokens


def test_user_terms_are_idempotent(fresh: Segmenter) -> None:
    fresh.add_user_terms(["星地激光通信终端"])
    assert fresh.add_user_terms(["星地激光通信终端", "星地激光通信终端"]) == 0
    assert "星地激光通信终端" in fresh.user_terms()


def test_search_mode_adds_the_parts_of_compound_terms(fresh: Segmenter) -> None:
    fresh.add_user_terms(["钠离子储能电池"])
    precise = fresh.segment("钠离子储能电池")
    search = fresh.segment("钠离子储能电池", search=True)
    assert precise == ["钠离子储能电池"]
    assert "钠离子储能电池" in search and "电池" in search


def test_user_terms_do_not_pollute_the_global_jieba(fresh: Segmenter) -> None:
    fresh.add_user_terms(["量子退火调度器"])
    assert "量子退火调度器" not in jieba.lcut("量子退火调度器")


def test_module_functions_use_the_shared_segmenter() -> None:
    add_user_terms(["碳纤维缠绕气瓶"])
    assert "碳纤维缠绕气瓶" in segment("高压碳纤维缠绕气瓶")


def test_stopwords_are_shipped_and_normalised() -> None:
    words = stopwords()
    assert {"的", "the", "本文"} <= words
    assert all(w == normalise(w) for w in words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("基于深度学习的肺结节检测方法", "zh"),
        ("一种用于5G基站的DNA检测芯片封装结构", "zh"),
        ("Polyimide Wire Insulation Repair System", "en"),
        ("基于 deep learning 的 image segmentation 方法", "mixed"),
        ("", "zh"),
    ],
)
def test_language_of(text: str, expected: str) -> None:
    assert language_of(text) == expected
