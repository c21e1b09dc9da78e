"""Header mapping for bulk import: the columns of a file → the canonical fields of a record kind.

Built-in synonyms cover the Chinese and English headers people actually use; a
:class:`MappingProfile` (导入映射方案) saved by an operator overrides them for one supplier's
files, adds constant values and value transforms, and round-trips through a plain dict so it
can be stored as JSON. Headers match after :func:`normalize_header`; when nothing matches, a
bracketed note such as ``（万元）`` or ``(必填)`` is dropped and the header is tried again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from luodi.errors import ValidationFailed

__all__ = [
    "KINDS", "LIST_FIELDS", "REQUIRED", "SYNONYMS", "HeaderMapping", "MappingProfile",
    "Transform", "apply_transforms", "map_row", "normalize_header", "resolve_headers",
]  # fmt: skip

# --- the tables: extend these, not the code --------------------------------------------------

_COMMON: dict[str, tuple[str, ...]] = {
    "region": ("region_code", "所在地区", "行政区划代码", "地区", "所在地", "区划代码", "地区代码"),
    "external_id": ("编号", "id", "外部编号", "原编号"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "uscc"),
}

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "achievements": {
        "title": ("成果名称", "名称", "项目名称", "成果名", "name"),
        "summary": ("摘要", "简介", "成果简介", "abstract"),
        "description": ("详细描述", "描述", "成果描述", "详细介绍", "details"),
        "keywords": ("关键词", "关键字", "keyword", "tags"),
        "field": ("领域", "行业领域", "技术领域", "所属领域", "industry field"),
        "trl": ("技术成熟度", "成熟度", "技术就绪度", "technology readiness level"),
        "stage": ("阶段", "成熟阶段", "所处阶段"),
        "transfer_modes": ("转化方式", "转移方式", "拟转化方式", "transfer mode"),
        "price": ("参考价格", "意向价格", "价格", "转让价格", "asking price"),
        "region": _COMMON["region"],
        "institution": ("所属机构", "完成单位", "所属单位", "单位", "owner"),
        "inventors": ("发明人", "完成人", "inventor"),
        "ip": ("patent_no", "专利号", "专利", "知识产权", "patent", "patents"),
        "external_id": (*_COMMON["external_id"], "成果编号"),
        "source": ("来源", "数据来源"),
        "status": ("状态",),
    },
    "demands": {
        "title": ("需求名称", "名称", "需求标题", "标题", "name"),
        "description": ("需求描述", "描述", "问题描述", "需求内容", "details"),
        "enterprise": ("企业名称", "企业", "需求方", "需求单位", "company"),
        "credit_code": _COMMON["credit_code"],
        "field": ("领域", "行业领域", "技术领域", "所属领域", "industry field"),
        "budget_min": ("预算下限", "最低预算", "预算最低", "min budget"),
        "budget_max": ("预算上限", "最高预算", "预算最高", "max budget"),
        "budget": ("预算", "预算金额", "预算范围", "拟投入资金"),  # free text such as "10-50万"
        "deadline": ("截止日期", "截止时间", "有效期至", "due date"),
        "cooperation_modes": ("合作方式", "合作模式", "cooperation mode"),
        "region": _COMMON["region"],
        "confidential": ("是否保密", "保密", "密级"),
        "external_id": (*_COMMON["external_id"], "需求编号"),
    },
    "enterprises": {
        "name": ("企业名称", "名称", "单位名称", "公司名称", "company"),
        "credit_code": _COMMON["credit_code"],
        "region": _COMMON["region"],
        "industry": ("国民经济行业", "行业", "所属行业", "行业分类", "行业代码"),
        "size": ("企业规模", "规模"),
        "qualifications": ("资质", "企业资质", "资质认定"),
        "profile": ("简介", "企业简介", "概况", "description"),
        "external_id": _COMMON["external_id"],
    },
    "institutions": {
        "name": ("机构名称", "名称", "单位名称"),
        "kind": ("类型", "机构类型", "type"),
        "region": _COMMON["region"],
        "credit_code": _COMMON["credit_code"],
        "website": ("网址", "网站", "主页", "url", "homepage"),
        "external_id": _COMMON["external_id"],
    },
    "experts": {
        "name": ("姓名", "专家姓名", "名字"),
        "institution": ("工作单位", "所在单位", "所属机构", "单位", "机构", "affiliation"),
        "title": ("职称",),
        "skills": ("专长", "研究方向", "专业特长", "技术专长", "expertise"),
        "email": ("邮箱", "电子邮箱", "电子邮件"),
        "phone": ("电话", "手机", "联系电话", "手机号"),
        "publications": ("论文", "代表性论文", "论著", "代表作"),
        "external_id": _COMMON["external_id"],
    },
}

KINDS: tuple[str, ...] = tuple(SYNONYMS)

REQUIRED: dict[str, tuple[str, ...]] = {
    "achievements": ("title",),
    "demands": ("title",),
    "enterprises": ("name",),
    "institutions": ("name",),
    "experts": ("name",),
}

_LIST_SEPARATORS = (";", "；", "、", "，", ",", "\n", "|")
# Titles of papers and names in "Family, Given" form contain commas: split only on the rest.
_NO_COMMA_SEPARATORS = (";", "；", "、", "\n", "|")

# field → separators for values that are lists; applied when no profile transform is given.
LIST_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "achievements": {
        "keywords": _LIST_SEPARATORS,
        "transfer_modes": _LIST_SEPARATORS,
        "inventors": (*_NO_COMMA_SEPARATORS, "，"),
        "ip": _LIST_SEPARATORS,
    },
    "demands": {"cooperation_modes": _LIST_SEPARATORS},
    "enterprises": {"qualifications": _LIST_SEPARATORS},
    "institutions": {},
    "experts": {"skills": _LIST_SEPARATORS, "publications": _NO_COMMA_SEPARATORS},
}

# --- matching --------------------------------------------------------------------------------

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕")


def normalize_header(text: str) -> str:
    """Fold a header for matching: NFKC (full-width → half-width), casefold, and drop all
    whitespace, punctuation and symbols, so ``" Region_Code "`` and ``"ＲＥＧＩＯＮ－ｃｏｄｅ"``
    both become ``"regioncode"``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c)[0] not in "PS")


