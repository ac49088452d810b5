"""The report's charts as inline SVG (Matplotlib, no JavaScript): the page opens offline, prints,
and is byte-identical on rerun (fixed hash salt, no date in the SVG metadata).

Why Matplotlib: static SVG needs no script at all (nothing to fetch, nothing to fail in the
browser console), weighs kilobytes where an inlined Plotly bundle weighs megabytes, and renders
the same in every browser and on paper for an auditor.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # figures without pyplot: no GUI backend, no global state
from matplotlib.ticker import FuncFormatter, PercentFormatter

from reporting.exposure import PeerStats

OPEN = "#c8553d"
BARRED = "#a7b1bc"
REALIZED = "#2f6690"
PAID = "#d9e2ec"
INK = "#243b53"
MUTED = "#627d98"
TOP_PROVIDERS = 15

_STYLE: dict[Any, Any] = {  # rcParams keys are typed as literals
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": "#bcccdc",
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "svg.fonttype": "path",
    # Labels carry feed data (payer ids, NPIs, rule ids): plain text, never mathtext, so a `$..$`
    # in a payer id is drawn as sent instead of failing every report (issue 9, item 4).
    "text.parse_math": False,
}


LABEL_CHARACTERS = 48  # a longer id would squeeze the bars to nothing


def _label(text: str) -> str:
    """A feed value as a chart label: drawn as sent (plain text, see ``_STYLE``), cut to
    ``LABEL_CHARACTERS`` with an ellipsis; the page's tables show it whole."""
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "\u2026"


def _dollars(value: float, _position: object = None) -> str:
    if abs(value) >= 1_000_000:
        return f"${value / 1_000_000:,.1f}M"
    if abs(value) >= 10_000:
        return f"${value / 1_000:,.0f}k"
    return f"${value:,.0f}"


