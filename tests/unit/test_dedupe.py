"""Near-duplicate detection (luodi.inventory.dedupe)."""

from __future__ import annotations

import hashlib
import itertools
import sys
import unicodedata

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.errors import ValidationFailed
from luodi.inventory import dedupe
from luodi.inventory.dedupe import NearDuplicateIndex

# Achievement summaries of the kind the platform lists; several share stock phrases on purpose
# (一种基于深度学习的…, 卷积神经网络, 本发明) so "unrelated" is not trivially easy.
MEDICAL = (
    "本发明公开了一种基于深度学习的医学影像识别方法，通过卷积神经网络对CT图像进行自动分割与"
    "病灶检测，显著提高了诊断的准确率和效率。该方法包括数据预处理、多尺度特征提取和后处理三个"
    "步骤，已在三家三甲医院完成临床验证，适用于医院影像科的辅助诊断系统。"
)
MEDICAL_TRADITIONAL = (
    "本發明公開了一種基於深度學習的醫學影像識別方法，通過卷積神經網絡對CT圖像進行自動分割與"
    "病灶檢測，顯著提高了診斷的準確率和效率。該方法包括數據預處理、多尺度特徵提取和後處理三個"
    "步驟，已在三家三甲醫院完成臨床驗證，適用於醫院影像科的輔助診斷系統。"
)
OTHERS = {
    "battery": "一种新型锂离子电池正极材料的制备方法，采用高镍三元前驱体与固相烧结工艺，提升了"
    "电池的能量密度和循环寿命，可用于新能源汽车动力电池。",
    "driving": "本成果提出一种面向自动驾驶的多传感器融合定位技术，融合激光雷达、毫米波雷达与高精度"
    "地图数据，在城市复杂道路环境下实现厘米级定位。",
    "defects": "一种基于深度学习的工业缺陷检测方法，利用卷积神经网络对产品表面图像进行分类与定位，"
    "提高了生产线质检效率，降低了人工成本。",
    "satellite": "本项目研发了一种用于卫星互联网的低轨星座路由算法，可根据星间链路状态动态调整"
    "路由，降低端到端时延并提高网络吞吐量。",
    "synbio": "一种合成生物学方法生产高附加值化学品的工艺，通过改造大肠杆菌代谢通路实现目标产物的"
    "高效合成，产率较传统工艺提高三倍。",
    "llm": "本发明涉及一种基于大模型的智能客服系统，通过检索增强生成技术结合企业知识库回答用户"
    "问题，显著提升了回答准确率。",
    "robot": "一种服务机器人的柔性关节及其控制方法，采用串联弹性驱动器实现力矩控制，提高了人机交互"
    "的安全性，适用于具身智能机器人。",
    "english": "A solid-state electrolyte for lithium metal batteries with high ionic conductivity "
    "and a stable interface, made by a low-cost sintering process.",
}


def lightly_edited(text: str) -> str:
    # A few characters changed, as when another office re-types the record: one word swapped
    # for a synonym (通过→利用) and one character (和→与), 3 of ~150 characters.
    return text.replace("通过", "利用", 1).replace("和效率", "与效率", 1)


def more_edited(text: str) -> str:
    # Five edits (8 characters): still the same achievement, but below the default 0.8.
    for old, new in [("显著", "明显"), ("三家", "五家"), ("自动", "智能")]:
        text = text.replace(old, new, 1)
    return lightly_edited(text)


@pytest.fixture(scope="module")
def index() -> NearDuplicateIndex:
    idx = NearDuplicateIndex()
    idx.add("medical", MEDICAL)
    for key, text in OTHERS.items():
        idx.add(key, text)
    return idx


# --- normalisation and shingles ---------------------------------------------------------------


def test_normalise_folds_script_width_case_and_punctuation() -> None:
    assert dedupe.normalise("基於深度學習，ＣＴ圖像！") == "基于深度学习 ct图像"
    assert dedupe.normalise(MEDICAL_TRADITIONAL) == dedupe.normalise(MEDICAL)
    assert dedupe.normalise("  Deep-Learning\tmodel  ") == "deep learning model"


def test_shingles_are_word_pairs_plus_char_trigrams() -> None:
    assert dedupe.shingles("深度学习方法") == {
        "w:深度 学习", "w:学习 方法", "c:深度学", "c:度学习", "c:学习方", "c:习方法",
    }  # fmt: skip


def test_very_short_and_empty_texts() -> None:
    assert dedupe.shingles("量子") == {"c:量子"}
    assert dedupe.shingles("，。！  ") == set()
    with pytest.raises(ValidationFailed) as excinfo:
        dedupe.signature("——")
    assert excinfo.value.data["reason"] == "empty_text"


