"""Bulk import, value layer: the free text people put in spreadsheets → typed field values.

Pure functions, no database. Each parser raises :class:`CellProblem` with a bilingual reason when
it cannot read a cell; the row layer turns that into a row error naming the original column.

Money (万元). Amounts are stored in 万元. A bare number is read in the unit the column header
names — ``参考价格（元）`` means 元, ``预算（亿元）`` 亿元 — and in 万元 when the header names none,
because that is how Chinese achievement and demand lists quote prices. A unit in the cell wins
over the header: ``120``, ``120万``, ``120万元`` and ``1,200,000元`` all give 120. Ranges
(``10-50万``, ``10~50万元``, ``10至50万``) give a low and a high figure, a unit written once applies
to both; ``50万以上`` / ``不低于50万`` give only a low figure, ``50万以内`` / ``不超过50万`` only a
high one. Words meaning "to be negotiated" (面议, 协商…) give no figure. Amounts are rounded to
0.01 万元 (100 元); the importer keeps the original text beside the price whenever a figure
alone would lose something (a range, a qualifier, rounding, or no figure at all).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from luodi.inventory import codes


class CellProblem(ValueError):
    """A cell that cannot be read; ``reason`` is shown to the user as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- money -----------------------------------------------------------------------------------

_WAN_PER = {"亿元": Decimal(10000), "亿": Decimal(10000), "万元": Decimal(1), "万": Decimal(1),
            "千元": Decimal("0.1"), "元": Decimal("0.0001")}  # fmt: skip
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(亿元|亿|万元|万|千元|元)?")
_RANGE_SEPARATORS = re.compile(r"^\s*(?:-|~|～|至|到|—|－|–)\s*$")
_AT_LEAST = ("以上", "起", "不低于", "至少", "最低", "不少于")
_AT_MOST = ("以下", "以内", "不超过", "不高于", "最多", "最高", "之内")
NEGOTIABLE = ("面议", "协商", "待定", "议价", "另议", "商议", "洽谈", "negotiable", "tbd")
_CENT_OF_WAN = Decimal("0.01")


def header_unit(header: str | None) -> Decimal:
    """万元 per unit of a bare number under ``header`` (1 unless the header names 元 or 亿)."""
    text = unicodedata.normalize("NFKC", header or "")
    if "亿" in text:
        return _WAN_PER["亿"]
    if "万" in text:
        return _WAN_PER["万"]
    if "元" in text:
        return _WAN_PER["元"]
    return Decimal(1)


def _clean_amount_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for noise in (",", "人民币", "RMB", "rmb", "CNY", "¥", "￥"):
        text = text.replace(noise, "")
    return text.strip()  # inner spaces stay: "10 20" is two figures, not 1020


def parse_amounts(text: str, unit: Decimal = Decimal(1)) -> tuple[Decimal | None, Decimal | None,
                                                                   bool]:
    """Read ``text`` as an amount or a range in 万元: ``(low, high, exact)``.

    A single figure gives ``low == high`` unless a qualifier says it is only a bound (以上 → low
    only, 以内 → high only). ``exact`` is False when rounding to 0.01 万元 changed a figure.
    Raises CellProblem for text with figures that do not form an amount or a range.
    """
    cleaned = _clean_amount_text(text)
    found = list(_AMOUNT.finditer(cleaned))
    if not found:
        if cleaned.casefold().strip("。.") in NEGOTIABLE or not cleaned:
            return None, None, True
        raise CellProblem(f"没有金额 / No amount in '{text}'.")
    if len(found) > 2 or (len(found) == 2 and not _RANGE_SEPARATORS.match(
            cleaned[found[0].end():found[1].start()])):
        raise CellProblem(f"无法识别的金额 / Cannot read '{text}' as an amount or a range.")
    last_unit = _WAN_PER.get(found[-1].group(2) or "", unit)
    figures = []
    for match in found:
        factor = _WAN_PER[match.group(2)] if match.group(2) else last_unit
        figures.append(Decimal(match.group(1)) * factor)
    rounded = [f.quantize(_CENT_OF_WAN, rounding=ROUND_HALF_UP) for f in figures]
    exact = rounded == figures
    low, high = rounded[0], rounded[-1]
    if low > high:
        raise CellProblem(f"金额范围下限高于上限 / The range '{text}' runs backwards.")
    if len(found) == 1:
        rest = cleaned[: found[0].start()] + cleaned[found[0].end():]
        if any(q in rest for q in _AT_LEAST):
            return low, None, exact
        if any(q in rest for q in _AT_MOST):
            return None, high, exact
    return low, high, exact


