"""Codes the inventory checks: credit codes, region codes, TRL and the controlled vocabularies.

Pure functions over vendored data; no database, no web. Everything that rejects input raises
:class:`luodi.errors.ValidationFailed` with a Chinese / English message and ``data["reason"]``
(a stable key the web layer can translate) so importers and forms report the same thing.
Sources and refresh steps: docs/data-sources.md.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Self

from luodi.errors import ValidationFailed

# reason → (Chinese, English) message templates; one table keeps the validators short and lets
# a translator see every message at once.
_MESSAGES = {
    "length": (
        "统一社会信用代码应为 18 位，收到 {length} 位",
        "A unified social credit code has 18 characters; got {length}.",
    ),
    "illegal_character": (
        "统一社会信用代码第 {positions} 位含非法字符 {chars}（不使用 I、O、Z、S、V）",
        "Illegal character(s) {chars} at position(s) {positions}; only digits and capitals "
        "except I, O, Z, S, V are used.",
    ),
    "department": (
        "第 1 位登记管理部门代码 '{char}' 无效（应为 1–9、A、N、Y）",
        "'{char}' is not a registration-department code (1-9, A, N or Y).",
    ),
    "category": (
        "第 2 位机构类别代码 '{char}' 不适用于登记管理部门 {department}，应为 {allowed}",
        "Category '{char}' is not valid for registration department {department}; "
        "expected {allowed}.",
    ),
    "region": (
        "第 3–8 位应为 6 位行政区划数字码，收到 '{got}'",
        "Characters 3-8 must be a six-digit region code; got '{got}'.",
    ),
    "check_character": (
        "校验码错误：第 18 位应为 '{expected}'，收到 '{got}'",
        "Wrong check character: expected '{expected}', got '{got}'.",
    ),
    "org_check": (
        "第 9–17 位组织机构代码的校验位（第 17 位）应为 '{expected}'，收到 '{got}'",
        "The organisation-code part fails its GB 11714 check: character 17 should be "
        "'{expected}', got '{got}'.",
    ),
    "format": (
        "行政区划代码应为 6 位数字，收到 '{got}'",
        "A region code has six digits; got '{got}'.",
    ),
    "unknown": (
        "'{got}' 不是现行行政区划代码（可能已撤销或不存在）",
        "'{got}' is not a current GB/T 2260 region code (retired or never existed).",
    ),
    "unknown_province": (
        "'{got}' 的前两位不是省级代码",
        "'{got}' does not start with a provincial-level code.",
    ),
    "trl_range": (
        "技术就绪水平应为 1–9 的整数，收到 '{got}'",
        "TRL must be a whole number from 1 to 9; got '{got}'.",
    ),
    "unknown_value": (
        "无法识别的{what_zh}：'{got}'，可选 {choices_zh}",
        "Unknown {what_en} '{got}'; expected one of {choices}.",
    ),
}


def _fail(reason: str, field: str, **params: Any) -> ValidationFailed:
    zh, en = _MESSAGES[reason]
    message = f"{zh.format(**params)} / {en.format(**params)}"
    return ValidationFailed(message, data={"field": field, "reason": reason, **params})


def _clean(value: object) -> str:
    # NFKC folds full-width input from Chinese IMEs (９１１１…) to ASCII; spaces pasted in go.
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


# --- Unified social credit code (统一社会信用代码, GB 32100-2015) --------------------------------

# 31 characters: the digits and the capitals without I, O, Z, S, V (confusable with 1, 0, 2, 5, U).
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# W_i = 3^(i-1) mod 31, as printed in GB 32100-2015 §4.
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Characters 9–17 are a GB 11714-1997 organisation code: 8 characters and a mod-11 check digit
# over values 0–9, A=10 … Z=35. Checked on published codes (华为 19220382-1, 腾讯 71526726-X,
# 百度网讯 80210043-3) and on an MA… code with letters before we dared to enforce it.
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Registration department (登记管理部门, 1st character) → (name, allowed categories, 2nd
# character), from GB 32100-2015 Table 1 and its amendment (which added 2–4, 6–8, A and N).
CREDIT_DEPARTMENTS: dict[str, tuple[str, str]] = {
    "1": ("机构编制 establishment office", "1239"),
    "2": ("外交 foreign affairs", "19"),
    "3": ("司法行政 justice", "123459"),
    "4": ("文化 culture", "19"),
    "5": ("民政 civil affairs", "1239"),
    "6": ("旅游 tourism", "129"),
    "7": ("宗教 religious affairs", "129"),
    "8": ("工会 trade unions", "19"),
    "9": ("工商 market regulation", "123"),
    "A": ("中央军委改革和编制办公室 CMC establishment office", "19"),
    "N": ("农业 agriculture", "1239"),
    "Y": ("其他 other", "1"),
}


def credit_code_check_char(first17: str) -> str:
    """Return the 18th (check) character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in CREDIT_CHARSET for c in first17):
        raise ValueError("need 17 characters from the credit-code character set")
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """Return the GB 11714 check character (0–9 or X) for an 8-character organisation code."""
    if len(body8) != 8 or any(c not in _ORG_CHARSET for c in body8):
        raise ValueError("need 8 characters 0-9 / A-Z")
    total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def _credit_problem(code: str, check_org_code: bool) -> tuple[str, dict[str, Any]] | None:
    """The first rule ``code`` breaks, as (reason, message parameters), or None."""
    if len(code) != 18:
        return "length", {"length": len(code)}
    bad = [(i + 1, c) for i, c in enumerate(code) if c not in CREDIT_CHARSET]
    if bad:
        positions = ", ".join(str(i) for i, _ in bad)
        return "illegal_character", {"positions": positions, "chars": ", ".join(c for _, c in bad)}
    department = CREDIT_DEPARTMENTS.get(code[0])
    if department is None:
        return "department", {"char": code[0]}
    if code[1] not in department[1]:
        allowed = "/".join(department[1])
        return "category", {"char": code[1], "department": code[0], "allowed": allowed}
    if not code[2:8].isdigit():
        return "region", {"got": code[2:8]}
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return "check_character", {"expected": expected, "got": code[17]}
    if check_org_code and code[16] != (org := org_code_check_char(code[8:16])):
        return "org_check", {"expected": org, "got": code[16]}
    return None


