"""The matplotlib figures the notebooks show.

Figures are built on `matplotlib.figure.Figure` (no pyplot state), so they are
safe to make in a batch and are shown by returning them as a cell's last value.
Ticket text never goes through mathtext: every text call passes
``parse_math=False`` and usetex stays off, so a `$` in a subject is a dollar sign.
Text in any script is drawn glyph by glyph from a list of families (`font_families`):
matplotlib's own DejaVu Sans first, then fonts of other scripts (CJK, ...) that the
machine has; a glyph no font has is a box, and its warning is not shown
(review.pages.display.notebook_setup).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib
import matplotlib.font_manager
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from review.analysis import facts
from review.analysis.metric import CLOCKS
from review.analysis.metrics import DURATIONS
from review.analysis.stats import none_counted
from review.closeout.rules import RULES
from review.pages.palette import (
    BAR_COLOR,
    CLOCK_COLORS,
    DEADLINE_COLOR,
    EVENT_COLORS,
    OTHER,
    OTHERS,
    OWNER_COLORS,
    STATUS_COLORS,
    classification_color,
    queue_color,
    rule_color,
)
from review.pages.times import duration_text
from review.settings.config import Config

mdates: Any = importlib.import_module("matplotlib.dates")  # untyped in matplotlib's stubs

LANES = ("queue", "owner", "status")
MARKS = {
    # lane label: (event filter, marker)
    "staff reply": ("reply-staff", "^"),
    "requestor reply": ("reply-requestor", "v"),
    "comment": ("comment", "o"),
    "fields, links": ("change", "D"),
}
_TEXT: dict[str, Any] = {"parse_math": False, "usetex": False}
_RC: Any = {"text.parse_math": False, "text.usetex": False, "font.size": 9}
# Families a glyph is looked for in, in order (matplotlib >= 3.6 falls back glyph by glyph):
# the default, then those that cover CJK and other scripts, by their usual names on Linux,
# macOS and Windows. Only those installed are named: matplotlib logs a warning for the others.
FALLBACK_FAMILIES = (
    "DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC",
    "Noto Sans CJK KR", "Source Han Sans", "Droid Sans Fallback", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "IPAGothic", "IPAexGothic", "TakaoGothic", "Noto Sans",
    "Noto Sans Symbols", "Noto Sans Symbols2", "Hiragino Sans", "PingFang SC", "Microsoft YaHei",
    "Yu Gothic", "Malgun Gothic", "Arial Unicode MS", "Unifont",
)  # fmt: skip


# a fallback family without a bold face draws bold text in its regular weight, which
# matplotlib logs as a warning for every bold label: a page would show that line
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


@functools.cache
def font_families() -> tuple[str, ...]:
    """The FALLBACK_FAMILIES this machine has, in order (DejaVu Sans comes with matplotlib)."""
    installed = {font.name for font in matplotlib.font_manager.fontManager.ttflist}
    return tuple(family for family in FALLBACK_FAMILIES if family in installed) or ("DejaVu Sans",)


def _rc() -> Any:
    """The figures' settings: text stays text, and the font families of `font_families`."""
    return {**_RC, "font.family": list(font_families())}


def _figure(width: float, height: float, layout: Any = "constrained") -> Figure:
    with matplotlib.rc_context(_rc()):
        return Figure(figsize=(width, height), layout=layout)


def _lane_color(lane: str, value: str, seen: dict[str, str], config: Config) -> str:
    """Queue and status colours from the palette; owners (people) in order of appearance."""
    if value in seen:
        return seen[value]
    if lane == "queue":
        color = queue_color(value, config)
    elif lane == "status":
        color = STATUS_COLORS.get(value, OTHER)
    elif value in OWNER_COLORS:
        color = OWNER_COLORS[value]
    else:
        used = [c for c in seen.values() if c in OTHERS]
        color = OTHERS[len(used) % len(OTHERS)]
    seen[value] = color
    return color


