"""Plotly figures (plain JSON) for the landing dashboard, built from ``Stats.as_json()``.

Pure functions: no plotly import, no web, no database. Every number a figure shows comes from
the statistics as they are (:mod:`luodi.landing.stats`); nothing is recounted here. A figure
is ``{"data": [...], "layout": {...}, "config": {...}}`` as ``Plotly.newPlot`` takes it, or
None when there is nothing to draw (the page then says so instead of drawing an empty axis).
Words shown in a figure come in through :class:`ChartText`, already translated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GROUP_DIMENSIONS", "ChartText", "build_figures", "percent"]

Figure = dict[str, Any]
GROUP_DIMENSIONS = ("district", "field", "institution", "broker", "category")
MAX_BARS = 15  # a bar chart shows the largest groups; the table beside it lists them all

ACCENT, BRAND, GREY = "#1f5fa8", "#b3261e", "#9aa7b6"
FONT = ('"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
        '"WenQuanYi Zen Hei", system-ui, sans-serif')
CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoom2d", "pan2d",
                                     "zoomIn2d", "zoomOut2d"],
          "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True)
class ChartText:
    """The translated words figures use: stage names, axis titles, a group relabeller."""

    stages: Mapping[str, str] = field(default_factory=dict)
    cases: str = "Cases"
    days: str = "Days"
    median: str = "Median"
    p90: str = "90th percentile"
    landings: str = "Landings"
    value_unit: str = "万元"
    of_opened: str = "of opened"
    of_previous: str = "of previous stage"
    group_label: Callable[[str, Mapping[str, Any]], str] = lambda _dim, g: str(g["label"])

    def stage(self, key: str) -> str:
        """A stage's display name (the key itself when no name is given)."""
        return self.stages.get(key, key)


def percent(rate: float | None, digits: int = 1) -> str:
    """A 0..1 rate as '12.5 %'; '—' for None (nothing to divide by, never a fake 0 %)."""
    if rate is None:
        return "—"
    return f"{rate * 100:.{digits}f} %"


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {"height": height, "margin": {"l": 10, "r": 20, "t": 10, "b": 40},
            "font": {"family": FONT, "size": 13, "color": "#1d2733"},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False, "separators": ".,", **extra}


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    return {"data": data, "layout": layout, "config": CONFIG}


def funnel_figure(funnel: Mapping[str, Any], text: ChartText) -> Figure | None:
    """Cases of the cohort reaching each stage, labelled with the step and overall rates."""
    stages: Sequence[Mapping[str, Any]] = funnel.get("stages", ())
    if not funnel.get("opened"):
        return None
    labels = [text.stage(s["stage"]) for s in stages]
    notes = [f"{s['reached']} · {percent(s['overall_rate'])} {text.of_opened}" for s in stages]
    hover = [f"{percent(s['step_rate'])} {text.of_previous}" for s in stages]
    trace = {"type": "funnel", "y": labels, "x": [s["reached"] for s in stages],
             "text": notes, "textinfo": "text", "textposition": "inside",
             "customdata": hover, "hovertemplate": "%{y}: %{x}<br>%{customdata}<extra></extra>",
             "marker": {"color": ACCENT}, "connector": {"line": {"color": "#dde3ea"}}}
    return _figure([trace], _layout(60 + 48 * len(stages),
                                    margin={"l": 10, "r": 10, "t": 10, "b": 10},
                                    yaxis={"automargin": True}))


def stage_days_figure(rows: Sequence[Mapping[str, Any]], text: ChartText) -> Figure | None:
    """Median and p90 days per stage (stages with at least one ended stay)."""
    rows = [r for r in rows if r.get("stays")]
    if not rows:
        return None
    labels = [f"{text.stage(r['stage'])} (n={r['stays']})" for r in rows]
    traces = [{"type": "bar", "orientation": "h", "name": name, "y": labels,
               "x": [r[key] for r in rows], "marker": {"color": color},
               "hovertemplate": "%{y}: %{x} " + text.days + f"<extra>{name}</extra>"}
              for key, name, color in (("median", text.median, ACCENT), ("p90", text.p90, GREY))]
    return _figure(traces, _layout(
        110 + 44 * len(rows), barmode="group", showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"l": 10, "r": 20, "t": 30, "b": 40},
        xaxis={"title": {"text": text.days}, "rangemode": "tozero", "automargin": True},
        yaxis={"autorange": "reversed", "automargin": True}))


def stalled_figure(stalled: Mapping[str, Any], text: ChartText) -> Figure | None:
    """Open cases idle for the stale period, by their current stage."""
    by_stage: Mapping[str, int] = stalled.get("by_stage", {})
    if not stalled.get("total"):
        return None
    trace = {"type": "bar", "x": [text.stage(s) for s in by_stage], "y": list(by_stage.values()),
             "marker": {"color": BRAND}, "text": list(by_stage.values()),
             "textposition": "auto", "hovertemplate": "%{x}: %{y}<extra></extra>"}
    return _figure([trace], _layout(260, yaxis={"title": {"text": text.cases}, "dtick": 1,
                                                "rangemode": "tozero", "automargin": True},
                                    xaxis={"automargin": True}))


def group_figure(dimension: str, groups: Sequence[Mapping[str, Any]],
                 text: ChartText) -> Figure | None:
    """Landings per group (the largest :data:`MAX_BARS`), each bar noting its value in 万元."""
    if not groups:
        return None
    shown = list(groups[:MAX_BARS])
    labels = [text.group_label(dimension, g) for g in shown]
    notes = [f"{g['count']} · {g['value_wan']:,.2f} {text.value_unit}" for g in shown]
    trace = {"type": "bar", "orientation": "h", "y": labels, "x": [g["count"] for g in shown],
             "text": notes, "textposition": "auto", "cliponaxis": False,
             "marker": {"color": ACCENT},
             "hovertemplate": "%{y}<br>%{text}<extra></extra>"}
    xaxis: dict[str, Any] = {"title": {"text": text.landings}, "rangemode": "tozero",
                             "automargin": True}
    if max(g["count"] for g in shown) <= 10:
        xaxis["dtick"] = 1  # whole deals, not 0.5
    return _figure([trace], _layout(70 + 34 * len(shown), xaxis=xaxis, yaxis={
        "autorange": "reversed", "automargin": True, "type": "category"}))


def build_figures(stats: Mapping[str, Any], text: ChartText | None = None
                  ) -> dict[str, Figure | None]:
    """Every dashboard figure by name: funnel, stage_days, stalled and one per dimension."""
    text = text or ChartText()
    figures: dict[str, Figure | None] = {
        "funnel": funnel_figure(stats["funnel"], text),
        "stage_days": stage_days_figure(stats["stage_days"], text),
        "stalled": stalled_figure(stats["stalled"], text),
    }
    for dimension in GROUP_DIMENSIONS:
        figures[dimension] = group_figure(dimension, stats["landings"].get(f"by_{dimension}", ()),
                                          text)
    return figures