# --- signatures -----------------------------------------------------------------------------------


def test_signature_is_fixed_size_bytes_and_deterministic() -> None:
    sig = dedupe.signature(MEDICAL)
    assert isinstance(sig, bytes) and len(sig) == dedupe.SIGNATURE_BYTES == 517
    assert dedupe.signature(MEDICAL) == sig
    assert dedupe.estimate_jaccard(sig, sig) == 1.0


def test_signature_is_pinned() -> None:
    # Stored signatures must stay comparable. If this fails after upgrading jieba, OpenCC,
    # numpy or datasketch, or after changing the shingling, bump SIGNATURE_VERSION and plan a
    # job that recomputes the stored signatures; do not just update the digest.
    sig = dedupe.signature("落地：基于深度學習的醫學影像識別方法，適用於CT圖像。")
    assert hashlib.sha256(sig).hexdigest()[:16] == "e9dc2b976bb39ce6"


def test_bad_signatures_are_refused() -> None:
    sig = dedupe.signature(MEDICAL)
    for bad in (sig[:-1], b"XXXX" + sig[4:], sig[:4] + bytes([99]) + sig[5:]):
        with pytest.raises(ValueError, match="recompute"):
            dedupe.estimate_jaccard(bad, sig)


def test_estimate_tracks_exact_jaccard() -> None:
    # Reference check: with 128 permutations the estimate's standard error is below 0.045, so
    # on these fixed pairs (deterministic: fixed seed) it must stay within 0.15 of the truth.
    texts = [MEDICAL, lightly_edited(MEDICAL), MEDICAL[:80], *OTHERS.values()]
    for a, b in itertools.combinations(texts, 2):
        sa, sb = dedupe.shingles(a), dedupe.shingles(b)
        exact = len(sa & sb) / len(sa | sb)
        estimate = dedupe.estimate_jaccard(dedupe.signature(a), dedupe.signature(b))
        assert abs(estimate - exact) < 0.15, (a[:10], b[:10], exact, estimate)


# --- the index ------------------------------------------------------------------------------------


def test_finds_lightly_edited_copy(index: NearDuplicateIndex) -> None:
    hits = index.query(lightly_edited(MEDICAL))
    assert [key for key, _ in hits] == ["medical"]
    assert hits[0][1] >= 0.8


def test_heavier_edits_need_a_looser_threshold(index: NearDuplicateIndex) -> None:
    assert index.query(more_edited(MEDICAL)) == []
    hits = index.query(more_edited(MEDICAL), threshold=0.6)
    assert [key for key, _ in hits] == ["medical"]


def test_finds_traditional_chinese_copy(index: NearDuplicateIndex) -> None:
    assert index.query(MEDICAL_TRADITIONAL) == [("medical", 1.0)]


def test_finds_copy_with_changed_punctuation_and_spacing(index: NearDuplicateIndex) -> None:
    retyped = MEDICAL.replace("，", ", ").replace("。", ". ").replace("CT", "ｃｔ")
    assert index.query(retyped) == [("medical", 1.0)]


def test_does_not_flag_unrelated_texts(index: NearDuplicateIndex) -> None:
    for key, text in OTHERS.items():
        assert index.query(text) == [(key, 1.0)], key
    assert index.query("一种用于污水处理的膜生物反应器及其运行方法。") == []
    # Even at a loose threshold the shared stock phrases do not make them look alike.
    for key, text in OTHERS.items():
        assert [k for k, _ in index.query(text, threshold=0.3)] == [key]


def test_results_are_sorted_and_ties_keep_insertion_order() -> None:
    idx = NearDuplicateIndex()
    idx.add("edited", lightly_edited(MEDICAL))
    idx.add("first", MEDICAL)
    idx.add("second", MEDICAL_TRADITIONAL)
    hits = idx.query(MEDICAL)
    assert [k for k, _ in hits] == ["first", "second", "edited"]
    assert hits[0][1] == hits[1][1] == 1.0 > hits[2][1]


def test_add_replaces_and_remove_drops() -> None:
    idx = NearDuplicateIndex()
    idx.add(1, MEDICAL)
    idx.add(1, OTHERS["battery"])
    assert len(idx) == 1 and 1 in idx
    assert idx.query(MEDICAL) == []
    assert idx.query(OTHERS["battery"]) == [(1, 1.0)]
    idx.remove(1)
    assert len(idx) == 0 and 1 not in idx
    assert idx.query(OTHERS["battery"], threshold=0.1) == []
    with pytest.raises(KeyError):
        idx.remove(1)