def _strip_note(text: str) -> str:
    return normalize_header(_BRACKETED.sub("", unicodedata.normalize("NFKC", text)))


def _synonym_index(kind: str) -> dict[str, str]:
    """Normalized header → field for one kind; the field's own name always matches."""
    index: dict[str, str] = {}
    for name, synonyms in SYNONYMS[kind].items():
        for header in (name, *synonyms):
            index.setdefault(normalize_header(header), name)
    return index


class HeaderMapping(NamedTuple):
    """What :func:`resolve_headers` found: header → field, and what it could not place."""

    mapping: dict[str, str]
    unknown_headers: list[str]
    missing_required: list[str]


def resolve_headers(
    headers: list[str], kind: str, profile: MappingProfile | None = None
) -> HeaderMapping:
    """Map file headers to canonical fields of ``kind``.

    A profile's explicit columns win over synonyms (a column mapped to None is deliberately
    ignored and reported nowhere); a header matched only by synonym whose field the profile
    already claims becomes unknown. Two headers claiming one field on an equal footing raise
    ValidationFailed, because importing the wrong one silently would be worse than asking.
    A required field counts as present when the profile gives it a constant.
    """
    _check_kind(kind)
    if profile is not None and profile.kind != kind:
        raise ValidationFailed(f"mapping profile {profile.name} is for {profile.kind}, not {kind}")
    explicit = profile.normalized_columns() if profile else {}
    index = _synonym_index(kind)
    by_profile: dict[str, str] = {}
    by_synonym: dict[str, list[str]] = {}
    unknown: list[str] = []
    for header in headers:
        key = normalize_header(header)
        if key in explicit:
            target = explicit[key]
            if target is not None:
                _claim(by_profile, target, header)
            continue
        target = index.get(key) or index.get(_strip_note(header))
        if target is None:
            unknown.append(header)
        else:
            by_synonym.setdefault(target, []).append(header)
    mapping = {header: name for name, header in by_profile.items()}
    for name, claimants in by_synonym.items():
        if name in by_profile:
            unknown.extend(claimants)
            continue
        if len(claimants) > 1:
            _refuse_ambiguous(name, claimants)
        mapping[claimants[0]] = name
    present = set(mapping.values()) | set(profile.constants if profile else ())
    missing = [name for name in REQUIRED[kind] if name not in present]
    return HeaderMapping(mapping, unknown, missing)