def _svg(figure: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element that scales to its container."""
    buffer = io.StringIO()
    with rc_context({"svg.hashsalt": f"recoup-{name}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    text = re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        rf'<svg\1 class="chart" role="img" aria-label="{name}"',
        text,
        count=1,
    )
    return text


def _figure(
    rows: int, *, width: float = 6.4, row_height: float = 0.32, base: float = 0.9
) -> Figure:
    return Figure(figsize=(width, base + row_height * max(rows, 1)), layout="constrained")


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _label_bars(ax: Axes, values: Sequence[float]) -> None:
    limit = max(values, default=0) or 1
    for index, value in enumerate(values):
        ax.text(
            value + limit * 0.01,
            index,
            _dollars(value) if value < 10_000 else f"${value:,.0f}",
            va="center",
            fontsize=8,
            color=INK,
        )
    ax.set_xlim(0, limit * 1.18)


def horizontal_bars(
    name: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    links: Sequence[str] | None = None,
    *,
    row_height: float = 0.32,
    plain_labels: bool = False,
) -> str:
    """One bar per label (largest on top), dollar values written at the bar ends; ``links``: the
    page anchor each bar and its label lead to (an SVG link, no script); ``plain_labels``: our own
    words (rule titles), drawn whole instead of cut like a feed value."""
    with rc_context(_STYLE):
        figure = _figure(len(labels), row_height=row_height)
        ax = figure.subplots()
        ax.set_title(title)
        if not labels or not any(values):
            _empty(ax, "nothing to show")
        else:
            positions = list(range(len(labels)))
            bars = ax.barh(positions, values, color=OPEN, height=0.6)
            shown = list(labels) if plain_labels else [_label(label) for label in labels]
            ticks = ax.set_yticks(positions, shown)
            for bar, tick, link in zip(bars, ticks, links or [], strict=False):
                bar.set_url(link)
                tick.label1.set_url(link)
            ax.invert_yaxis()
            ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
            _label_bars(ax, values)
        return _svg(figure, name)


RULE_LABEL_WIDTH = 38


def rule_label(title: str, lines: int) -> str:
    """A rule's bar label in plain words (its title, on lines of ``RULE_LABEL_WIDTH``)."""
    text = f"{title[:1].upper()}{title[1:]} ({lines:,} line{'s' if lines != 1 else ''})"
    return textwrap.fill(text, RULE_LABEL_WIDTH)


def exposure_by_rule(
    by_rule: dict[str, dict[str, Any]], titles: Mapping[str, str] | None = None
) -> str:
    """Open exposure per rule, each bar named by the rule's title and leading to its row of the
    page's rule table (``#rule-<id>``)."""
    items = sorted(by_rule.items(), key=lambda item: (-item[1]["exposure"], item[0]))
    items = [item for item in items if item[1]["exposure"] > 0]
    titles = titles or {}
    return horizontal_bars(
        "exposure-by-rule",
        "Open exposure by rule (gross)",
        [rule_label(titles.get(rule, rule), body["lines"]) for rule, body in items],
        [body["exposure"] for _, body in items],
        [f"#rule-{rule}" for rule, _ in items],
        row_height=0.55,
        plain_labels=True,
    )


def provider_chart_title(shown: int, with_exposure: int) -> str:
    """Says how many bars there are: "top 15 of 40" only when some providers are left out."""
    if with_exposure > shown:
        return f"Open exposure by rendering provider (top {shown} of {with_exposure})"
    return f"Open exposure by rendering provider ({with_exposure} with open exposure)"


def exposure_by_provider(by_npi: dict[str, dict[str, Any]], top: int = TOP_PROVIDERS) -> str:
    items = sorted(by_npi.items(), key=lambda item: (-item[1]["open_exposure"], item[0]))
    flagged = [item for item in items if item[1]["open_exposure"] > 0]
    items = flagged[:top]
    return horizontal_bars(
        "exposure-by-provider",
        provider_chart_title(len(items), len(flagged)),
        [npi for npi, _ in items],
        [body["open_exposure"] for _, body in items],
        [f"#{anchor_id('npi', npi)}" for npi, _ in items],
    )


def anchor_id(kind: str, value: str) -> str:
    """The page id of a payer's or provider's row (feed values: only safe characters kept)."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_-]+", "_", value)


def exposure_by_payer(by_payer: dict[str, dict[str, Any]]) -> str:
    """Open exposure next to what each payer already took back."""
    items = sorted(
        by_payer.items(),
        key=lambda item: (-item[1]["open_exposure"] - item[1]["realized_recoupments"], item[0]),
    )
    with rc_context(_STYLE):
        figure = _figure(len(items), row_height=0.5)
        ax = figure.subplots()
        ax.set_title("Open exposure and realized recoupments by payer")
        if not items:
            _empty(ax, "nothing to show")
            return _svg(figure, "exposure-by-payer")
        positions = list(range(len(items)))
        open_values = [body["open_exposure"] for _, body in items]
        realized = [body["realized_recoupments"] for _, body in items]
        open_bars = ax.barh(
            [p - 0.18 for p in positions],
            open_values,
            height=0.36,
            color=OPEN,
            label="open exposure",
        )
        realized_bars = ax.barh(
            [p + 0.18 for p in positions],
            realized,
            height=0.36,
            color=REALIZED,
            label="realized recoupments",
        )
        ticks = ax.set_yticks(positions, [_label(payer) for payer, _ in items])
        for (payer, _), tick, first, second in zip(
            items, ticks, open_bars, realized_bars, strict=True
        ):  # each payer's bars and name lead to its row of the payer table
            link = f"#{anchor_id('payer', payer)}"
            for artist in (tick.label1, first, second):
                artist.set_url(link)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
        limit = max([*open_values, *realized, 1])
        for position, value in zip(positions, open_values, strict=True):
            ax.text(
                value + limit * 0.01, position - 0.18, f"${value:,.0f}", va="center", fontsize=8
            )
        for position, value in zip(positions, realized, strict=True):
            ax.text(
                value + limit * 0.01, position + 0.18, f"${value:,.0f}", va="center", fontsize=8
            )
        ax.set_xlim(0, limit * 1.2)
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        return _svg(figure, "exposure-by-payer")


def exposure_by_month(by_month: dict[str, dict[str, Any]]) -> str:
    """Open and time-barred exposure per month of service, stacked."""
    months = sorted(by_month)
    with rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 3.0), layout="constrained")
        ax = figure.subplots()
        ax.set_title("Exposure by month of service")
        if not months:
            _empty(ax, "nothing to show")
            return _svg(figure, "exposure-by-month")
        positions = list(range(len(months)))
        open_values = [by_month[m]["open_exposure"] for m in months]
        barred = [by_month[m]["time_barred_exposure"] for m in months]
        ax.bar(positions, barred, color=BARRED, label="time-barred", width=0.75)
        ax.bar(positions, open_values, bottom=barred, color=OPEN, label="open", width=0.75)
        step = max(1, len(months) // 12)
        ax.set_xticks(positions[::step], months[::step], rotation=45, ha="right")
        ax.yaxis.set_major_formatter(FuncFormatter(_dollars))
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        return _svg(figure, "exposure-by-month")


def _jitter(key: str, spread: float = 0.28) -> float:
    """A stable vertical offset for one provider's dot (same chart on every run)."""
    digest = hashlib.sha256(key.encode()).digest()
    return (digest[0] / 255 - 0.5) * 2 * spread


def share_strip(shares: Sequence[dict[str, Any]], stats: PeerStats) -> str:
    """Every provider's 90837 share in the outlier window: scored peers over a box of their
    distribution, the rule's line, flagged providers in red and named; providers with too few
    lines to be scored below, hollow."""
    with rc_context(_STYLE):
        figure = Figure(figsize=(12, 3.2), layout="constrained")
        ax = figure.subplots()
        ax.set_title("90837 share of each rendering provider against its peers")
        if not shares:
            _empty(ax, "no paid 90832/90834/90837 lines in the window")
            return _svg(figure, "share-90837")
        peers = [row for row in shares if row["is_peer"]]
        others = [row for row in shares if not row["is_peer"]]
        if len(peers) >= 2:
            ax.boxplot(
                [row["share_90837"] for row in peers],
                positions=[1],
                orientation="horizontal",
                widths=0.5,
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": "#eef2f7", "edgecolor": "#9fb3c8"},
                medianprops={"color": INK},
                whiskerprops={"color": "#9fb3c8"},
                capprops={"color": "#9fb3c8"},
            )
        calm = [row for row in peers if not row["flagged"]]
        flagged = sorted(
            (row for row in peers if row["flagged"]), key=lambda row: -row["share_90837"]
        )
        ax.scatter(
            [row["share_90837"] for row in calm],
            [1 + _jitter(row["rendering_npi"]) for row in calm],
            s=24,
            color=REALIZED,
            alpha=0.85,
            zorder=3,
            label="scored provider",
        )
        ax.scatter(
            [row["share_90837"] for row in flagged],
            [1 + _jitter(row["rendering_npi"]) for row in flagged],
            s=40,
            color=OPEN,
            zorder=4,
            label="flagged outlier",
        )
        for rank, row in enumerate(flagged[:8]):
            # names stacked to the left of the dots, so close shares never overlap
            ax.annotate(
                _label(row["rendering_npi"]),
                (row["share_90837"], 1 + _jitter(row["rendering_npi"])),
                xytext=(-12, 30 - 13 * rank),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=8,
                color=OPEN,
                arrowprops={"arrowstyle": "-", "color": OPEN, "linewidth": 0.6},
            )
        rows_shown = [1]
        if others:
            rows_shown = [0, 1]
            ax.scatter(
                [row["share_90837"] for row in others],
                [0 + _jitter(row["rendering_npi"], 0.2) for row in others],
                s=18,
                facecolors="none",
                edgecolors=MUTED,
                zorder=3,
                label=f"fewer than {stats.min_lines} lines (not scored)",
            )
        if stats.median is not None:
            ax.axvline(stats.median, color=MUTED, linestyle="--", linewidth=0.8)
            ax.text(
                stats.median,
                1.62,
                f" peers' median {stats.median:.0%}",
                color=MUTED,
                fontsize=8,
                va="bottom",
            )
        threshold = stats.threshold
        if threshold is not None and threshold <= 1:
            ax.axvline(threshold, color=OPEN, linestyle=":", linewidth=1.2)
            ax.text(
                threshold,
                1.62,
                f" outlier line {threshold:.0%}",
                color=OPEN,
                fontsize=8,
                va="bottom",
            )
        labels = {0: f"< {stats.min_lines} lines", 1: f"scored ({stats.peers})"}
        ax.set_yticks(rows_shown, [labels[row] for row in rows_shown])
        ax.set_ylim(min(rows_shown) - 0.5, 1.9)
        ax.set_xlim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        figure.legend(loc="outside lower center", ncol=3, frameon=False, fontsize=8)
        return _svg(figure, "share-90837")


def open_exposure_trend(nights: Sequence[tuple[Any, Any]]) -> str:
    """Open exposure of each stored nightly run (as-of date, dollars), oldest first, this night
    last: the trend the "Since last night" section shows."""
    with rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 2.4), layout="constrained")
        ax = figure.subplots()
        ax.set_title("Open exposure, night by night")
        if not nights:
            _empty(ax, "no nightly run stored yet")
            return _svg(figure, "open-exposure-trend")
        positions = list(range(len(nights)))
        values = [float(value) for _, value in nights]
        ax.plot(positions, values, color=OPEN, marker="o", linewidth=1.6, markersize=4)
        step = max(1, len(nights) // 10)
        labels = [str(night) for night, _ in nights]
        ax.set_xticks(positions[::step], labels[::step], rotation=30, ha="right")
        ax.set_xlim(-0.5, len(nights) - 0.5)
        ax.set_ylim(0, max(values, default=0) * 1.15 or 1)
        ax.yaxis.set_major_formatter(FuncFormatter(_dollars))
        ax.annotate(
            f"${values[-1]:,.2f}",
            (positions[-1], values[-1]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color=INK,
        )
        return _svg(figure, "open-exposure-trend")