def _ink(color: str) -> str:
    """Black text on light bars, white on dark ones."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "white"


def _merge_runs(segments: pd.DataFrame, lane: str, end: pd.Timestamp) -> pd.DataFrame:
    """Consecutive stretches with the same value in one lane, joined: value, start, end."""
    frame = segments[["start", "end", lane]].copy()
    frame["end"] = frame["end"].fillna(end)
    frame[lane] = frame[lane].fillna("?").astype(str)
    run = (frame[lane] != frame[lane].shift()).cumsum()
    merged = frame.groupby(run).agg(
        value=(lane, "first"), start=("start", "min"), end=("end", "max")
    )
    return merged.reset_index(drop=True)


def _event_groups(events: pd.DataFrame) -> dict[str, pd.Series]:
    kind = events["kind"]
    return {
        "reply-staff": events.loc[facts.staff_reply(events), "at"],
        "reply-requestor": events.loc[facts.requestor_reply(events), "at"],
        "comment": events.loc[kind == "comment", "at"],
        "change": events.loc[kind.isin(["field", "link", "watcher"]), "at"],
    }


def _off_hours(start: pd.Timestamp, end: pd.Timestamp, config: Config) -> list[tuple[Any, Any]]:
    """Stretches outside business hours between start and end (local days, holidays off)."""
    from review.settings.calendar import BusinessClock
    from review.settings.months import day_start

    tz = config.calendar.timezone
    hours = BusinessClock(config.calendar).working_hours(start, end)
    first = day_start(start.tz_convert(tz).tz_localize(None), tz)
    last = day_start(end.tz_convert(tz).tz_localize(None) + pd.Timedelta(days=1), tz)
    starts = [first, *hours["closing"]]
    ends = [*hours["opening"], last]
    return [(a, b) for a, b in zip(starts, ends, strict=True) if b > a]


def incident_timeline(
    segments: pd.DataFrame,
    events: pd.DataFrame,
    config: Config,
    end: pd.Timestamp,
    triaged_at: Any = None,
    resolved_at: Any = None,
    title: str = "",
    deadlines: Mapping[str, Any] | None = None,
) -> Figure:
    """Queue, owner and status lanes over time, with replies, comments and changes marked.

    `segments` and `events` are one ticket's rows of `state_segments` and `build_events`;
    `end` closes the last stretch. Times are shown in the configured time zone, with
    time outside business hours shaded. `deadlines` (label -> instant, e.g. review.analysis.sla's
    "response due") are drawn as red dash-dot lines; the axis widens to show them.
    """
    deadlines = {k: pd.Timestamp(v) for k, v in (deadlines or {}).items() if not pd.isna(v)}
    start = pd.Timestamp(segments["start"].min())
    end = max(pd.Timestamp(end), start + pd.Timedelta(minutes=10))
    view = _View(config.calendar.timezone, start, end, max([end, *deadlines.values()]))
    lanes = [*LANES, *MARKS]
    height = 0.5 * len(lanes) + 2.2
    fig = _figure(11, height, layout=None)  # fixed margins: one draw instead of two
    fig.subplots_adjust(left=0.11, right=0.985, top=1 - 0.45 / height, bottom=1.25 / height)
    with matplotlib.rc_context(_rc()):
        ax = fig.add_subplot()
        ax.set_xlim(view.x(start - view.pad), view.x(view.stop + view.pad))
        ys = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
        unlabelled = _state_lanes(
            ax, segments, ys, view, fig.get_figwidth() * fig.dpi * 0.82, config
        )
        _event_marks(ax, events, ys, view)
        _moments(ax, view, len(lanes), triaged_at, resolved_at, deadlines)
        if view.span <= pd.Timedelta(days=45):
            for off_start, off_end in _off_hours(start - view.pad, view.stop + view.pad, config):
                ax.axvspan(
                    mdates.date2num(off_start), mdates.date2num(off_end),
                    color="#000000", alpha=0.06, linewidth=0, zorder=0,
                )  # fmt: skip
        _timeline_axes(ax, ys, len(lanes), view, title)
        _lane_key(fig, unlabelled, height)
    return fig


@dataclass(frozen=True)
class _View:
    """The time a timeline shows: its zone, the ticket's start and end, where the axis stops
    (the end, or a later deadline), and a margin either side."""

    tz: str
    start: pd.Timestamp
    end: pd.Timestamp
    stop: pd.Timestamp

    @property
    def span(self) -> pd.Timedelta:
        return self.stop - self.start

    @property
    def pad(self) -> pd.Timedelta:
        return self.span * 0.03

    def x(self, moment: Any) -> float:
        """An instant as the axis' number, in the view's zone."""
        return float(mdates.date2num(pd.Timestamp(moment).tz_convert(self.tz)))


def _state_lanes(
    ax: Any, segments: pd.DataFrame, ys: dict[str, int], view: _View, axis_px: float,
    config: Config,
) -> dict[str, dict[str, str]]:  # fmt: skip
    """The queue, owner and status bars, labelled where the label fits; returns, per lane, the
    values too short to label (label -> colour) for the key."""
    unlabelled: dict[str, dict[str, str]] = {lane: {} for lane in LANES}
    for lane in LANES:
        runs = _merge_runs(segments, lane, view.end)
        colors: dict[str, str] = {}
        for run_start, run_end, value in zip(
            runs["start"], runs["end"], runs["value"], strict=True
        ):
            begin, finish = pd.Timestamp(run_start), pd.Timestamp(run_end)
            if finish <= begin:
                continue  # the state reached at the end (e.g. resolved) has no length
            color = _lane_color(lane, str(value), colors, config)
            left = view.x(begin)
            width = view.x(finish) - left
            ax.broken_barh(
                [(left, width)], (ys[lane] - 0.35, 0.7), facecolors=color, edgecolor="white"
            )
            fraction = (finish - begin) / (view.span + 2 * view.pad)
            label = str(value)
            if fraction * axis_px > 6.5 * len(label) + 6:
                ax.text(
                    left + width / 2, ys[lane], label, ha="center", va="center",
                    fontsize=8, color=_ink(color), fontweight="bold", clip_on=True, **_TEXT,
                )  # fmt: skip
            else:
                unlabelled[lane][label] = color
        for label in list(unlabelled[lane]):
            if any(
                t.get_text() == label and abs(t.get_position()[1] - ys[lane]) < 0.1
                for t in ax.texts
            ):
                del unlabelled[lane][label]
    return unlabelled


def _event_marks(ax: Any, events: pd.DataFrame, ys: dict[str, int], view: _View) -> None:
    """Replies, comments and other changes, one marker each on their lanes."""
    groups = _event_groups(events)
    for lane, (key, marker) in MARKS.items():
        times = pd.to_datetime(groups[key], utc=True).dt.tz_convert(view.tz)
        ax.plot(
            mdates.date2num(times), np.full(len(times), ys[lane]), linestyle="none",
            marker=marker, markersize=8, color=EVENT_COLORS[lane], alpha=0.85,
        )  # fmt: skip


def _moments(
    ax: Any, view: _View, lanes: int, triaged_at: Any, resolved_at: Any,
    deadlines: dict[str, pd.Timestamp],
) -> None:  # fmt: skip
    """Triage and resolution as black lines, deadlines as red dash-dot ones, each labelled."""
    for moment, label, style, align in (
        (triaged_at, " triaged", ":", "left"),
        (resolved_at, "resolved ", "--", "right"),
    ):
        if moment is not None and not pd.isna(moment):
            x = view.x(moment)
            ax.axvline(x, color="black", linestyle=style, linewidth=1)
            ax.text(x, lanes - 0.45, label, fontsize=8, va="bottom", ha=align, **_TEXT)
    for number, (label, moment) in enumerate(sorted(deadlines.items(), key=lambda d: d[1])):
        x = view.x(moment)
        ax.axvline(x, color=DEADLINE_COLOR, linestyle="-.", linewidth=1)
        near_right = moment >= view.stop - view.span * 0.15
        ax.text(
            x, -0.65 + 0.3 * (number % 2), f"{label} " if near_right else f" {label}",
            fontsize=8, va="bottom", ha="right" if near_right else "left", color=DEADLINE_COLOR,
            **_TEXT,
        )  # fmt: skip


def _timeline_axes(ax: Any, ys: dict[str, int], lanes: int, view: _View, title: str) -> None:
    """Lane names, a date axis in the view's zone with a grid, and the title."""
    tz = view.tz
    ax.set_yticks(list(ys.values()), list(ys.keys()))
    ax.set_ylim(-0.7, lanes - 0.1)
    locator = mdates.AutoDateLocator(tz=tz, minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    ax.grid(axis="x", color="#cccccc", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    zones = "/".join(dict.fromkeys(t.tz_convert(tz).strftime("%Z") for t in (view.start, view.end)))
    ax.set_xlabel(f"time ({zones}, {tz}); shaded: outside business hours", **_TEXT)
    ax.set_title(title or "Timeline", loc="left", fontsize=10, **_TEXT)


def _lane_key(fig: Figure, unlabelled: dict[str, dict[str, str]], height: float) -> None:
    """Below the axes, the colours of the stretches too short to label; else its room back."""
    handles: list[Any] = []
    for lane, values in unlabelled.items():
        handles += [Patch(facecolor=c, label=f"{lane}: {v}") for v, c in values.items()]
    if not handles:  # no key below the axes: give its room back
        fig.set_figheight(height - 0.45)
        fig.subplots_adjust(top=1 - 0.45 / (height - 0.45), bottom=0.8 / (height - 0.45))
        return
    fig.legend(
        handles=handles, loc="lower left", fontsize=8, frameon=False,
        ncols=min(len(handles), 5), title="too short to label in the bars:",
        title_fontsize=8, alignment="left",
    )  # fmt: skip


def _ecdf(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    data = np.sort(values.dropna().astype(float).to_numpy())
    return data, np.arange(1, len(data) + 1) / max(len(data), 1)


_DURATION_TICKS = [
    (0.0, "0"), (0.25, "15m"), (1.0, "1h"), (4.0, "4h"), (24.0, "1d"), (72.0, "3d"),
    (168.0, "1w"), (720.0, "30d"), (2160.0, "90d"),
]  # fmt: skip


def _duration_axis(ax: Any, largest: float) -> None:
    """Symlog hours axis (linear to 1 h, log beyond) with plain labels: 15m, 1h, 1d, 1w."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.6)
    shown = [(v, label) for v, label in _DURATION_TICKS if v <= max(largest, 1.0) * 1.5]
    if largest > 24:
        shown = [(v, label) for v, label in shown if v == 0 or v >= 1]  # 15m would crowd 0
    ax.set_xticks([v for v, _ in shown], [label for _, label in shown])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlim(0, max(largest, 1.0) * 1.3)


def duration_distributions(metrics: pd.DataFrame, title: str = "") -> Figure:
    """ECDF of time to triage, in hand-off and to resolve: wall-clock and business hours.

    Median and 90th percentile of the wall-clock hours are marked; the x axis is
    linear up to 1 hour and logarithmic beyond, so minutes and days both show.
    """
    fig = _figure(11, 3.6 if len(metrics) else 1.4)
    with matplotlib.rc_context(_rc()):
        axes = fig.subplots(1, len(DURATIONS), sharey=True)
        for ax, spec in zip(axes, DURATIONS.values(), strict=True):
            wall_column, business_column = spec.columns
            wall = metrics[wall_column].dropna().astype(float)
            largest = float(metrics[spec.columns].max().max() or 0.0)
            for column, style, name in (
                (wall_column, "-", "wall-clock"),
                (business_column, "--", "business"),
            ):
                x, y = _ecdf(metrics[column])
                if len(x):
                    ax.step(
                        np.concatenate([[0.0], x]), np.concatenate([[0.0], y]), where="post",
                        linestyle=style, label=f"{name} hours (n={len(x)})",
                        color=CLOCK_COLORS[name],
                    )  # fmt: skip
            if len(wall):
                median, p90 = float(wall.quantile(0.5)), float(wall.quantile(0.9))
                said = f"median {duration_text(median)}, p90 {duration_text(p90)}"
                for value in (median, p90):
                    ax.axvline(value, color="grey", linestyle=":", linewidth=1)
                ax.text(
                    0.02, 0.97, f"wall-clock: {said} (dotted)",
                    transform=ax.transAxes, va="top", fontsize=7.5,
                    bbox={"facecolor": "white", "edgecolor": "#cccccc", "pad": 2}, **_TEXT,
                )  # fmt: skip
                ax.legend(fontsize=7, loc="lower right")
            else:
                ax.text(0.5, 0.5, _nothing_counted(metrics), ha="center", transform=ax.transAxes,
                        **_TEXT)  # fmt: skip
            _duration_axis(ax, largest if largest == largest else 1.0)
            ax.set_title(spec.label, fontsize=10, **_TEXT)
            ax.set_xlabel("hours (linear to 1 h, log beyond)", **_TEXT)
            ax.set_ylim(0, 1.0)
            ax.grid(color="#dddddd", linewidth=0.6)
            if not len(wall) and not metrics[business_column].notna().any():
                ax.set_axis_off()  # an empty panel: its sentence, no axes that mean nothing
        axes[0].set_ylabel("share of incidents at or below", **_TEXT)
        if title:
            fig.suptitle(title, fontsize=11, **_TEXT)
    return fig


def _nothing_counted(metrics: pd.DataFrame) -> str:
    """An empty distribution panel's sentence: no incidents, or incidents none of which has
    the duration (still open, never handed off), never 'no incidents' then."""
    if not len(metrics):
        return "no incidents"
    words = none_counted(len(metrics))
    still_open = int(metrics["resolved_at"].isna().sum()) if "resolved_at" in metrics else 0
    return words + (f"\n({still_open} still open)" if still_open else "")


def monthly_comparison(
    comparison: pd.DataFrame, title: str = "", statistics: pd.DataFrame | None = None
) -> Figure:
    """Incidents per month, and median and 90th percentile of each duration per month.

    With `statistics` (review.analysis.stats.month_statistics), each median and p90 carries its 95%
    interval as an error bar (none where the month has too few incidents for one).
    """
    fig = _figure(11, 3.2)
    months = comparison["month"].astype(str).tolist()
    x = np.arange(len(months))
    with matplotlib.rc_context(_rc()):
        axes = fig.subplots(1, 1 + len(DURATIONS))
        # "12 (partial)": the partial month's count so far; "not covered": no bar
        counts = pd.to_numeric(
            comparison["incidents"].astype(str).str.extract(r"^(\d+)", expand=False),
            errors="coerce",
        )
        axes[0].bar(x, counts, color=BAR_COLOR)
        partial = comparison["covered"].eq("partial").to_numpy() if "covered" in comparison else ()
        for i in np.flatnonzero(counts.isna().to_numpy() | partial):
            label = "partial" if counts.notna().iloc[i] else "not covered"
            axes[0].text(x[i], 0, label, rotation=90, ha="center", va="bottom",
                         fontsize=8, color="#666666", **_TEXT)  # fmt: skip
        axes[0].set_title("incidents", fontsize=10)
        for ax, spec in zip(axes[1:], DURATIONS.values(), strict=True):
            for stat, style in (("median", "o-"), ("p90", "s--")):
                for unit, color in (
                    ("h", CLOCK_COLORS["wall-clock"]),
                    ("bh", CLOCK_COLORS["business"]),
                ):
                    column = spec.comparison_column(stat, unit)
                    values = pd.to_numeric(comparison[column], errors="coerce")
                    ax.plot(x, values, style, color=color, label=f"{stat} {unit}", markersize=4)
                    if statistics is not None:
                        low, high = _interval_bars(statistics, months, spec.key, stat, unit)
                        shift = -0.06 if unit == "h" else 0.06
                        middle = values.to_numpy(dtype=float)
                        bars = np.clip([middle - low, high - middle], 0, None)
                        ax.errorbar(x + shift, middle, yerr=bars,
                                    fmt="none", ecolor=color, elinewidth=0.8, capsize=2,
                                    alpha=0.7)  # fmt: skip
            ax.set_title(f"{spec.label} (hours)", fontsize=10, **_TEXT)
            ax.legend(fontsize=7)
            ax.grid(color="#dddddd", linewidth=0.6)
        for ax in axes:
            ax.set_xticks(x, months, rotation=30, fontsize=8)
        if not (counts.fillna(0) > 0).any():  # nothing in any month: words, no empty axes
            _say(axes[0], "no incidents in these months")
        for ax in axes[1:]:
            if not any(np.isfinite(line.get_ydata()).any() for line in ax.get_lines()):
                _say(ax, "no durations to compare")
        if title:
            fig.suptitle(title, fontsize=11, **_TEXT)
    return fig


def _say(ax: Any, sentence: str) -> None:
    """An empty panel: its title and one sentence, without axes that mean nothing."""
    for artist in [*ax.lines, *ax.patches, *ax.texts, *ax.collections]:
        artist.remove()
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    ax.text(0.5, 0.5, sentence, ha="center", va="center", transform=ax.transAxes, **_TEXT)
    ax.set_axis_off()


def _interval_bars(
    statistics: pd.DataFrame, months: list[str], metric: str, stat: str, unit: str
) -> tuple[np.ndarray, np.ndarray]:
    """The (low, high) interval per month of one statistic of `metric` (its key); NaN where
    there is none."""
    clock = CLOCKS[unit].name
    rows = statistics.loc[(statistics["metric"] == metric) & (statistics["clock"] == clock)]
    rows = rows.set_index("month").reindex(months)
    low = pd.to_numeric(rows[f"{stat}_ci_low"], errors="coerce").to_numpy(dtype=float)
    high = pd.to_numeric(rows[f"{stat}_ci_high"], errors="coerce").to_numpy(dtype=float)
    return low, high


def counts_chart(
    by_classification: pd.DataFrame, by_service: pd.DataFrame, config: Config | None = None
) -> Figure:
    """Incidents by classification (each in its palette colour, given the config) and by
    service, as horizontal bars."""
    rows = max(len(by_classification), len(by_service))
    height = 1.2 + 0.28 * max(rows, 3) if rows else 0.8
    fig = _figure(11, height)
    with matplotlib.rc_context(_rc()):
        axes = fig.subplots(1, 2)
        for ax, frame, title in (
            (axes[0], by_classification, "by classification"),
            (axes[1], by_service, "by service"),
        ):
            labels = frame.iloc[:, 0].astype(str).tolist()[::-1]
            values = frame["incidents"].tolist()[::-1]
            colors = (
                [classification_color(label, config) for label in labels]
                if config is not None and title == "by classification"
                else BAR_COLOR
            )
            ax.barh(range(len(values)), values, color=colors)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.set_yticks(range(len(values)), labels)
            for tick in ax.get_yticklabels():
                tick.set(parse_math=False)
            for i, v in enumerate(values):
                ax.text(v, i, f" {v}", va="center", fontsize=8, **_TEXT)
            ax.set_title(f"incidents {title}", fontsize=10, **_TEXT)
            ax.set_xlabel("incidents", **_TEXT)
            if not values:
                ax.text(0.5, 0.5, "no incidents", ha="center", transform=ax.transAxes, **_TEXT)
                ax.set_axis_off()
    return fig


def findings_chart(findings: pd.DataFrame, title: str = "Close-out findings by service") -> Figure:
    """Findings per service, stacked by rule (findings: one row per finding)."""
    table = (
        findings.pivot_table(index="service", columns="rule", aggfunc="size", fill_value=0)
        if len(findings)
        else pd.DataFrame()
    )
    fig = _figure(11, 1.4 + 0.32 * max(len(table), 3) if len(table) else 0.8)
    with matplotlib.rc_context(_rc()):
        ax = fig.add_subplot()
        if table.empty:
            ax.text(0.5, 0.5, "no findings", ha="center", va="center", transform=ax.transAxes,
                    **_TEXT)  # fmt: skip
            ax.set_axis_off()
        else:
            table = table.loc[table.sum(axis=1).sort_values().index]
            order = {rule: i for i, rule in enumerate(RULES)}
            table = table[
                sorted(table.columns, key=lambda r: (order.get(str(r), len(order)), str(r)))
            ]
            left = np.zeros(len(table))
            services = [str(s) or "(no service)" for s in table.index]
            for rule in table.columns:
                values = table[rule].to_numpy(dtype=float)
                ax.barh(services, values, left=left, color=rule_color(str(rule)),
                        label=str(rule))  # fmt: skip
                left += values
            for tick in ax.get_yticklabels():
                tick.set(parse_math=False)
            ax.set_xlim(0, float(left.max()) * 1.04)  # the longest bar ends inside the frame
            ax.set_xlabel("findings", **_TEXT)
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_title(title, loc="left", fontsize=10, **_TEXT)
    return fig


def column_chart(table: pd.DataFrame, label: str, value: str, title: str, xlabel: str) -> Figure:
    """One horizontal bar per row of `table`: `label` column against numeric `value` column."""
    frame = table[[label, value]].copy()
    frame[value] = pd.to_numeric(frame[value], errors="coerce")
    frame = frame.dropna().sort_values(value)
    fig = _figure(11, 1.4 + 0.32 * max(len(frame), 3) if len(frame) else 0.8)
    with matplotlib.rc_context(_rc()):
        ax = fig.add_subplot()
        if frame.empty:
            ax.text(0.5, 0.5, "nothing to show", ha="center", va="center",
                    transform=ax.transAxes, **_TEXT)  # fmt: skip
            ax.set_axis_off()
        else:
            ax.barh(frame[label].astype(str), frame[value], color=BAR_COLOR)
            for tick in ax.get_yticklabels():
                tick.set(parse_math=False)
            ax.set_xlabel(xlabel, **_TEXT)
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_title(title, loc="left", fontsize=10, **_TEXT)
    return fig


def review_timeline(review: Any) -> Figure:
    """The timeline figure of an `IncidentReview` (review.pages.reports.incident_review_data)."""
    subject = str(review.title)
    if len(subject) > 90:
        subject = subject[:89] + "…"
    return incident_timeline(
        review.segments,
        review.events,
        review.config,
        review.end,
        triaged_at=review.row.get("triaged_at"),
        resolved_at=review.row.get("resolved_at"),
        title=subject,
        deadlines=review.deadlines,
    )


def gap_age_chart(table: pd.DataFrame) -> Figure:
    """How long each service's gap has stood, from the support-gaps table.

    Uses the table's first numeric column whose name mentions days (e.g. how long
    the gap has stood); says so plainly if the table has none.
    """
    numeric = [
        c
        for c in table.columns
        if "day" in str(c).lower() and pd.api.types.is_numeric_dtype(table[c])
    ]
    if "service" not in table.columns or not numeric:
        return column_chart(
            pd.DataFrame({"service": [], "days": []}), "service", "days",
            "How long each gap has stood", "days",
        )  # fmt: skip
    return column_chart(
        table,
        "service",
        numeric[0],
        "How long each gap has stood: days since the first incident with a finding",
        "days",
    )
