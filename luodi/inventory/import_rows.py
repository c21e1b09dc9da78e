"""Bulk import, row layer: one file row → validated record values, or the row's errors.

Pure: no database. :func:`prepare_row` maps a :class:`RawRow` through the header mapping, turns
the canonical fields of :mod:`luodi.inventory.importers.mapping` into the fields of the kind's
schema (``region`` → ``region_code``, ``price`` → ``price_wan`` and ``price_note`` …), validates
with the schema, and reports every problem against the column the user wrote, with the text that
was in the cell. Links to other records (an achievement's institution, a demand's enterprise) are
carried as names for the importer to resolve against the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from luodi.errors import ValidationFailed
from luodi.inventory import codes
from luodi.inventory import import_values as iv
from luodi.inventory.exporters import _FORMULA_TRIGGERS
from luodi.inventory.importers import MappingProfile, RawRow, RowError, map_row
from luodi.inventory.schemas import SCHEMAS

Converted = dict[str, Any]  # schema field (or a _link key) → value


@dataclass(frozen=True)
class Links:
    """Names of the records a row points at, resolved by the importer (not stored as text)."""

    institution: str | None = None  # achievements, experts
    enterprise: str | None = None  # demands
    credit_code: str | None = None  # demands: the enterprise's credit code


@dataclass(frozen=True)
class Prepared:
    """A row that passed validation: the schema values it gives, its identity and its links."""

    number: int
    values: dict[str, Any]  # only the fields the row gives, plus source and external_id
    source: str
    external_id: str
    links: Links


@dataclass
class RowContext:
    """What every row of one file shares: kind, header mapping, profile, source."""

    kind: str
    mapping: dict[str, str]  # file header → canonical field
    profile: MappingProfile | None = None
    source: str | None = None  # --source: wins over everything
    default_source: str = "import"  # the file name's stem
    header_of: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.header_of = {name: header for header, name in self.mapping.items()}


def _to(name: str) -> Callable[[Any, RowContext], Converted]:
    return lambda value, _ctx: {name: value}


def _region(value: Any, _ctx: RowContext) -> Converted:
    return {"region_code": iv.region_code(value) if isinstance(value, str) else value}


def _price(value: Any, ctx: RowContext) -> Converted:
    text = str(value)
    low, high, exact = iv.parse_amounts(text, iv.header_unit(ctx.header_of.get("price")))
    figure = low if low is not None else high
    plain = exact and low == high and figure is not None
    # Keep the words whenever the figure alone would lose something (range, bound, 面议…).
    return {"price_wan": figure, "price_note": None if plain else text[:200]}


def _money(name: str, canonical: str) -> Callable[[Any, RowContext], Converted]:
    def convert(value: Any, ctx: RowContext) -> Converted:
        return {name: iv.as_decimal(str(value), iv.header_unit(ctx.header_of.get(canonical)))}
    return convert


def _budget(value: Any, ctx: RowContext) -> Converted:
    low, high, _exact = iv.parse_amounts(str(value), iv.header_unit(ctx.header_of.get("budget")))
    if low is not None and low == high:
        low = None  # "预算 50万" is what the enterprise can spend at most
    if low is None and high is None and str(value).strip().casefold() not in iv.NEGOTIABLE:
        raise iv.CellProblem(f"没有金额 / No amount in '{value}'.")
    return {"budget_min_wan": low, "budget_max_wan": high}


def _status(value: Any, _ctx: RowContext) -> Converted:
    try:
        return {"status": codes.AchievementStatus.parse(value).value}
    except ValidationFailed as exc:
        raise iv.CellProblem(exc.message) from None


def _ip(value: Any, _ctx: RowContext) -> Converted:
    numbers = value if isinstance(value, list) else [value]
    return {"ip_items": [iv.ip_item(str(n)) for n in numbers if str(n).strip()]}


def _link(key: str) -> Callable[[Any, RowContext], Converted]:
    def convert(value: Any, _ctx: RowContext) -> Converted:
        name = " ".join(str(value).split())
        if not 2 <= len(name) <= 200:
            raise iv.CellProblem(f"名称应为 2–200 个字符 / A name has 2 to 200 characters: "
                                 f"'{value}'.")
        return {key: name}
    return convert


def _link_credit_code(value: Any, _ctx: RowContext) -> Converted:
    try:
        return {"_credit_code": codes.validate_credit_code(value)}
    except ValidationFailed as exc:
        raise iv.CellProblem(exc.message) from None


def _expert_institution(value: Any, ctx: RowContext) -> Converted:
    # Validated as the affiliation text; the importer swaps it for a link when the name is known.
    return {**_link("_institution")(value, ctx), "affiliation": " ".join(str(value).split())}


def _scalar(parse: Callable[[str], Any], name: str) -> Callable[[Any, RowContext], Converted]:
    return lambda value, _ctx: {name: parse(str(value))}


def _upper(name: str) -> Callable[[Any, RowContext], Converted]:
    return lambda value, _ctx: {name: str(value).strip().upper()}


def _stage(value: Any, _ctx: RowContext) -> Converted:
    try:
        return {"_stage": codes.TrlStage.parse(value)}
    except ValidationFailed as exc:
        raise iv.CellProblem(exc.message) from None


_COMMON = {"external_id": _to("external_id"), "source": _to("source"), "region": _region}
CONVERTERS: dict[str, dict[str, Callable[[Any, RowContext], Converted]]] = {
    "achievements": {
        **_COMMON, "title": _to("title"), "summary": _to("summary"),
        "description": _to("description"), "keywords": _to("keywords"),
        "field": _to("field_code"), "trl": _to("trl"), "stage": _stage,
        "transfer_modes": _to("transfer_modes"), "price": _price,
        "institution": _link("_institution"), "inventors": _to("inventors"), "ip": _ip,
        "status": _status,
    },
    "demands": {
        **_COMMON, "title": _to("title"), "description": _to("description"),
        "enterprise": _link("_enterprise"), "credit_code": _link_credit_code,
        "field": _to("field_code"), "budget_min": _money("budget_min_wan", "budget_min"),
        "budget_max": _money("budget_max_wan", "budget_max"), "budget": _budget,
        "deadline": _scalar(iv.parse_date, "deadline"),
        "cooperation_modes": _to("cooperation_modes"),
        "confidential": _scalar(iv.parse_bool, "confidential"),
    },
    "enterprises": {
        **_COMMON, "name": _to("name"), "credit_code": _upper("credit_code"),
        "industry": _upper("industry_code"), "size": _to("size"),
        "qualifications": _to("qualifications"), "profile": _to("profile"),
    },
    "institutions": {
        **_COMMON, "name": _to("name"), "kind": _to("kind"), "credit_code": _upper("credit_code"),
        "website": _to("website"),
    },
    "experts": {
        **_COMMON, "name": _to("name"), "institution": _expert_institution, "title": _to("title"),
        "skills": _to("skills"), "email": _to("email"), "phone": _to("phone"),
        "publications": _to("publications"),
    },
}

# The fields whose text identifies a record when the file has no id column (the key hashes
# them): for parties with a credit code, the code alone.
_IDENTITY = {
    "achievements": ("title", "_institution"), "demands": ("title", "_credit_code", "_enterprise"),
    "enterprises": ("name",), "institutions": ("name",), "experts": ("name", "_institution"),
}  # fmt: skip
_ROW_RULES = {"demands": "budget"}  # model-level checks reported against this field's column


def prepare_row(raw: RawRow, ctx: RowContext) -> tuple[Prepared | None, list[RowError]]:
    """Validate one row: (Prepared, []) when it is good, (None, errors) otherwise."""
    if raw.errors:
        return None, list(raw.errors)
    mapped = map_row(unescaped(raw.values), ctx.mapping, kind=ctx.kind, profile=ctx.profile)
    data, origin, errors = _convert(raw, mapped, ctx)
    stage = data.pop("_stage", None)
    links = Links(data.pop("_institution", None), data.pop("_enterprise", None),
                  data.pop("_credit_code", None))
    if ctx.source:
        data["source"] = ctx.source
    data.setdefault("source", ctx.default_source)
    try:
        model = SCHEMAS[ctx.kind].model_validate(data)
    except ValidationError as exc:  # report these too: every problem of the row at once
        return None, errors + _problems(raw, exc, origin, ctx)
    if errors:
        return None, errors
    values = model.model_dump(include=set(data))
    if stage is not None and values.get("trl") and codes.trl_stage(values["trl"]) != stage:
        return None, [_error(raw, ctx, "stage", f"阶段 {stage.zh} 与技术成熟度 {values['trl']} "
                             f"不符 / Stage {stage.en} does not match TRL {values['trl']}.")]
    external_id = values.get("external_id") or identity_key(ctx.kind, values, links)
    values["external_id"] = external_id
    return Prepared(raw.number, values, values["source"], external_id, links), []


def unescaped(values: dict[str, str | None]) -> dict[str, str | None]:
    """Drop the quote our exports put before formula-like text (``'=SUM…``), so an exported file
    imports back to the same values; other text is untouched."""
    return {k: v[1:] if v and v.startswith("'") and v[1:2] in _FORMULA_TRIGGERS else v
            for k, v in values.items()}


def _convert(raw: RawRow, mapped: dict[str, Any], ctx: RowContext
             ) -> tuple[Converted, dict[str, str], list[RowError]]:
    data: Converted = {}
    origin: dict[str, str] = {}  # schema field → canonical field, to name the column on errors
    errors: list[RowError] = []
    converters = CONVERTERS[ctx.kind]
    for name, value in mapped.items():
        if value is None or value == [] or name not in converters:
            continue
        try:
            converted = converters[name](value, ctx)
        except iv.CellProblem as exc:
            errors.append(_error(raw, ctx, name, exc.reason))
            continue
        for key, item in converted.items():
            if item is not None:
                data[key] = item
                origin[key] = name
    return data, origin, errors


def identity_key(kind: str, values: dict[str, Any], links: Links) -> str:
    """A stable external id for a row without one, so a re-import finds the same record."""
    code = values.get("credit_code") if kind in ("enterprises", "institutions") else None
    if code:
        return f"uscc:{code}"
    parts = {**values, "_institution": links.institution or values.get("affiliation"),
             "_enterprise": links.enterprise, "_credit_code": links.credit_code}
    text = iv.identity_text(*(parts.get(name) for name in _IDENTITY[kind]))
    return "h:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _error(raw: RawRow, ctx: RowContext, canonical: str | None, reason: str) -> RowError:
    header = ctx.header_of.get(canonical) if canonical else None
    return RowError(raw.number, header, raw.values.get(header) if header else None, reason)


_FRIENDLY = {"missing": "必填项为空 / A required value is empty."}


def _problems(raw: RawRow, exc: ValidationError, origin: dict[str, str], ctx: RowContext
              ) -> list[RowError]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        canonical = origin.get(loc[0]) if loc else _ROW_RULES.get(ctx.kind)
        if canonical is None and loc:
            canonical = _canonical_for(ctx.kind, loc[0])
        reason = _FRIENDLY.get(err.get("type", ""), str(err.get("msg", "")))
        errors.append(_error(raw, ctx, canonical, reason.removeprefix("Value error, ")))
    return errors


def _canonical_for(kind: str, schema_field: str) -> str | None:
    """The canonical field that would fill ``schema_field`` (for a missing required value)."""
    for name in ("title", "name"):
        if schema_field == name and name in CONVERTERS[kind]:
            return name
    return None