# --- other scalar values ---------------------------------------------------------------------

_TRUE = frozenset({"是", "true", "1", "yes", "y", "保密", "涉密", "秘密", "机密", "对", "√"})
_FALSE = frozenset({"否", "false", "0", "no", "n", "公开", "不保密", "非保密", "非涉密", "不", "×"})


def parse_bool(text: str) -> bool:
    """是/否, true/false, 1/0, 保密/公开 … → bool."""
    key = unicodedata.normalize("NFKC", text).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellProblem(f"应为 是/否 / Expected yes or no, got '{text}'.")


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(text: str) -> dt.date:
    """2026-06-30, 2026/6/30, 2026.6.30, 2026年6月30日, 20260630, or an ISO date-time."""
    value = unicodedata.normalize("NFKC", text).strip()
    match = _DATE.match(value)
    try:
        if match:
            return dt.date(*(int(g) for g in match.groups()))
        if len(value) == 8 and value.isdigit():
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        raise CellProblem(f"无法识别的日期 / Not a date: '{text}' (use 2026-06-30).") from None


# --- regions ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def region_code(text: str) -> str:
    """A six-digit code as given, or the code of a region named exactly (e.g. 海淀区) or by its
    full chain (北京市海淀区); unknown text is returned unchanged for the code check to refuse."""
    value = "".join(unicodedata.normalize("NFKC", text).split())
    if not value or value.isdigit():
        return value
    exact = [r.code for r in codes.search_regions(value, limit=50) if r.name == value]
    if not exact:
        exact = _chain_matches(value)
    if len(exact) > 1:
        raise CellProblem(f"地区名称 '{text}' 有歧义（{'、'.join(exact)}），请填写行政区划代码"
                          f" / The region name '{text}' is ambiguous ({', '.join(exact)}); "
                          "give the six-digit code.")
    return exact[0] if exact else value


def _chain_matches(value: str) -> list[str]:
    """Codes whose province-to-division names, written together, are ``value``."""
    found = []
    for start in range(1, len(value) - 1):
        tail = value[start:]
        for region in codes.search_regions(tail, limit=50):
            if region.name == tail and "".join(codes.region_chain(region.code)) == value:
                found.append(region.code)
        if found:
            break
    return found


# --- IP items and identities -----------------------------------------------------------------

# Chinese application numbers since 2003: year (4) + type (1) + serial (7) + check; the type
# digit says what was filed (1 invention, 2 utility model, 3 design, 8/9 PCT national phase).
_CN_APPLICATION = re.compile(r"^(?:ZL|CN)?(\d{4})([12389])\d{7}\.?[\dX]$")
_CN_TYPES = {"1": "invention", "2": "utility_model", "3": "design", "8": "pct", "9": "pct"}


def ip_item(number: str) -> dict[str, str]:
    """An IP item from a number as written, with its kind read from the number when possible."""
    compact = "".join(unicodedata.normalize("NFKC", number).split()).upper()
    match = _CN_APPLICATION.match(compact)
    if match:
        kind = _CN_TYPES[match.group(2)]
    elif "SR" in compact:
        kind = "software"  # 软件著作权登记号 such as 2023SR0123456
    else:
        kind = "other"
    return {"number": number.strip(), "kind": kind}


def identity_text(*parts: str | None) -> str:
    """Parts folded for identity hashing: NFKC, casefold, letters and digits only."""
    folded = []
    for part in parts:
        text = unicodedata.normalize("NFKC", part or "").casefold()
        folded.append("".join(c for c in text if c.isalnum()))
    return "\x1f".join(folded)


def as_decimal(text: str, unit: Decimal) -> Decimal | None:
    """A single amount in 万元 (a bound column such as 预算上限); ranges are refused."""
    low, high, _exact = parse_amounts(text, unit)
    if low is not None and high is not None and low != high:
        raise CellProblem(f"此列只填一个金额 / One amount expected here, got the range '{text}'.")
    return low if low is not None else high