def _claim(claimed: dict[str, str], name: str, header: str) -> None:
    if name in claimed:
        _refuse_ambiguous(name, [claimed[name], header])
    claimed[name] = header


def _refuse_ambiguous(name: str, headers: list[str]) -> None:
    listed = "、".join(headers)
    raise ValidationFailed(
        f"columns {listed} all map to field {name}: choose one in a mapping profile",
        data={"field": name, "headers": headers},
    )


def _check_kind(kind: str) -> None:
    if kind not in SYNONYMS:
        raise ValidationFailed(f"unknown record kind {kind!r}", data={"kinds": list(KINDS)})


# --- transforms and profiles -----------------------------------------------------------------

_OPS = ("strip", "split", "map", "upper", "lower")


@dataclass(frozen=True)
class Transform:
    """One value transform: ``strip``, ``split`` (on any of ``separators``), ``map`` (whole
    value → ``values[value]`` when listed, e.g. 是 → true), ``upper`` or ``lower``."""

    op: str
    separators: tuple[str, ...] = ()
    values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValidationFailed(f"unknown transform {self.op!r}", data={"ops": list(_OPS)})
        separators_ok = all(isinstance(s, str) and s for s in self.separators)
        if self.op == "split" and not (self.separators and separators_ok):
            raise ValidationFailed("split needs at least one non-empty separator")

    def apply(self, value: str) -> str | list[str]:
        """Apply to one string value."""
        if self.op == "split":
            pattern = "|".join(map(re.escape, self.separators))
            return [part.strip() for part in re.split(pattern, value) if part.strip()]
        if self.op == "map":
            return self.values.get(value.strip(), value)
        if self.op == "upper":
            return value.upper()
        if self.op == "lower":
            return value.lower()
        return value.strip()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reverses it."""
        data: dict[str, Any] = {"op": self.op}
        if self.separators:
            data["separators"] = list(self.separators)
        if self.values:
            data["values"] = dict(self.values)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transform:
        """Build from :meth:`to_dict` output; ValidationFailed on anything else."""
        if not isinstance(data, Mapping) or not isinstance(data.get("op"), str):
            raise ValidationFailed("a transform must be an object with an op")
        values = data.get("values", {})
        if not isinstance(values, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise ValidationFailed("map values must be an object of strings")
        separators = data.get("separators", ())
        if isinstance(separators, str):
            raise ValidationFailed("separators must be a list of strings")
        return cls(data["op"], tuple(separators), dict(values))


def apply_transforms(value: str | None, transforms: tuple[Transform, ...]) -> Any:
    """Run transforms in order; after a split, later ones apply to each item. None stays None."""
    if value is None:
        return None
    result: str | list[str] = value.strip()  # stray spaces break lookups such as credit codes
    for transform in transforms:
        if isinstance(result, list):
            result = [item for part in result for item in _as_list(transform.apply(part))]
        else:
            result = transform.apply(result)
    return result if result != "" else None


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class MappingProfile:
    """A saved mapping (导入映射方案) for one kind: ``columns`` maps a file header to a field
    (None ignores the column), ``constants`` fill a field when the file leaves it empty, and
    ``transforms`` replace the default transforms of a field."""

    name: str
    kind: str
    columns: Mapping[str, str | None] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    transforms: Mapping[str, tuple[Transform, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        fields = set(SYNONYMS[self.kind])
        named = [f for f in self.columns.values() if f is not None]
        for name in (*named, *self.constants, *self.transforms):
            if name not in fields:
                raise ValidationFailed(
                    f"{name!r} is not a field of {self.kind}", data={"fields": sorted(fields)}
                )
        seen: dict[str, str] = {}
        for header, target in self.columns.items():
            if target is not None:
                _claim(seen, target, header)

    def normalized_columns(self) -> dict[str, str | None]:
        """Columns keyed by :func:`normalize_header`, as :func:`resolve_headers` matches them."""
        return {normalize_header(h): f for h, f in self.columns.items()}

    def transforms_for(self, name: str) -> tuple[Transform, ...]:
        """The profile's transforms for a field, else the default split for list fields."""
        if name in self.transforms:
            return tuple(self.transforms[name])
        return default_transforms(self.kind, name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reverses it."""
        return {
            "name": self.name,
            "kind": self.kind,
            "columns": dict(self.columns),
            "constants": dict(self.constants),
            "transforms": {f: [t.to_dict() for t in ts] for f, ts in self.transforms.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MappingProfile:
        """Build from :meth:`to_dict` output (e.g. loaded from JSON); ValidationFailed else."""
        if not isinstance(data, Mapping):
            raise ValidationFailed("a mapping profile must be an object")
        name, kind = data.get("name"), data.get("kind")
        if not isinstance(name, str) or not name.strip() or not isinstance(kind, str):
            raise ValidationFailed("a mapping profile needs a name and a kind")
        columns = _str_dict(data.get("columns", {}), "columns", allow_none=True)
        constants = _str_dict(data.get("constants", {}), "constants")
        raw = data.get("transforms", {})
        if not isinstance(raw, Mapping) or not all(isinstance(v, list) for v in raw.values()):
            raise ValidationFailed("transforms must map a field to a list of transforms")
        transforms = {f: tuple(Transform.from_dict(t) for t in ts) for f, ts in raw.items()}
        return cls(name, kind, columns, constants, transforms)


def _str_dict(value: Any, what: str, *, allow_none: bool = False) -> dict[str, Any]:
    ok = isinstance(value, Mapping) and all(
        isinstance(k, str) and (isinstance(v, str) or (allow_none and v is None))
        for k, v in value.items()
    )
    if not ok:
        raise ValidationFailed(f"{what} must be an object of strings")
    return dict(value)


def default_transforms(kind: str, name: str) -> tuple[Transform, ...]:
    """The built-in transforms of a field: a split for list fields, nothing otherwise."""
    separators = LIST_FIELDS.get(kind, {}).get(name)
    return (Transform("split", separators),) if separators else ()


def map_row(
    values: Mapping[str, str | None],
    mapping: Mapping[str, str],
    *,
    kind: str,
    profile: MappingProfile | None = None,
) -> dict[str, Any]:
    """Turn one row (header → text) into field → value (str, list of str, or None).

    Values are stripped and transformed; list fields become lists; a profile constant fills
    a field the row leaves empty or the file does not have.
    """
    _check_kind(kind)
    record: dict[str, Any] = {}
    for header, name in mapping.items():
        transforms = profile.transforms_for(name) if profile else default_transforms(kind, name)
        record[name] = apply_transforms(values.get(header), transforms)
    if profile is not None:
        for name, constant in profile.constants.items():
            if record.get(name) in (None, []):
                record[name] = apply_transforms(constant, profile.transforms_for(name))
    return record
