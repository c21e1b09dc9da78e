"""Segmentation of mixed Chinese/English text (tests/unit/test_text.py covers each language alone).

What luodi/matching/text.py promises and these check on mixed input: NFKC (full-width → half-width)
and traditional → simplified before cutting; Latin words kept whole, lowercased and
plural-folded inside Chinese; bare numbers and single Latin letters dropped, alphanumerics kept;
Chinese cut into words whether or not it is spaced; multi-word English user terms merged even
when glued to Chinese; ``language_of`` gives ``'mixed'`` only when neither language is a minority.
"""

from __future__ import annotations

import pytest

from luodi.matching.text import Segmenter, language_of, normalise


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


def test_latin_acronyms_inside_chinese_are_tokens(seg: Segmenter) -> None:
    tokens = seg.segment("基于BERT的中文NER模型")
    assert tokens == ["bert", "中文", "ner", "模型"]  # 基于 and 的 are stopwords


def test_chinese_glued_to_english_is_cut_at_the_script_change(seg: Segmenter) -> None:
    tokens = seg.segment("小麦wheat品种varieties")
    assert tokens == ["小麦", "wheat", "品种", "variety"]
    assert seg.segment("SLAM系统") == ["slam", "系统"]


def test_full_width_latin_folds_to_the_same_tokens(seg: Segmenter) -> None:
    assert seg.segment("Ｌｉ－ｉｏｎ電池") == seg.segment("Li-ion电池") == ["li", "ion", "电池"]
    assert seg.segment("Ｒｏｂｏｔｓ与机器人") == ["robot", "机器人"]
    assert seg.segment("ＡＩ芯片") == seg.segment("AI芯片")


def test_traditional_in_mixed_text_folds_to_simplified(seg: Segmenter) -> None:
    traditional = seg.segment("用於Batteries和Sensors的固態電池")
    assert traditional == seg.segment("用于Batteries和Sensors的固态电池")
    assert {"battery", "sensor", "固态", "电池"} <= set(traditional)
    assert not {"電池", "固態", "batteries", "sensors"} & set(traditional)
    # Character-level conversion only: regional vocabulary is not rewritten.
    assert "软件" not in seg.segment("軟體GPU加速")


@pytest.mark.parametrize(("spaced", "unspaced"), [
    ("固态 电池", "固态电池"),
    ("机器人 视觉 robot vision", "机器人视觉 robot vision"),
    ("锂离子电池 lithium-ion batteries", "锂离子电池lithium-ion batteries"),
])
def test_spaces_are_not_the_only_cut(seg: Segmenter, spaced: str, unspaced: str) -> None:
    assert seg.segment(spaced) == seg.segment(unspaced)
    assert len(seg.segment(unspaced)) > len(unspaced.split())  # cut inside the space-free runs


def test_unspaced_chinese_is_words_not_one_token_nor_characters(seg: Segmenter) -> None:
    tokens = seg.segment("新能源汽车动力电池回收利用技术 for EV batteries")
    assert "新能源汽车动力电池回收利用技术" not in tokens
    assert any(len(t) >= 2 and not t.isascii() for t in tokens)
    assert not all(len(t) == 1 for t in tokens if not t.isascii())
    assert tokens[-2:] == ["ev", "battery"]


def test_english_plurals_fold_inside_chinese_but_not_the_exceptions(seg: Segmenter) -> None:
    tokens = seg.segment("Diabetes诊断的Sensors与Physics分析、Batteries和Lens，Classes")
    assert {"diabetes", "sensor", "physics", "battery", "lens", "class"} <= set(tokens)
    assert not {"diabete", "sensors", "physic", "batteries", "len", "classe"} & set(tokens)


def test_numbers_and_single_letters_drop_but_alphanumerics_stay(seg: Segmenter) -> None:
    assert seg.segment("5G基站用DNA芯片") == ["5g", "基站", "用", "dna", "芯片"]
    assert seg.segment("X射线检测2024年") == ["射线", "检测", "年"]
    assert "c++" in seg.segment("C++编写的SLAM系统")
    assert "v2.0" in seg.segment("v2.0版本") and "3d" in seg.segment("3D打印")
    assert "19" not in seg.segment("COVID-19疫苗") and "covid" in seg.segment("COVID-19疫苗")


def test_order_and_repeats_are_kept_across_languages(seg: Segmenter) -> None:
    assert seg.segment("电池 battery 电池 batteries") == ["电池", "battery", "电池", "battery"]


def test_english_stopwords_are_dropped_in_mixed_text(seg: Segmenter) -> None:
    assert seg.segment("the robots of 机器人 and the 视觉") == ["robot", "机器人", "视觉"]


def test_multi_word_terms_merge_when_glued_to_chinese() -> None:
    seg = Segmenter()
    assert seg.add_user_terms(["machine learning", "锂离子电池", "Li-ion"]) == 3
    text = "基于Machine  Learning的锂離子電池寿命预测"
    assert seg.segment(text) == ["machine learning", "锂离子电池", "寿命", "预测"]
    assert seg.segment(text, search=True) == ["machine", "learning", "machine learning", "锂离子",
                                              "电池", "锂离子电池", "寿命", "预测"]
    assert seg.segment("Ｌｉ－ｉｏｎ電池") == ["li ion", "电池"]
    # Only the whole phrase merges: its first word alone stays a word.
    assert seg.segment("machine视觉") == ["machine", "视觉"]


def test_normalise_of_mixed_text() -> None:
    assert normalise("基於ＢＥＲＴ的\u3000NER　模型") == "基于bert的 ner 模型"


@pytest.mark.parametrize(("text", "expected"), [
    ("一种用于锂离子电池的BMS管理系统", "zh"),  # one Latin word among 14 characters
    ("基于BERT的中文NER模型", "mixed"),  # two Latin words of nine units: over a fifth
    ("小麦wheat品种varieties", "mixed"),
    ("Robot vision system for warehouse 仓", "en"),  # one character of six units
    ("Ｒｏｂｏｔ　ｖｉｓｉｏｎ　ｓｙｓｔｅｍ", "en"),  # full width counts as Latin
    ("機器人視覺 robot vision", "mixed"),
])
def test_language_of_mixed_text(text: str, expected: str) -> None:
    assert language_of(text) == expected