def test_low_threshold_scans_everything() -> None:
    idx = NearDuplicateIndex(min_threshold=0.7)
    idx.add("medical", MEDICAL)
    half = MEDICAL[: len(MEDICAL) // 2]  # similarity well below 0.7
    assert idx.query(half) == []
    (key, similarity), *rest = idx.query(half, threshold=0.3)
    assert key == "medical" and 0.3 <= similarity < 0.7 and not rest


def test_rebuild_from_stored_signatures(index: NearDuplicateIndex) -> None:
    rows = [("medical", dedupe.signature(MEDICAL))]
    rows += [(key, dedupe.signature(text)) for key, text in OTHERS.items()]
    rebuilt = dedupe.from_signatures(rows)
    assert len(rebuilt) == len(index)
    for text in [lightly_edited(MEDICAL), MEDICAL_TRADITIONAL, *OTHERS.values()]:
        assert rebuilt.query(text) == index.query(text)
    assert rebuilt.query_signature(rows[1][1]) == [(rows[1][0], 1.0)]


def test_index_grows_past_its_first_block() -> None:
    idx = NearDuplicateIndex()
    sig = dedupe.signature(OTHERS["robot"])
    for i in range(1500):  # the matrix starts at 1024 rows
        idx.add_signature(i, sig)
    hits = idx.query(OTHERS["robot"])
    assert len(hits) == 1500 and hits[0] == (0, 1.0) and hits[-1] == (1499, 1.0)


@settings(deadline=None, max_examples=40)
@given(st.text(min_size=1, max_size=60))
def test_any_text_finds_itself(text: str) -> None:
    if not dedupe.shingles(text):
        with pytest.raises(ValidationFailed):
            dedupe.signature(text)
        return
    idx = NearDuplicateIndex()
    idx.add("k", text)
    assert idx.query(text) == [("k", 1.0)]


@settings(deadline=None, max_examples=30)
@given(
    st.text(alphabet="的了是在一种方法系统技术基于深度学习电池材料机器人", min_size=3, max_size=40)
)
def test_similarity_is_symmetric(text: str) -> None:
    a, b = dedupe.signature(text), dedupe.signature(MEDICAL)
    assert dedupe.estimate_jaccard(a, b) == dedupe.estimate_jaccard(b, a)


# --- the speed-ups must not move a shingle --------------------------------------------------------


def _reference_normalise(text: str) -> str:
    """dedupe.normalise before the speed-up: all text through OpenCC, a per-character fold."""
    text = opencc.OpenCC("t2s").convert(unicodedata.normalize("NFKC", text)).casefold()
    kept = "".join(c if c.isalnum() else " " for c in text)
    return " ".join(kept.split())


def _reference_shingles(text: str) -> set[str]:
    """dedupe.shingles before the speed-up: jieba's own cut of the whole text."""
    norm = _reference_normalise(text)
    words = [w for w in dedupe._tokenizer().lcut(norm, HMM=False) if not w.isspace()]
    compact = norm.replace(" ", "")
    result = {f"w:{a} {b}" for a, b in itertools.pairwise(words)}
    result.update(f"c:{compact[i : i + 3]}" for i in range(len(compact) - 2))
    if not result and compact:
        result.add(f"c:{compact}")
    return result


MIXED_TEXT = st.lists(
    st.one_of(
        st.sampled_from([MEDICAL[:40], MEDICAL_TRADITIONAL[:40], "反覆", "覆盖", "瞭解", "藉此",
                         "乾隆", "頭髮", "Deep-Learning", "ＣＴ圖像", "v2.0", "C++", "snake_case"]),
        st.text(alphabet="本發明公開了一種基於深度學習的医学影像识别方法覆瞭藉沈", max_size=6),
        st.text(alphabet="abcXYZ0129 _-.,，。、；\t\n\u3000！（）①Ⅻ²", max_size=4),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


@settings(deadline=None, max_examples=300)
@given(st.one_of(MIXED_TEXT, st.text(max_size=40)))
def test_normalise_and_shingles_equal_the_reference(text: str) -> None:
    assert dedupe.normalise(text) == _reference_normalise(text)
    assert dedupe.shingles(text) == _reference_shingles(text)
    assert dedupe.shingles(text) == _reference_shingles(text)  # again, from the chunk memo


def test_fold_matches_isalnum_for_every_character() -> None:
    # The regular expression stands in for str.isalnum(); check the whole of Unicode once.
    not_alnum = dedupe._NOT_ALNUM
    assert all(
        (not_alnum.match(c) is None) == c.isalnum() for c in map(chr, range(sys.maxunicode + 1))
    )
