"""The monthly landing report (落地月报): the month's figures beside the year to date.

Everything comes from :func:`luodi.landing.stats.compute_stats`, called twice — for the month
and for 1 January to the month's last day — so the report can never disagree with the
dashboard: no figure is counted here. The as-of day is the month's last day (or today while
the month is running), so re-running a past month's report gives the same trail figures.

The workbook (:func:`report_workbook`) has a summary sheet (one row per figure, with its key in
``Stats.as_json()`` so a machine can check it), a sheet per dimension (district, field,
institution, broker, contract category) and — for staff, who may export deals — the month's
landings in the register layout of :mod:`luodi.landing.register`. Labels and definitions are
held here in Chinese and English (:data:`DEFINITIONS`), so the dashboard states the same ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import can
from luodi.config import Settings
from luodi.db import utcnow
from luodi.errors import ValidationFailed
from luodi.inventory.codes import ContractCategory, region_chain
from luodi.inventory.taxonomy import active_taxonomy
from luodi.landing.models import Deal
from luodi.landing.register import (
    add_register_sheet,
    append_rows,
    register_deals,
    style_sheet,
    workbook_bytes,
)
from luodi.landing.stats import Stats, compute_stats

__all__ = ["DEFINITIONS", "DIMENSION_NAMES", "STAGE_NAMES", "SUMMARY", "MonthlyReport",
           "SummaryRow", "dig", "group_label", "month_bounds", "monthly_report", "report_workbook",
           "summary_rows"]

Text = tuple[str, str]  # (Chinese, English)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

STAGE_NAMES: dict[str, Text] = {
    "interested": ("已表达意向", "Interest shown"), "accepted": ("已接受", "Accepted"),
    "contacts_revealed": ("已交换联系方式", "Contacts shared"), "meeting": ("会谈", "Meeting"),
    "negotiating": ("洽谈中", "Negotiating"), "agreed": ("已达成一致", "Agreed"),
    "landed": ("已落地", "Landed"),
}
DIMENSION_NAMES: dict[str, Text] = {
    "district": ("按落地区县", "By landing district"), "field": ("按技术领域", "By field"),
    "institution": ("按机构", "By institution"), "broker": ("按技术经理人", "By broker"),
    "category": ("按合同类别", "By contract category"),
}

# How each figure is computed, from the docstrings of luodi.landing.stats / funnel / landings.
DEFINITIONS: dict[str, Text] = {
    "period": (
        "统计期按整日计（UTC），起止日期均包含在内；未填表示不设限。",
        "Periods are whole days (UTC), both ends inclusive; an empty end is open."),
    "funnel": (
        "漏斗：统计期内新开的对接案件（同一批案件），按其轨迹中到达过的最远阶段计数；到达后面的"
        "阶段即视为经过前面各阶段，关闭的案件保留关闭前到达的阶段。逐级转化率 = 本阶段数 ÷ 上一"
        "阶段数（第一阶段除以新开案件数）；累计转化率 = 本阶段数 ÷ 新开案件数。",
        "Funnel: the cases opened in the period (one cohort), counted by the furthest stage "
        "their trail reached; reaching a later stage counts as passing the earlier ones, and a "
        "closed case keeps the stages it reached. Step rate = reached ÷ reached at the previous "
        "stage (cases opened for the first); overall rate = reached ÷ cases opened."),
    "stage_days": (
        "各阶段用时：统计期内结束的每一次停留（从进入该阶段到案件下一次状态变更）的天数，取中位数"
        "和第 90 百分位（线性插值）；n 为停留次数。",
        "Days per stage: each stay that ended in the period (from entering the stage to the "
        "case's next change of state), median and 90th percentile (linear interpolation); n is "
        "the number of stays."),
    "stalled": (
        "停滞案件：仍在进行中、最近一次事件早于 N 天前的案件，按当前阶段计数；这是截至统计日的"
        "快照，不受统计期限制。",
        "Stalled cases: open cases whose last event is more than N days old, by current "
        "stage — a snapshot on the as-of day, not limited to the period."),
    "landings": (
        "落地：状态为“已签订”、签订日期在统计期内的成交；已解除的合同不计。金额为合同成交额之和"
        "（万元）。",
        "Landings: deals with status “signed” whose signing date lies in the period; cancelled "
        "contracts never count. Value is the sum of contract amounts (万元, 10,000 CNY)."),
    "jjj": (
        "京津冀占比：落地地区代码以 11、12、13 开头（北京、天津、河北）的落地 ÷ 全部落地，按项数"
        "和按金额分别计算；没有落地时显示“—”，而不是 0%。",
        "Beijing–Tianjin–Hebei share: landings whose landing region code starts 11, 12 or 13 "
        "÷ all landings, by count and by value; “—” when there are no landings, never 0 %."),
    "beijing": (
        "北京成果落地津冀：卖方所在地区以 11 开头（北京）的落地中，落地地区以 12 或 13 开头"
        "（天津、河北）的比例；未填卖方地区的成交不计入。",
        "Beijing → Tianjin/Hebei: of the landings whose seller is in Beijing (region code "
        "starting 11), the share landing in Tianjin or Hebei (12 or 13); deals without a "
        "seller region are left out."),
    "groups": (
        "分组：按技术领域、机构、技术经理人、落地区县、合同类别汇总落地项数和金额；未填的归入"
        "“未填”一组，各组相加等于总数。",
        "Groups: landings and their value by field, institution, broker, landing district and "
        "contract category; deals without a value form an “unspecified” group, so the groups "
        "add up to the total."),
}


@dataclass(frozen=True)
class SummaryRow:
    """One headline figure: where it sits in ``Stats.as_json()``, its label and kind."""

    path: str  # dotted path into as_json(), e.g. "landings.value_wan"
    label: Text
    kind: str  # count | money | share | days
    definition: str  # key of DEFINITIONS

    def text(self, locale: str) -> str:
        """The label in a locale ('en…' or Chinese)."""
        return self.label[1] if locale.startswith("en") else self.label[0]


SUMMARY: tuple[SummaryRow, ...] = (
    SummaryRow("funnel.opened", ("新开对接案件", "Cases opened"), "count", "funnel"),
    *(SummaryRow(f"funnel.stages.{i}.reached", (f"到达“{zh}”", f"Reached “{en}”"), "count",
                 "funnel") for i, (zh, en) in enumerate(STAGE_NAMES.values())),
    SummaryRow("funnel.closed.total", ("已关闭案件", "Cases closed"), "count", "funnel"),
    SummaryRow("landings.count", ("落地项数", "Landings"), "count", "landings"),
    SummaryRow("landings.value_wan", ("合同成交额（万元）", "Contract value (万元)"), "money",
               "landings"),
    SummaryRow("jjj.count", ("京津冀落地项数", "Landings in Beijing–Tianjin–Hebei"), "count",
               "jjj"),
    SummaryRow("jjj.value_wan", ("京津冀落地金额（万元）", "Value in Beijing–Tianjin–Hebei (万元)"),
               "money", "jjj"),
    SummaryRow("jjj_share_count", ("京津冀占比（按项数）", "Beijing–Tianjin–Hebei share by count"),
               "share", "jjj"),
    SummaryRow("jjj_share_value", ("京津冀占比（按金额）", "Beijing–Tianjin–Hebei share by value"),
               "share", "jjj"),
    SummaryRow("beijing_to_tianjin_hebei.sellers_count",
               ("北京卖方落地项数", "Landings with a Beijing seller"), "count", "beijing"),
    SummaryRow("beijing_to_tianjin_hebei.count",
               ("其中落地津冀", "of which landed in Tianjin/Hebei"), "count", "beijing"),
    SummaryRow("beijing_to_tianjin_hebei.share_count",
               ("北京成果落地津冀占比（按项数）", "Beijing → Tianjin/Hebei share by count"),
               "share", "beijing"),
    SummaryRow("beijing_to_tianjin_hebei.share_value",
               ("北京成果落地津冀占比（按金额）", "Beijing → Tianjin/Hebei share by value"),
               "share", "beijing"),
    SummaryRow("stalled.total", ("停滞案件（截至统计日）", "Stalled cases (on the as-of day)"),
               "count", "stalled"),
)


def dig(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in nested dicts and lists (``funnel.stages.0.reached``)."""
    value: Any = data
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def summary_rows(month: Mapping[str, Any], ytd: Mapping[str, Any]
                 ) -> list[tuple[SummaryRow, Any, Any]]:
    """Each summary figure with its month and year-to-date values (from ``as_json()``)."""
    return [(row, dig(month, row.path), dig(ytd, row.path)) for row in SUMMARY]