def validate_credit_code(value: object, *, check_org_code: bool = True) -> str:
    """Return the normalised credit code or raise ValidationFailed saying what is wrong.

    The region part (characters 3–8) is only checked to be six digits: a code is issued for
    life, so it may carry a retired region code, and central registrations use 100000.
    ``check_org_code=False`` skips the GB 11714 check of characters 9–17, for legacy imports.
    """
    code = _clean(value)
    problem = _credit_problem(code, check_org_code)
    if problem is not None:
        raise _fail(problem[0], "credit_code", **problem[1])
    return code


def make_credit_code(
    seed: int | str, *, department: str = "9", category: str = "1", region: str = "110108"
) -> str:
    """Return a valid, deterministic credit code for tests and demo data (not a real entity)."""
    rng = random.Random(seed)  # noqa: S311 — fake test data, not a secret
    body = "".join(rng.choice(CREDIT_CHARSET) for _ in range(8))
    first17 = f"{department}{category}{region}{body}{org_code_check_char(body)}"
    return validate_credit_code(first17 + credit_code_check_char(first17))


# --- Region codes (行政区划代码, GB/T 2260) ------------------------------------------------------

JJJ_PREFIXES = ("11", "12", "13")  # 北京 Beijing, 天津 Tianjin, 河北 Hebei
LEVELS = ("province", "city", "county")

PROVINCE_EN = {
    "110000": "Beijing", "120000": "Tianjin", "130000": "Hebei", "140000": "Shanxi",
    "150000": "Inner Mongolia", "210000": "Liaoning", "220000": "Jilin",
    "230000": "Heilongjiang", "310000": "Shanghai", "320000": "Jiangsu", "330000": "Zhejiang",
    "340000": "Anhui", "350000": "Fujian", "360000": "Jiangxi", "370000": "Shandong",
    "410000": "Henan", "420000": "Hubei", "430000": "Hunan", "440000": "Guangdong",
    "450000": "Guangxi", "460000": "Hainan", "500000": "Chongqing", "510000": "Sichuan",
    "520000": "Guizhou", "530000": "Yunnan", "540000": "Xizang", "610000": "Shaanxi",
    "620000": "Gansu", "630000": "Qinghai", "640000": "Ningxia", "650000": "Xinjiang",
    "710000": "Taiwan", "810000": "Hong Kong", "820000": "Macao",
}  # fmt: skip
_EN_ALIASES = {"tibet": "540000", "macau": "820000", "hongkong": "810000"}


