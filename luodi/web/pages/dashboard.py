"""Pages: the landing dashboard (落地统计), the 技术合同登记 XLSX and the monthly report.

For staff and government viewers (``stats.read``; :func:`compute_stats` authorises). Every
figure comes from :func:`luodi.landing.stats.compute_stats`; the charts are plotly figures
built by :mod:`luodi.landing.charts` and drawn by ``static/charts.js`` from JSON data blocks
(``<script type="application/json">`` is never executed, so ``script-src 'self'`` holds).
plotly.js and its stylesheets are served from the installed plotly package by the ``/vendor``
routes below (see :mod:`luodi.web.plotly_assets` for why the CSP needs no loosening).
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from luodi.auth.policy import can
from luodi.db import utcnow
from luodi.errors import NotFound, ValidationFailed
from luodi.landing import charts, register, report
from luodi.landing.stats import compute_stats, region_label
from luodi.web.deps import UserCtx
from luodi.web.i18n import translate
from luodi.web.labels import CASE_STATE_LABELS, N_
from luodi.web.pages.matches import width
from luodi.web.plotly_assets import (
    GLOBAL_ID,
    plotly_js_path,
    plotly_js_version,
    stylesheets,
)
from luodi.web.templating import render

router = APIRouter()

PRESETS = ("month", "last_month", "year", "all")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


# The period ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """The dashboard's period: a preset or ``custom`` dates (None = open end)."""

    preset: str
    date_from: dt.date | None
    date_to: dt.date | None

    def query(self) -> str:
        """The query string that selects this period again (for the export links)."""
        if self.preset != "custom":
            return urlencode({"period": self.preset})
        return urlencode({k: v.isoformat() for k, v in (("from", self.date_from),
                                                         ("to", self.date_to)) if v})


