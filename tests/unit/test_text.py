"""The text layer: normalisation, segmentation, user terms, language detection."""

from __future__ import annotations

from types import SimpleNamespace

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.matching import text as text_module
from luodi.matching.text import (
    Segmenter,
    SkippingConverter,
    add_user_terms,
    fold_plural,
    jieba_cut,
    language_of,
    normalise,
    segment,
    stopwords,
    to_simplified,
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


# --- speed-ups must not change results ------------------------------------------------------------

def _rewriting_phrases() -> list[str]:
    """Multi-character t2s keys that OpenCC rewrites (read from its tables, as the fast path)."""
    try:
        chain = text_module._t2s()._dict_chain_data
        return sorted(
            key for group in chain for (_, _, mapping) in group for key, value in mapping.items()
            if len(key) > 1 and value.split(" ")[0] != key
        )
    except (AttributeError, TypeError, ValueError):
        return []


# Phrases whose rewritten character is *not* rewritten on its own (瞭, 藉, 覆, 沈…), phrases that
# protect a character (乾隆, 著作), and ordinary traditional and simplified text.
PHRASES = [
    "瞭解", "一目瞭然", "藉口", "藉由", "反覆", "答覆", "覆蓋", "覆盖", "沈默", "沈船", "乾隆",
    "乾燥", "著作", "頭髮", "發展", "后来", "後來", "於是", "理髮", "機器學習", "电池管理系统",
    *_rewriting_phrases()[::7],
]  # fmt: skip
PIECES = st.one_of(
    st.sampled_from(PHRASES),
    st.text(alphabet="覆瞭藉沈牴衹乾著後發髮於與機器學習電池係統的是在一种方法系统", max_size=4),
    st.text(alphabet="abcXYZ019 ，。、；：-.,?!*　\t\n（）《》—…「」ＡＢ１２", max_size=3),
    st.text(max_size=2),
)
MIXED = st.lists(PIECES, max_size=25).map("".join)


def _reference_normalise(text: str | None) -> str:
    """The normaliser before the speed-up: every text through OpenCC, no memo."""
    if not text:
        return ""
    folded = text_module.unicodedata.normalize("NFKC", text)
    folded = text_module._t2s().convert(folded).lower()
    return text_module._WHITESPACE.sub(" ", folded).strip()


@settings(deadline=None, max_examples=300)
@given(MIXED)
def test_fast_t2s_equals_opencc(text: str) -> None:
    assert to_simplified(text) == text_module._t2s().convert(text)


@settings(deadline=None, max_examples=200)
@given(MIXED)
def test_normalise_equals_the_unmemoised_reference(text: str) -> None:
    assert normalise(text) == _reference_normalise(text)
    assert normalise(text) == _reference_normalise(text)  # second call: from the memo if short


def test_fast_t2s_on_known_cases() -> None:
    for text in ["反覆性研究", "覆盖率提高", "我們瞭解到藉此方法", "乾隆年間的著作",
                 "已经是简体的文本。", "頭髮，理髮；後來", "", "   ", "ＡＩ晶片"]:
        assert to_simplified(text) == text_module._t2s().convert(text), text


def test_skipping_converter_falls_back_when_tables_are_unknown() -> None:
    upper = SimpleNamespace(convert=lambda s: s.upper())  # no OpenCC tables to read
    assert SkippingConverter(upper).convert("abc") == "ABC"  # type: ignore[arg-type]


JIEBA_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["机器学习", "锂离子电池", "深度学习", "研究", "方法", "系统",
                         "量子退火调度器", "的", "了", "和", "南京市长江大桥",
                         "结婚的和尚未结婚的"]),
        st.text(alphabet="的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对",
                max_size=6),
        st.text(alphabet="abcdeXYZ0123456789+#&._%- \r\n\t,，。；(", max_size=4),
        st.text(max_size=2),
    ),
    max_size=25,
).map("".join)


@pytest.fixture(scope="module")
def word_tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer with a user word, like the segmenter's."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.add_word("量子退火调度器")
    return tokenizer


@settings(deadline=None, max_examples=300)
@given(JIEBA_TEXT, st.booleans())
def test_jieba_cut_equals_jieba(word_tokenizer: jieba.Tokenizer, text: str, hmm: bool) -> None:
    assert jieba_cut(word_tokenizer, text, hmm=hmm) == list(word_tokenizer.cut(text, HMM=hmm))


def test_jieba_cut_equals_jieba_on_known_sentences(word_tokenizer: jieba.Tokenizer) -> None:
    for text in ["我来到北京清华大学", "他来到了网易杭研大厦",
                 "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
                 "C++ and v2.0 100% real-time", "结婚的和尚未结婚的",
                 "量子退火调度器的研究\r\n第二行"]:
        for hmm in (True, False):
            assert jieba_cut(word_tokenizer, text, hmm=hmm) == list(
                word_tokenizer.cut(text, HMM=hmm)
            )


def _reference_segment(seg: Segmenter, text: str, search: bool) -> list[str]:
    """Segmentation before the speed-up: the whole text through jieba, no chunk memo."""
    normalised = _reference_normalise(text)
    if not normalised:
        return []
    stop = stopwords()
    pieces = seg._jieba().cut(normalised)
    tokens = [t for t in (text_module._clean(p, stop) for p in pieces) if t is not None]
    if seg._phrases:
        merged, i = [], 0
        while i < len(tokens):
            for size in range(min(seg._longest_phrase, len(tokens) - i), 1, -1):
                if tuple(tokens[i : i + size]) in seg._phrases:
                    merged.append(" ".join(tokens[i : i + size]))
                    i += size
                    break
            else:
                merged.append(tokens[i])
                i += 1
        tokens = merged
    if search and seg._parts:
        tokens = [part for tok in tokens for part in (*seg._parts.get(tok, ()), tok)]
    return tokens


@pytest.fixture(scope="module")
def termed() -> Segmenter:
    seg = Segmenter()
    seg.add_user_terms(["锂离子电池", "量子退火调度器", "machine learning", "soft actuator skin",
                        "solid-state", "深度学习"])
    return seg


SEGMENT_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["machine", "learning", "Machine Learning", "soft", "actuator", "skin",
                         "Solid-State", "batteries", "锂离子电池", "鋰離子電池", "深度學習",
                         "量子退火调度器"]),
        JIEBA_TEXT,
        MIXED,
        st.just(" "),
    ),
    max_size=12,
).map("".join)


@settings(deadline=None, max_examples=200)
@given(SEGMENT_TEXT)
def test_segment_equals_the_uncached_reference(termed: Segmenter, text: str) -> None:
    for search in (False, True):
        expected = _reference_segment(termed, text, search)
        assert termed.segment(text, search=search) == expected
        assert termed.segment(text, search=search) == expected  # again, from the chunk memo
    assert termed.search_tokens(termed.segment(text)) == termed.segment(text, search=True)


def test_adding_terms_refreshes_the_chunk_memo() -> None:
    seg = Segmenter()
    text = "星地激光通信终端 星地激光通信终端"
    before = seg.segment(text)  # both chunks now memoised
    assert "星地激光通信终端" not in before
    seg.add_user_terms(["星地激光通信终端"])
    assert seg.segment(text) == ["星地激光通信终端", "星地激光通信终端"]