@dataclass(frozen=True, slots=True)
class Region:
    """One division: six-digit code, Chinese name, level, parent code ('' for a province)."""

    code: str
    name: str
    level: str
    parent: str
    source: str  # "mca" (ministry list) or "supplement" (added by scripts/build_regions.py)

    @property
    def name_en(self) -> str | None:
        """English name (provincial level only; the vendored list has no others)."""
        return PROVINCE_EN.get(self.code)


@cache
def _regions() -> dict[str, Region]:
    text = resources.files("luodi").joinpath("data/regions.tsv").read_text(encoding="utf-8")
    lines = (ln for ln in text.splitlines() if not ln.startswith("#"))
    return {r["code"]: Region(**r) for r in csv.DictReader(lines, delimiter="\t")}


def _six_digits(value: object) -> str:
    code = _clean(value)
    # 12-digit statistical codes (110108000000) name the same division when the tail is zeros.
    if len(code) == 12 and code.endswith("000000"):
        code = code[:6]
    if len(code) != 6 or not code.isdigit():
        raise _fail("format", "region_code", got=str(value))
    return code


def validate_region_code(value: object) -> str:
    """Return the six-digit code if it is a current division, else raise ValidationFailed."""
    code = _six_digits(value)
    if code not in _regions():
        raise _fail("unknown", "region_code", got=code)
    return code


def get_region(code: object) -> Region:
    """Return the :class:`Region` for a current code (raises ValidationFailed otherwise)."""
    return _regions()[validate_region_code(code)]


def region_name(code: object, locale: str = "zh") -> str:
    """Name of a current division; ``locale='en'`` gives English for provinces, else Chinese."""
    region = get_region(code)
    if locale.lower().startswith("en"):
        return region.name_en or region.name
    return region.name


def region_chain(code: object, locale: str = "zh") -> list[str]:
    """Names from province down to the division itself, e.g. ['河北省', '保定市', '雄县']."""
    regions, chain = _regions(), [get_region(code)]
    while chain[-1].parent:
        chain.append(regions[chain[-1].parent])
    return [region_name(r.code, locale) for r in reversed(chain)]


def province_of(code: object) -> str:
    """Province code ('130000') of any six-digit code whose prefix is a province.

    Works for retired codes too, so statistics over old deals never fail on a renamed county.
    """
    province = _six_digits(code)[:2] + "0000"
    if province not in PROVINCE_EN:
        raise _fail("unknown_province", "region_code", got=str(code))
    return province


def is_jjj(code: object) -> bool:
    """True if the code lies in 京津冀 (starts 11, 12 or 13); retired codes count by prefix."""
    return _six_digits(code).startswith(JJJ_PREFIXES)


def children_of(code: object) -> list[Region]:
    """Direct subdivisions of a current division, in code order (for cascading pickers)."""
    parent = validate_region_code(code)
    return [r for r in _regions().values() if r.parent == parent]


def search_regions(query: str, *, limit: int = 20) -> list[Region]:
    """Autocomplete over current divisions.

    Chinese text matches name substrings: exact names first, then prefixes, provinces before
    cities before counties. Digits match code prefixes; Latin letters match English province
    names.
    """
    q = "".join(unicodedata.normalize("NFKC", query).split())
    if not q:
        return []
    regions = _regions()
    if q.isdigit():
        return [r for c, r in regions.items() if c.startswith(q)][:limit]
    if q.isascii():
        key = q.casefold()
        codes = {c for c, en in PROVINCE_EN.items() if key in en.replace(" ", "").casefold()}
        codes |= {c for alias, c in _EN_ALIASES.items() if alias.startswith(key)}
        return [regions[c] for c in sorted(codes)][:limit]
    hits = [r for r in regions.values() if q in r.name]
    hits.sort(key=lambda r: (r.name != q, not r.name.startswith(q), LEVELS.index(r.level), r.code))
    return hits[:limit]


# --- Controlled vocabularies with zh / en labels --------------------------------------------------


def _label_key(value: object) -> str:
    # Compare letters and digits only, so "技术开发（委托）", "技术开发-委托" and "Technology
    # development (commissioned)" match however they were typed, spaced or quoted.
    return "".join(c for c in unicodedata.normalize("NFKC", str(value)).casefold() if c.isalnum())