def _date(raw: str, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("Enter dates as YYYY-MM-DD.", data={"field": name}) from None


def preset_period(preset: str, today: dt.date) -> Period:
    """This month, last month, this year (the default) or all time, as of ``today``."""
    first = today.replace(day=1)
    if preset == "month":
        return Period(preset, first, today)
    if preset == "last_month":
        end = first - dt.timedelta(days=1)
        return Period(preset, end.replace(day=1), end)
    if preset == "all":
        return Period(preset, None, None)
    return Period("year", today.replace(month=1, day=1), today)


def period_of(preset: str, raw_from: str, raw_to: str, today: dt.date) -> Period:
    """Dates given win (a custom period); else the preset; else this year."""
    if raw_from or raw_to:
        return Period("custom", _date(raw_from, "from"), _date(raw_to, "to"))
    return preset_period(preset, today)


FromQ = Query("", alias="from", max_length=10)
ToQ = Query("", alias="to", max_length=10)
PeriodQ = Query("", max_length=12)


# The dashboard ---------------------------------------------------------------------------------

def chart_text(locale: str) -> charts.ChartText:
    """The words the figures use, in ``locale``."""
    def t(message: str) -> str:
        return translate(locale, message)

    return charts.ChartText(
        stages={k: t(v) for k, v in CASE_STATE_LABELS.items()},
        cases=t(N_("Number of cases")), days=t(N_("Days")), median=t(N_("Median")),
        p90=t(N_("90th percentile")), landings=t(N_("Number of landings")), value_unit="万元",
        of_opened=t(N_("of cases opened")), of_previous=t(N_("of the previous stage")),
        group_label=lambda dim, g: report.group_label(dim, g, locale))


def _common(ctx: UserCtx) -> dict[str, Any]:
    en = ctx.locale.startswith("en")
    return {"pct": charts.percent, "width": width, "stage_labels": CASE_STATE_LABELS,
            "definitions": {k: v[1 if en else 0] for k, v in report.DEFINITIONS.items()},
            "group_label": lambda dim, g: report.group_label(dim, g, ctx.locale),
            "dimension_names": {k: v[1 if en else 0] for k, v in report.DIMENSION_NAMES.items()},
            "may_export": can(ctx.actor, "deals.export"), "plotly": plotly_head(),
            "region": region_label}


def plotly_head() -> dict[str, Any]:
    """What the page head links: the stylesheets (by the ids plotly.js looks for) and the JS."""
    base = f"/vendor/plotly/{plotly_js_version()}"
    return {"script": f"{base}/plotly.min.js", "global_id": GLOBAL_ID,
            "sheets": [(name, f"{base}/{name}.css") for name in stylesheets()]}


@router.get("/dashboard")
def dashboard(ctx: UserCtx, period: str = PeriodQ, date_from: str = FromQ,
              date_to: str = ToQ) -> Response:
    today = utcnow().date()
    chosen = period_of(period, date_from, date_to, today)
    stats = compute_stats(ctx.session, ctx.actor, date_from=chosen.date_from,
                          date_to=chosen.date_to, today=today, settings=ctx.settings)
    data = stats.as_json()
    return render(ctx.request, "dashboard/index.html", stats=data, period=chosen,
                  presets=PRESETS, figures=charts.build_figures(data, chart_text(ctx.locale)),
                  this_month=today.strftime("%Y-%m"), **_common(ctx))


@router.get("/dashboard/deals.xlsx")
def register_xlsx(ctx: UserCtx, period: str = PeriodQ, date_from: str = FromQ,
                  date_to: str = ToQ) -> Response:
    """技术合同登记: the deals signed in the period, one row each (staff, audited)."""
    chosen = period_of(period, date_from, date_to, utcnow().date())
    data, _count = register.export_register(ctx.session, ctx.actor, date_from=chosen.date_from,
                                            date_to=chosen.date_to)
    span = "_".join(d.isoformat() if d else "open" for d in (chosen.date_from, chosen.date_to))
    return _download(data, f"luodi-register-{span}.xlsx")


def _download(data: bytes, filename: str) -> Response:
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


# The monthly report ----------------------------------------------------------------------------

def _last_month(today: dt.date) -> str:
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def _shift(month: str, months: int) -> str:
    year, number = divmod(int(month[:4]) * 12 + int(month[5:]) - 1 + months, 12)
    return f"{year:04d}-{number + 1:02d}"


MonthQ = Query("", max_length=7)


@router.get("/dashboard/report")
def report_page(ctx: UserCtx, month: str = MonthQ) -> Response:
    """The monthly report as a printable page (A4); defaults to last month."""
    today = utcnow().date()
    month = month or _last_month(today)
    result = report.monthly_report(ctx.session, ctx.actor, month, today=today,
                                   settings=ctx.settings)
    this_month = today.strftime("%Y-%m")
    return render(ctx.request, "dashboard/report.html", report=result,
                  month_stats=result.stats.as_json(), ytd_stats=result.ytd.as_json(),
                  summary=result.summary(), previous=_shift(month, -1),
                  next=_shift(month, 1) if month < this_month else None, **_common(ctx))


@router.get("/dashboard/report.xlsx")
def report_xlsx(ctx: UserCtx, month: str = MonthQ) -> Response:
    today = utcnow().date()
    month = month or _last_month(today)
    result = report.monthly_report(ctx.session, ctx.actor, month, today=today,
                                   settings=ctx.settings)
    data = report.report_workbook(ctx.session, ctx.actor, result, locale=ctx.locale)
    return _download(data, f"luodi-report-{month}.xlsx")


# plotly.js and its stylesheets, from the installed package -------------------------------------

@cache
def _gzipped_js() -> bytes:
    return gzip.compress(plotly_js_path().read_bytes(), compresslevel=6)


@router.get("/vendor/plotly/{version}/plotly.min.js")
def plotly_js(version: str, request: Request) -> Response:
    """The bundled plotly.min.js; the version in the path makes it cacheable for good."""
    if version != plotly_js_version():
        raise NotFound("No such page.")
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(_gzipped_js(), media_type="text/javascript", headers={
            **IMMUTABLE, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return FileResponse(plotly_js_path(), media_type="text/javascript",
                        headers={**IMMUTABLE, "Vary": "Accept-Encoding"})


@router.get("/vendor/plotly/{version}/{name}.css")
def plotly_stylesheet(version: str, name: str) -> Response:
    """A stylesheet plotly.js would otherwise inject as an inline ``<style>`` element."""
    sheet = stylesheets().get(name)
    if version != plotly_js_version() or sheet is None:
        raise NotFound("No such page.")
    return Response(sheet, media_type="text/css", headers=IMMUTABLE)
