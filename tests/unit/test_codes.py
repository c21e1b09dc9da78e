"""Credit codes, region codes, TRL and the controlled vocabularies (luodi.inventory.codes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luodi.errors import ValidationFailed
from luodi.inventory import codes
from luodi.inventory.codes import (
    CREDIT_CHARSET,
    CREDIT_DEPARTMENTS,
    AchievementStatus,
    ContractCategory,
    EnterpriseSize,
    LabelledEnum,
    Qualification,
    TransferMode,
    TrlStage,
)

# Published codes of well-known companies, checked by hand against both check characters:
# 北京百度网讯科技有限公司, 华为技术有限公司, 腾讯科技（深圳）有限公司; the last has letters in
# the organisation-code part (MA…), which pins the A=10 … Z=35 values of GB 11714.
REAL_CODES = [
    "91110000802100433B",
    "914403001922038216",
    "9144030071526726XG",
    "91110108MA01KPGK0L",
]


def reason_of(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return excinfo.value.data["reason"]


# --- credit codes -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_validate(code: str) -> None:
    assert codes.validate_credit_code(code) == code


def test_credit_code_is_normalised() -> None:
    assert codes.validate_credit_code("  9144030071526726xg\n") == "9144030071526726XG"
    # Full-width digits from a Chinese IME and a space pasted in the middle.
    assert codes.validate_credit_code("９１１１００００ 802100433B") == "91110000802100433B"


def test_check_char_matches_published_codes() -> None:
    for code in REAL_CODES:
        assert codes.credit_code_check_char(code[:17]) == code[17]
        assert codes.org_code_check_char(code[8:16]) == code[16]


@given(
    seed=st.integers() | st.text(max_size=20),
    department=st.sampled_from(sorted(CREDIT_DEPARTMENTS)),
    data=st.data(),
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
)
def test_make_then_validate_round_trip(seed, department, data, region) -> None:
    category = data.draw(st.sampled_from(CREDIT_DEPARTMENTS[department][1]))
    code = codes.make_credit_code(seed, department=department, category=category, region=region)
    assert len(code) == 18
    assert code[:2] == department + category and code[2:8] == region
    assert codes.validate_credit_code(code) == code


def test_make_credit_code_is_deterministic() -> None:
    assert codes.make_credit_code(7) == codes.make_credit_code(7)
    assert codes.make_credit_code(7) != codes.make_credit_code(8)


@given(
    code=st.builds(codes.make_credit_code, st.integers()), pos=st.integers(0, 17), data=st.data()
)
def test_any_single_substitution_is_caught(code, pos, data) -> None:
    # Mod-31 with weights coprime to 31 catches every single-character error.
    other = data.draw(st.sampled_from([c for c in CREDIT_CHARSET if c != code[pos]]))
    with pytest.raises(ValidationFailed):
        codes.validate_credit_code(code[:pos] + other + code[pos + 1 :])


@pytest.mark.parametrize("bad", ["", "9111000080210043", "91110000802100433BX"])
def test_wrong_length(bad: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code(bad)
    assert reason_of(excinfo) == "length"
    assert "18" in excinfo.value.message
    assert excinfo.value.data["field"] == "credit_code"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters(letter: str) -> None:
    code = "91110000802100433B"
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code(code[:10] + letter + code[11:])
    assert reason_of(excinfo) == "illegal_character"
    assert excinfo.value.data["positions"] == "11"
    assert letter in excinfo.value.message


def test_punctuation_is_illegal_and_all_positions_are_named() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code("9111000080210043-O")
    assert reason_of(excinfo) == "illegal_character"
    assert excinfo.value.data["positions"] == "17, 18"


def test_bad_department() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code("B1110000802100433B")
    assert reason_of(excinfo) == "department"
    assert "登记管理部门" in excinfo.value.message and "department" in excinfo.value.message


def test_bad_category_for_department() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code("94110000802100433B")  # 工商 has categories 1, 2, 3 only
    assert reason_of(excinfo) == "category"
    assert excinfo.value.data["allowed"] == "1/2/3"


def test_region_part_must_be_digits() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code("9111A000802100433B")
    assert reason_of(excinfo) == "region"


def test_retired_region_in_credit_code_is_accepted() -> None:
    # Codes are issued for life: 350402 (三明市梅列区) was merged away in 2021.
    code = codes.make_credit_code(1, region="350402")
    assert codes.validate_credit_code(code) == code


def test_wrong_check_character_names_the_expected_one() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code("91110000802100433C")
    assert reason_of(excinfo) == "check_character"
    assert excinfo.value.data["expected"] == "B"
    assert "'B'" in excinfo.value.message


def _with_bad_org_check(code: str) -> str:
    # Change the organisation check digit, then repair the overall check character, so only
    # the GB 11714 check can notice.
    wrong = "1" if code[16] != "1" else "2"
    first17 = code[:16] + wrong
    return first17 + codes.credit_code_check_char(first17)


def test_org_code_check() -> None:
    forged = _with_bad_org_check("91110000802100433B")
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_credit_code(forged)
    assert reason_of(excinfo) == "org_check"
    assert excinfo.value.data["expected"] == "3"
    assert codes.validate_credit_code(forged, check_org_code=False) == forged


def test_check_char_helpers_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        codes.credit_code_check_char("123")
    with pytest.raises(ValueError):
        codes.org_code_check_char("8021004")


# --- region codes -------------------------------------------------------------------------------


def test_current_codes_from_the_brief() -> None:
    assert codes.region_name("110112") == "通州区"
    assert codes.region_name("120116") == "滨海新区"
    assert codes.region_name("133100") == "雄安新区"
    assert codes.get_region("133100").source == "supplement"


def test_table_shape() -> None:
    regions = codes._regions()
    assert sum(r.level == "province" for r in regions.values()) == 34
    assert {r.code for r in regions.values() if r.level == "province"} == set(codes.PROVINCE_EN)
    for region in regions.values():
        assert len(region.code) == 6 and region.code.isdigit()
        if region.level != "province":
            assert region.parent in regions
            assert region.code[:2] == region.parent[:2]


def test_validate_region_code() -> None:
    assert codes.validate_region_code(" 110108 ") == "110108"
    assert codes.validate_region_code(110108) == "110108"
    assert codes.validate_region_code("110108000000") == "110108"  # 12-digit statistical code


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("350402", "unknown"),  # 梅列区, merged into 三元区 350404 in 2021
        ("110103", "unknown"),  # 崇文区, merged into 东城区 in 2010
        ("999999", "unknown"),
        ("11010", "format"),
        ("11010A", "format"),
        ("", "format"),
    ],
)
def test_invalid_region_codes(value: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_region_code(value)
    assert reason_of(excinfo) == reason
    assert excinfo.value.data["field"] == "region_code"


def test_region_chain() -> None:
    assert codes.region_chain("130638") == ["河北省", "保定市", "雄县"]
    assert codes.region_chain("110108") == ["北京市", "海淀区"]  # no city level
    assert codes.region_chain("429004") == ["湖北省", "仙桃市"]  # 省直辖县级行政区划
    assert codes.region_chain("130000") == ["河北省"]
    assert codes.region_chain("120116", locale="en") == ["Tianjin", "滨海新区"]


def test_region_name_english() -> None:
    assert codes.region_name("110000", "en") == "Beijing"
    assert codes.region_name("120000", "en") == "Tianjin"
    assert codes.region_name("130000", "en") == "Hebei"
    assert codes.region_name("110108", "en") == "海淀区"  # no English below provinces


def test_province_of_and_jjj() -> None:
    assert codes.province_of("130638") == "130000"
    assert codes.province_of("350402") == "350000"  # retired codes still have a province
    assert [codes.is_jjj(c) for c in ("110112", "120116", "133100", "130638")] == [True] * 4
    assert not codes.is_jjj("310101") and not codes.is_jjj("440305")
    assert codes.is_jjj("110103")  # retired 崇文区 still counts for old deals
    with pytest.raises(ValidationFailed):
        codes.is_jjj("11")
    with pytest.raises(ValidationFailed) as excinfo:
        codes.province_of("990000")
    assert reason_of(excinfo) == "unknown_province"


def test_children_of() -> None:
    hebei = codes.children_of("130000")
    assert [r.code for r in hebei][:2] == ["130100", "130200"]
    assert "133100" in {r.code for r in hebei}
    assert len(codes.children_of("110000")) == 16  # Beijing's 16 districts


def test_search_regions() -> None:
    names = [r.name for r in codes.search_regions("通州")]
    assert names == ["通州区", "通州区"]  # Beijing's first (code order), then Nantong's
    assert codes.search_regions("北京")[0].code == "110000"
    assert codes.search_regions("海淀区")[0].code == "110108"
    assert [r.code for r in codes.search_regions("hebei")] == ["130000"]
    assert [r.code for r in codes.search_regions("Tibet")] == ["540000"]
    assert codes.search_regions("1331")[0].code == "133100"
    assert codes.search_regions("") == [] and codes.search_regions("不存在的地名") == []
    assert len(codes.search_regions("区", limit=5)) == 5


def test_search_ranks_exact_then_prefix_then_level() -> None:
    # Both start with 吉林: the province outranks the city. An exact name beats a longer one.
    assert [r.code for r in codes.search_regions("吉林")[:2]] == ["220000", "220200"]
    assert codes.search_regions("吉林市")[0].code == "220200"
    # Prefix matches come before names that merely contain the query.
    names = [r.name for r in codes.search_regions("安", limit=500)]
    assert names[0] == "安徽省" and "西安市" in names
    flags = [not n.startswith("安") for n in names]
    assert flags == sorted(flags)


# --- TRL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trl", "stage"),
    [(1, "early"), (3, "early"), (4, "middle"), (6, "middle"), (7, "mature"), (9, "mature")],
)
def test_trl_stage_boundaries(trl: int, stage: str) -> None:
    assert codes.trl_stage(trl) == stage


def test_trl_table() -> None:
    assert [t.number for t in codes.TRL_LEVELS] == list(range(1, 10))
    assert all(t.zh and t.en for t in codes.TRL_LEVELS)
    assert codes.trl_level(5).stage.zh == "中期"


@pytest.mark.parametrize("value", [5, 5.0, "5", " TRL5 ", "trl 5", "5级", "５"])
def test_validate_trl_accepts(value: object) -> None:
    assert codes.validate_trl(value) == 5


@pytest.mark.parametrize("value", [0, 10, -1, True, 3.5, "x", "TRL", None, "10"])
def test_validate_trl_rejects(value: object) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.validate_trl(value)
    assert reason_of(excinfo) == "trl_range"


# --- vocabularies ---------------------------------------------------------------------------------

VOCABULARIES: list[type[LabelledEnum]] = [
    TransferMode,
    ContractCategory,
    AchievementStatus,
    EnterpriseSize,
    Qualification,
    TrlStage,
]


@pytest.mark.parametrize("vocab", VOCABULARIES)
def test_every_label_parses_back(vocab: type[LabelledEnum]) -> None:
    for member in vocab:
        for label in (member.value, member.zh, member.en, member.en.upper(), *member.aliases):
            assert vocab.parse(label) is member
        assert vocab.parse(member) is member


@pytest.mark.parametrize("vocab", VOCABULARIES)
def test_labels_do_not_collide(vocab: type[LabelledEnum]) -> None:
    seen: dict[str, LabelledEnum] = {}
    for member in vocab:
        for label in {member.value, member.zh, member.en, *member.aliases}:
            key = codes._label_key(label)
            assert seen.setdefault(key, member) is member, f"{label!r} is ambiguous in {vocab}"


def test_codes_from_the_brief() -> None:
    assert [m.value for m in TransferMode] == [
        "self_implement", "transfer", "license", "co_implement", "equity_investment",
        "development_service",
    ]  # fmt: skip
    assert [m.value for m in ContractCategory] == [
        "development_commissioned", "development_cooperative", "transfer", "license",
        "consulting", "service",
    ]  # fmt: skip
    assert [m.value for m in AchievementStatus] == [
        "draft", "published", "in_docking", "transferred", "withdrawn", "expired",
    ]  # fmt: skip
    assert [m.value for m in EnterpriseSize] == ["micro", "small", "medium", "large"]
    assert [m.value for m in Qualification] == [
        "high_tech",
        "specialised",
        "little_giant",
        "tech_sme",
    ]


def test_parse_in_chinese_and_english() -> None:
    assert codes.parse_transfer_mode("作价投资") is TransferMode.EQUITY_INVESTMENT
    assert codes.parse_transfer_mode("Equity Investment") is TransferMode.EQUITY_INVESTMENT
    assert codes.parse_transfer_mode("合作实施") is TransferMode.CO_IMPLEMENT
    assert (
        codes.parse_contract_category("技术开发（委托）")
        is ContractCategory.DEVELOPMENT_COMMISSIONED
    )
    assert (
        codes.parse_contract_category("技术开发(合作)") is ContractCategory.DEVELOPMENT_COOPERATIVE
    )
    assert (
        codes.parse_contract_category("技术开发-委托") is ContractCategory.DEVELOPMENT_COMMISSIONED
    )
    assert codes.parse_contract_category("TECHNICAL CONSULTING") is ContractCategory.CONSULTING
    assert codes.parse_achievement_status("对接中") is AchievementStatus.IN_DOCKING
    assert codes.parse_achievement_status("in docking") is AchievementStatus.IN_DOCKING
    assert codes.parse_enterprise_size("中型") is EnterpriseSize.MEDIUM
    assert codes.parse_qualification("专精特新“小巨人”企业") is Qualification.LITTLE_GIANT
    assert codes.parse_qualification("专精特新") is Qualification.SPECIALISED
    assert codes.parse_qualification("高新技术企业") is Qualification.HIGH_TECH
    assert codes.parse_trl_stage("成熟") is TrlStage.MATURE


def test_members_are_strings_with_labels() -> None:
    assert TransferMode.LICENSE == "license"
    assert TransferMode.LICENSE.label() == "许可"
    assert TransferMode.LICENSE.label("en-GB") == "Licensing"
    assert f"{AchievementStatus.DRAFT}" == "draft"


def test_unknown_value_message() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        codes.parse_enterprise_size("巨型")
    err = excinfo.value
    assert err.data["reason"] == "unknown_value"
    assert err.data["field"] == "enterprise_size"
    assert "企业规模" in err.message and "enterprise size" in err.message
    assert "micro, small, medium, large" in err.message
    assert err.status == 422
