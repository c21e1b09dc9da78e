"""Header mapping: synonyms, normalisation, profiles and their dict round trip, transforms."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luodi.errors import ValidationFailed
from luodi.inventory.importers.mapping import (
    KINDS,
    LIST_FIELDS,
    REQUIRED,
    SYNONYMS,
    MappingProfile,
    Transform,
    apply_transforms,
    map_row,
    normalize_header,
    resolve_headers,
)


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        ("achievements", "成果名称", "title"),
        ("achievements", "Title", "title"),
        ("achievements", "摘要", "summary"),
        ("achievements", "详细描述", "description"),
        ("achievements", "关键词", "keywords"),
        ("achievements", "行业领域", "field"),
        ("achievements", "TRL", "trl"),
        ("achievements", "技术成熟度", "trl"),
        ("achievements", "转化方式", "transfer_modes"),
        ("achievements", "意向价格", "price"),
        ("achievements", "行政区划代码", "region"),
        ("achievements", "region_code", "region"),
        ("achievements", "完成单位", "institution"),
        ("achievements", "完成人", "inventors"),
        ("achievements", "专利号", "ip"),
        ("achievements", "patent_no", "ip"),
        ("achievements", "编号", "external_id"),
        ("achievements", "ID", "external_id"),
        ("achievements", "来源", "source"),
        ("achievements", "状态", "status"),
        ("demands", "需求名称", "title"),
        ("demands", "需求描述", "description"),
        ("demands", "企业名称", "enterprise"),
        ("demands", "统一社会信用代码", "credit_code"),
        ("demands", "预算", "budget"),
        ("demands", "budget_min", "budget_min"),
        ("demands", "截止日期", "deadline"),
        ("demands", "合作方式", "cooperation_modes"),
        ("demands", "是否保密", "confidential"),
        ("enterprises", "企业名称", "name"),
        ("enterprises", "国民经济行业", "industry"),
        ("enterprises", "企业规模", "size"),
        ("enterprises", "资质", "qualifications"),
        ("enterprises", "简介", "profile"),
        ("institutions", "机构名称", "name"),
        ("institutions", "类型", "kind"),
        ("institutions", "Website", "website"),
        ("experts", "姓名", "name"),
        ("experts", "职称", "title"),
        ("experts", "专长", "skills"),
        ("experts", "邮箱", "email"),
        ("experts", "电话", "phone"),
        ("experts", "Publications", "publications"),
    ],
)
def test_builtin_synonyms(kind, header, field):
    assert resolve_headers([header], kind).mapping == {header: field}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("  Title ", "title"),
        ("ＴＩＴＬＥ", "title"),  # full-width letters
        ("*成果名称", "title"),  # required marker in import templates
        ("成果名称（必填）", "title"),  # bracketed note
        ("参考价格（万元）", "price"),
        ("参考价格[元]", "price"),
        ("Region-Code", "region"),
        ("REGION CODE", "region"),
        ("external ID", "external_id"),
        ("关 键 词", "keywords"),
    ],
)
def test_headers_match_after_normalisation(header, field):
    assert resolve_headers([header], "achievements").mapping == {header: field}


def test_normalize_header():
    assert normalize_header(" Region_Code ") == "regioncode"
    assert normalize_header("ＲＥＧＩＯＮ－ｃｏｄｅ") == "regioncode"
    assert normalize_header("成果名称：") == "成果名称"


def test_unknown_and_missing_required():
    result = resolve_headers(["摘要", "备注", "Notes"], "achievements")
    assert result.mapping == {"摘要": "summary"}
    assert result.unknown_headers == ["备注", "Notes"]
    assert result.missing_required == ["title"]
    mapping, unknown, missing = result  # unpacks as the documented triple
    assert missing == ["title"]


def test_two_headers_for_one_field_are_refused():
    with pytest.raises(ValidationFailed, match="名称、成果名称 all map to field title") as err:
        resolve_headers(["名称", "成果名称"], "achievements")
    assert err.value.data == {"field": "title", "headers": ["名称", "成果名称"]}


def test_unknown_kind():
    with pytest.raises(ValidationFailed, match="unknown record kind 'patents'"):
        resolve_headers(["title"], "patents")


# --- profiles --------------------------------------------------------------------------------


def test_profile_columns_win_and_none_ignores():
    profile = MappingProfile(
        name="某大学成果表",
        kind="achievements",
        columns={"项目名": "title", "名称": None, "负责人": "inventors"},
    )
    result = resolve_headers(["项目名", "名称", "负责人", "成果名称"], "achievements", profile)
    assert result.mapping == {"项目名": "title", "负责人": "inventors"}
    assert result.unknown_headers == ["成果名称"]  # title is already claimed by the profile
    assert result.missing_required == []


def test_profile_columns_match_normalised_headers():
    profile = MappingProfile(name="p", kind="experts", columns={"研究 领域": "skills"})
    assert resolve_headers(["研究领域"], "experts", profile).mapping == {"研究领域": "skills"}


def test_constants_count_as_present_and_fill_empty_cells():
    profile = MappingProfile(
        name="天津需求",
        kind="demands",
        columns={"问题": "title"},
        constants={"region": "120000", "cooperation_modes": "技术开发；技术服务"},
    )
    result = resolve_headers(["问题", "地区"], "demands", profile)
    assert result.mapping == {"问题": "title", "地区": "region"}
    row = map_row(
        {"问题": " 芯片散热 ", "地区": None}, result.mapping, kind="demands", profile=profile
    )
    assert row == {
        "title": "芯片散热",
        "region": "120000",
        "cooperation_modes": ["技术开发", "技术服务"],
    }
    row = map_row({"问题": "x", "地区": "130100"}, result.mapping, kind="demands", profile=profile)
    assert row["region"] == "130100"  # the file's own value wins over the constant


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "patents"}, "unknown record kind"),
        ({"columns": {"x": "nonsense"}}, "'nonsense' is not a field of achievements"),
        ({"constants": {"budget": "1"}}, "'budget' is not a field of achievements"),
        ({"columns": {"a": "title", "b": "title"}}, "a、b all map to field title"),
    ],
)
def test_invalid_profiles(kwargs, message):
    with pytest.raises(ValidationFailed, match=message):
        MappingProfile(**{"name": "p", "kind": "achievements"} | kwargs)


def test_profile_for_another_kind_is_refused():
    profile = MappingProfile(name="p", kind="experts")
    with pytest.raises(ValidationFailed, match="is for experts, not demands"):
        resolve_headers(["title"], "demands", profile)


def test_profile_round_trips_through_json():
    profile = MappingProfile(
        name="北京成果清单模板",
        kind="achievements",
        columns={"项目名": "title", "备注": None},
        constants={"source": "2026年第一批"},
        transforms={
            "keywords": (Transform("split", ("/",)),),
            "status": (Transform("map", values={"已发布": "published"}), Transform("lower")),
        },
    )
    stored = json.dumps(profile.to_dict(), ensure_ascii=False)
    assert MappingProfile.from_dict(json.loads(stored)) == profile


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"name": "p"},
        {"name": " ", "kind": "achievements"},
        {"name": "p", "kind": "achievements", "columns": {"a": 1}},
        {"name": "p", "kind": "achievements", "constants": {"trl": None}},
        {"name": "p", "kind": "achievements", "transforms": {"keywords": {"op": "split"}}},
        {"name": "p", "kind": "achievements", "transforms": {"keywords": [{"op": "eval"}]}},
        {"name": "p", "kind": "achievements", "transforms": {"keywords": [{"op": "split"}]}},
        {
            "name": "p",
            "kind": "achievements",
            "transforms": {"keywords": [{"op": "map", "values": [1]}]},
        },
    ],
)
def test_from_dict_refuses_bad_input(data):
    with pytest.raises(ValidationFailed):
        MappingProfile.from_dict(data)


_field_names = st.sampled_from(sorted(SYNONYMS["achievements"]))
_text = st.text(min_size=1, max_size=12)
_transforms = st.one_of(
    st.builds(Transform, st.just("split"), st.lists(_text, min_size=1, max_size=3).map(tuple)),
    st.builds(Transform, st.just("map"), values=st.dictionaries(_text, _text, max_size=3)),
    st.sampled_from([Transform("strip"), Transform("upper"), Transform("lower")]),
)


@given(
    name=_text,
    columns=st.dictionaries(_text, st.none() | _field_names, max_size=5).filter(
        lambda c: len([v for v in c.values() if v]) == len({v for v in c.values() if v})
    ),
    constants=st.dictionaries(_field_names, _text, max_size=3),
    transforms=st.dictionaries(_field_names, st.lists(_transforms, max_size=3).map(tuple)),
)
def test_any_valid_profile_round_trips(name, columns, constants, transforms):
    if not name.strip():
        return
    profile = MappingProfile(name, "achievements", columns, constants, transforms)
    data = json.loads(json.dumps(profile.to_dict()))
    assert MappingProfile.from_dict(data) == profile


# --- transforms ------------------------------------------------------------------------------


def test_default_list_split():
    mapping = {"关键词": "keywords", "发明人": "inventors", "成果名称": "title"}
    values = {"关键词": "量子;传感、精密测量，芯片, AI", "发明人": "张三，李四", "成果名称": "A, B"}
    row = map_row(values, mapping, kind="achievements")
    assert row["keywords"] == ["量子", "传感", "精密测量", "芯片", "AI"]
    assert row["inventors"] == ["张三", "李四"]
    assert row["title"] == "A, B"  # not a list field


def test_publications_do_not_split_on_commas():
    row = map_row({"论文": "A, B and C; D"}, {"论文": "publications"}, kind="experts")
    assert row == {"publications": ["A, B and C", "D"]}


def test_transforms_chain_and_apply_per_item_after_split():
    transforms = (Transform("split", (",",)), Transform("map", values={"是": "true"}))
    assert apply_transforms(" 是, 否 ", transforms) == ["true", "否"]
    assert apply_transforms("Abc", (Transform("upper"),)) == "ABC"
    assert apply_transforms(None, transforms) is None
    assert apply_transforms("   ", ()) is None
    assert apply_transforms(" ; ", (Transform("split", (";",)),)) == []


def test_unknown_transform_op():
    with pytest.raises(ValidationFailed, match="unknown transform 'eval'"):
        Transform("eval")


# --- the tables themselves -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_synonym_tables_are_unambiguous(kind):
    seen: dict[str, str] = {}
    for name, synonyms in SYNONYMS[kind].items():
        for header in (name, *synonyms):
            key = normalize_header(header)
            assert seen.setdefault(key, name) == name, f"{header} → {seen[key]} and {name}"


@pytest.mark.parametrize("kind", KINDS)
def test_required_and_list_fields_exist(kind):
    fields = set(SYNONYMS[kind])
    assert set(REQUIRED[kind]) <= fields
    assert set(LIST_FIELDS[kind]) <= fields