class LabelledEnum(StrEnum):
    """A string enum whose members carry ``zh`` and ``en`` labels and accepted aliases."""

    zh: str
    en: str
    aliases: tuple[str, ...]

    def __new__(cls, value: str, zh: str, en: str, *aliases: str) -> Self:
        """Build a member from (code, Chinese label, English label, *aliases)."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh, member.en, member.aliases = zh, en, aliases
        return member

    def label(self, locale: str = "zh") -> str:
        """The label for a locale ('zh' or 'en…')."""
        return self.en if locale.lower().startswith("en") else self.zh

    @classmethod
    def parse(cls, value: object) -> Self:
        """Accept the code, the Chinese or English label or an alias (case-insensitive)."""
        if isinstance(value, cls):
            return value
        found = _lookup(cls).get(_label_key(value))
        if found is None:
            what_zh, what_en = _VOCAB_NAMES.get(cls, (cls.__name__, cls.__name__))
            choices_zh = "、".join(m.zh for m in cls)
            choices = ", ".join(m.value for m in cls)
            params = {"what_zh": what_zh, "what_en": what_en, "choices_zh": choices_zh}
            field = what_en.replace(" ", "_")
            raise _fail("unknown_value", field, got=str(value), choices=choices, **params)
        return found  # type: ignore[return-value]  # _lookup(cls) only holds cls members


@cache
def _lookup(cls: type[LabelledEnum]) -> dict[str, LabelledEnum]:
    table: dict[str, LabelledEnum] = {}
    for member in cls:
        for label in (member.value, member.zh, member.en, *member.aliases):
            table.setdefault(_label_key(label), member)
    return table


class TransferMode(LabelledEnum):
    """Transfer mode (转化方式): 促进科技成果转化法 art. 16, plus 技术开发/服务 (PRODUCT.md)."""

    SELF_IMPLEMENT = ("self_implement", "自行实施", "Self-implementation", "自行投资实施")
    TRANSFER = ("transfer", "转让", "Transfer", "技术转让", "成果转让")
    LICENSE = ("license", "许可", "Licensing", "技术许可", "许可他人使用", "licence")
    CO_IMPLEMENT = ("co_implement", "合作实施", "Joint implementation", "合作转化")
    EQUITY_INVESTMENT = ("equity_investment", "作价投资", "Equity investment", "作价入股")
    DEVELOPMENT_SERVICE = ("development_service", "技术开发/服务",
                           "Technology development / service", "技术开发", "技术服务")  # fmt: skip


class ContractCategory(LabelledEnum):
    """Technology contract category (技术合同类别): Civil Code 技术合同 chapter, 登记 practice."""

    DEVELOPMENT_COMMISSIONED = ("development_commissioned", "技术开发（委托）",
                                "Technology development (commissioned)", "委托开发")  # fmt: skip
    DEVELOPMENT_COOPERATIVE = ("development_cooperative", "技术开发（合作）",
                               "Technology development (cooperative)", "合作开发")  # fmt: skip
    TRANSFER = ("transfer", "技术转让", "Technology transfer", "技术转让合同")
    LICENSE = ("license", "技术许可", "Technology licensing", "技术许可合同", "licence")
    CONSULTING = ("consulting", "技术咨询", "Technical consulting", "技术咨询合同")
    SERVICE = ("service", "技术服务", "Technical service", "技术服务合同")


class AchievementStatus(LabelledEnum):
    """Life-cycle status of an achievement (成果状态)."""

    DRAFT = ("draft", "草稿", "Draft")
    PUBLISHED = ("published", "已发布", "Published")
    IN_DOCKING = ("in_docking", "对接中", "In docking")
    TRANSFERRED = ("transferred", "已转化", "Transferred", "已转让", "已落地")
    WITHDRAWN = ("withdrawn", "已撤回", "Withdrawn", "已下架")
    EXPIRED = ("expired", "已过期", "Expired", "已失效")


class EnterpriseSize(LabelledEnum):
    """Enterprise size (企业规模) as classified by the 大中小微型企业划分 rules."""

    MICRO = ("micro", "微型", "Micro", "微型企业")
    SMALL = ("small", "小型", "Small", "小型企业")
    MEDIUM = ("medium", "中型", "Medium", "中型企业")
    LARGE = ("large", "大型", "Large", "大型企业")


class Qualification(LabelledEnum):
    """Enterprise qualification (企业资质)."""

    HIGH_TECH = ("high_tech", "高新技术企业", "High-tech enterprise", "高企", "国家高新技术企业")
    SPECIALISED = ("specialised", "专精特新", "Specialised and innovative SME",
                   "专精特新中小企业", "specialized")  # fmt: skip
    LITTLE_GIANT = ("little_giant", "专精特新小巨人", "Specialised and innovative little giant",
                    "小巨人", "专精特新“小巨人”企业")  # fmt: skip
    TECH_SME = ("tech_sme", "科技型中小企业", "Technology-based SME", "科小")


class TrlStage(LabelledEnum):
    """Maturity stage shown beside the TRL (成熟度阶段)."""

    EARLY = ("early", "初期", "Early")
    MIDDLE = ("middle", "中期", "Intermediate")
    MATURE = ("mature", "成熟", "Mature")


_VOCAB_NAMES: dict[type, tuple[str, str]] = {
    TransferMode: ("转化方式", "transfer mode"),
    ContractCategory: ("技术合同类别", "contract category"),
    AchievementStatus: ("成果状态", "achievement status"),
    EnterpriseSize: ("企业规模", "enterprise size"),
    Qualification: ("企业资质", "qualification"),
    TrlStage: ("成熟度阶段", "maturity stage"),
}

parse_transfer_mode = TransferMode.parse
parse_contract_category = ContractCategory.parse
parse_achievement_status = AchievementStatus.parse
parse_enterprise_size = EnterpriseSize.parse
parse_qualification = Qualification.parse
parse_trl_stage = TrlStage.parse


# --- Technology readiness level (技术就绪水平, GB/T 22900-2022) -----------------------------------


@dataclass(frozen=True, slots=True)
class TrlLevel:
    """One TRL with short Chinese and English descriptions and its stage."""

    number: int
    zh: str
    en: str
    stage: TrlStage


# Short labels paraphrase the nine levels of GB/T 22900-2022 (科学技术研究项目评价通则); they
# are picker labels, not the normative text. The stage grouping is this platform's convention for
# the 初期/中期/成熟 filter: TRL 1–3 初期 (early), 4–6 中期 (intermediate), 7–9 成熟 (mature).
_E, _M, _R = TrlStage.EARLY, TrlStage.MIDDLE, TrlStage.MATURE
TRL_LEVELS: tuple[TrlLevel, ...] = (
    TrlLevel(1, "发现基本原理或看到基本原理的报道", "Basic principles observed and reported", _E),
    TrlLevel(2, "形成技术概念或应用方案", "Technology concept or application formulated", _E),
    TrlLevel(3, "关键功能通过分析和实验室验证", "Critical function proven in the lab", _E),
    TrlLevel(4, "部件或功能模块在实验室环境中验证", "Component validated in the laboratory", _M),
    TrlLevel(5, "部件或模块在相关环境中验证", "Component validated in a relevant environment", _M),
    TrlLevel(6, "系统样机在相关环境中演示", "Prototype demonstrated in a relevant environment", _M),
    TrlLevel(7, "系统样机在真实使用环境中演示", "Prototype demonstrated in real operation", _R),
    TrlLevel(8, "实际系统完成并通过试验验证", "Actual system completed and qualified by test", _R),
    TrlLevel(9, "实际系统经成功应用验证", "Actual system proven in successful operation", _R),
)


def validate_trl(value: object) -> int:
    """Return the TRL as an int 1–9; accepts 5, 5.0, '5', 'TRL5', 'trl 5' or '5级'."""
    number = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets hand whole numbers over as floats
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = _clean(value).removeprefix("TRL").removesuffix("级")
        number = int(text) if text.isdigit() else None
    if number is None or not 1 <= number <= 9:
        raise _fail("trl_range", "trl", got=str(value))
    return number


def trl_level(value: object) -> TrlLevel:
    """The :class:`TrlLevel` row for a TRL."""
    return TRL_LEVELS[validate_trl(value) - 1]


def trl_stage(value: object) -> TrlStage:
    """Stage of a TRL: 1–3 初期, 4–6 中期, 7–9 成熟."""
    return trl_level(value).stage