def group_label(dimension: str, group: Mapping[str, Any], locale: str) -> str:
    """A group's name in ``locale``: the statistics label Chinese names, English relabels
    categories, fields and provinces (counties keep their Chinese names)."""
    key, label = group.get("key"), str(group.get("label") or "")
    if not locale.startswith("en"):
        return label
    if key is None:
        return "Unspecified"
    try:
        if dimension == "category":
            return ContractCategory.parse(key).label("en")
        if dimension == "field":
            return active_taxonomy().get(key).name_en
        if dimension == "district":
            return " ".join(region_chain(key, "en"))
    except ValidationFailed:
        return label
    return label


def month_bounds(month: str, *, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``; a month that has not begun is refused."""
    match = _MONTH.match(month or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise ValidationFailed("月份格式应为 YYYY-MM / A month is written YYYY-MM.",
                               data={"field": "month"})
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    if first > (today or utcnow().date()):
        raise ValidationFailed("这个月还没有开始 / That month has not begun yet.",
                               data={"field": "month"})
    return first, last


@dataclass(frozen=True)
class MonthlyReport:
    """A month's statistics, the year to date, and (for staff) the month's landings."""

    month: str
    first: dt.date
    last: dt.date
    as_of: dt.date
    stats: Stats
    ytd: Stats
    deals: list[Deal] | None  # None: the actor may not see deal rows (government viewers)

    def summary(self) -> list[tuple[SummaryRow, Any, Any]]:
        """The summary figures: (row, month value, year-to-date value)."""
        return summary_rows(self.stats.as_json(), self.ytd.as_json())


def monthly_report(session: Session, actor: Actor, month: str, *,
                   today: dt.date | None = None,
                   settings: Settings | None = None) -> MonthlyReport:
    """The report for ``YYYY-MM`` (``stats.read``; the deal list only with ``deals.export``)."""
    today = today or utcnow().date()
    first, last = month_bounds(month, today=today)
    as_of = min(today, last)
    stats = compute_stats(session, actor, date_from=first, date_to=last, today=as_of,
                          settings=settings)
    ytd = compute_stats(session, actor, date_from=first.replace(month=1), date_to=last,
                        today=as_of, settings=settings)
    deals = (register_deals(session, first, last, signed_only=True)
             if can(actor, "deals.export") else None)
    return MonthlyReport(month, first, last, as_of, stats, ytd, deals)


# --- the workbook ----------------------------------------------------------------------------

_SHARE_FORMAT, _MONEY_FORMAT = "0.0%", "#,##0.00"
_GROUP_HEADERS = (["名称", "代码", "本月项数", "本月金额（万元）", "本年项数", "本年金额（万元）"],
                  ["Name", "Key", "Month: landings", "Month: value (万元)", "YTD: landings",
                   "YTD: value (万元)"])


def _summary_sheet(workbook: Workbook, report: MonthlyReport, locale: str) -> None:
    en = locale.startswith("en")
    sheet = workbook.create_sheet("Summary" if en else "摘要")
    sheet.append(["Figure", "Key", report.month, f"{report.first.year} YTD", "Definition"] if en
                 else ["指标", "代码", f"{report.month} 本月", f"{report.first.year} 年累计",
                       "口径"])
    for row, month_value, ytd_value in report.summary():
        definition = DEFINITIONS[row.definition][1 if en else 0]
        sheet.append([row.text(locale), row.path,
                      _none(month_value), _none(ytd_value), definition])
        for cell in sheet[sheet.max_row][2:4]:
            if isinstance(cell.value, float | int):
                cell.number_format = {"share": _SHARE_FORMAT, "money": _MONEY_FORMAT}.get(
                    row.kind, "0")
    sheet.append([])
    sheet.append(["As of" if en else "统计日", None, report.as_of])
    sheet[sheet.max_row][2].number_format = "yyyy-mm-dd"
    sheet.append(["Generated" if en else "生成时间", None,
                  report.stats.generated_at.strftime("%Y-%m-%d %H:%M UTC")])
    style_sheet(sheet, [34, 40, 16, 16, 90])
    sheet.auto_filter.ref = None


def _none(value: Any) -> Any:
    return "—" if value is None else value  # no fake 0 % when there is nothing to divide by


def _group_sheet(workbook: Workbook, dimension: str, report: MonthlyReport, locale: str) -> None:
    en = locale.startswith("en")
    month = {g["key"]: g for g in report.stats.as_json()["landings"][f"by_{dimension}"]}
    ytd = report.ytd.as_json()["landings"][f"by_{dimension}"]
    sheet = workbook.create_sheet(DIMENSION_NAMES[dimension][1 if en else 0])
    sheet.append(_GROUP_HEADERS[1 if en else 0])
    rows = [[group_label(dimension, g, locale), g["key"],
             month.get(g["key"], {}).get("count", 0),
             month.get(g["key"], {}).get("value_wan", 0.0), g["count"], g["value_wan"]]
            for g in ytd]  # the month's groups are among the year's (same or later days)
    append_rows(sheet, rows, amounts=(4, 6))
    style_sheet(sheet, [36, 14, 12, 18, 12, 18])


def report_workbook(session: Session, actor: Actor, report: MonthlyReport, *,
                    locale: str = "zh_CN") -> bytes:
    """The report as XLSX bytes; including the deal rows is audited as a deals export."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    _summary_sheet(workbook, report, locale)
    for dimension in DIMENSION_NAMES:
        _group_sheet(workbook, dimension, report, locale)
    if report.deals is not None:
        title = "Landings of the month" if locale.startswith("en") else "本月落地合同"
        add_register_sheet(workbook, session, report.deals, title=title)
        audit.record(session, actor, "deals.export_register",
                     detail={"rows": len(report.deals), "month": report.month,
                             "report": True})
        session.commit()
    return workbook_bytes(workbook)
