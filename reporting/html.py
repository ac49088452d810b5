"""index.html: one self-contained page (inline CSS and SVG, no script, no link to fetch) rendered
from the summary and the report details with ``templates/index.html.j2``. Shows claim ids only:
no member id, name or birth date reaches the page."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reporting.changes import NightChanges
from reporting.evidence import anchor as evidence_anchor
from reporting.exposure import ReportDetails
from warehouse.money import dollars

TEMPLATES = Path(__file__).parent / "templates"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


@lru_cache(maxsize=4)
def environment(folder: Path = TEMPLATES) -> Environment:
    """The Jinja environment every recoup page is rendered with (escaping, money filters).

    One per folder and process: Jinja caches compiled templates per environment, and compiling
    ``dispute.html.j2`` anew for each of 843 packets took 19.6 s of a 31 s run at 100k lines
    (py-spy); nothing changes an environment after it is made."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = dollars
    env.filters["count"] = _count
    env.filters["percent"] = _percent
    return env


def render_html(
    summary: dict[str, Any],
    details: ReportDetails,
    titles: Mapping[str, str],
    prevention: Any = None,
    *,
    night: NightChanges | None = None,
    data_docs: str | None = None,
    disputes: Mapping[str, Any] | None = None,
    reserve: Mapping[str, Any] | None = None,
) -> str:
    """The report page for ``summary`` (exposure.json) and ``details``; ``titles`` names the
    rules (``RuleBook.titles``); ``prevention`` (``reporting.prevention.Prevention``, nightly
    only) adds the re-verification and clinician fix-list section; ``night``: a nightly's
    changes since the previous stored night (the "Since last night" section at the top);
    ``disputes`` is ``reporting.disputes.section`` and ``reserve``
    ``reporting.reserve.expected_recoupments`` (none: no section)."""
    from reporting import charts  # Matplotlib loads only when a page is drawn

    shares_by_npi = {row["rendering_npi"]: row for row in details.provider_shares}
    flagged_providers = [
        {
            **row,
            "open_exposure": summary["by_rendering_npi"]
            .get(row["rendering_npi"], {})
            .get("open_exposure"),
        }
        for row in details.provider_shares
        if row["flagged"]
    ]
    rules = [
        {
            "id": rule,
            "title": titles.get(rule, rule),
            "lines": body["lines"],
            "exposure": body["exposure"],
            "skipped": summary["rules_skipped"].get(rule),
        }
        for rule, body in sorted(summary["by_rule"].items())
    ]
    chart_svgs = {
        "by_rule": charts.exposure_by_rule(summary["by_rule"], titles),
        "by_payer": charts.exposure_by_payer(summary["by_payer"]),
        "by_provider": charts.exposure_by_provider(summary["by_rendering_npi"]),
        "by_month": charts.exposure_by_month(summary["by_service_month"]),
        "shares": charts.share_strip(details.provider_shares, details.peer_stats)
        if details.peer_stats
        else "",
    }
    if night is not None:
        chart_svgs["trend"] = charts.open_exposure_trend(night.trend)
    template = environment().get_template("index.html.j2")
    return template.render(
        summary=summary,
        scope=summary["scope"],
        totals=summary["totals"],
        details=details,
        rules=rules,
        flagged_providers=flagged_providers,
        shares_by_npi=shares_by_npi,
        peer_stats=details.peer_stats,
        charts={name: Markup(svg) for name, svg in chart_svgs.items()},
        prevention=prevention,
        night=night,
        anchor_id=charts.anchor_id,
        anchor=evidence_anchor,
        data_docs=data_docs,
        data_docs_results=None if data_docs is None else data_docs_results(data_docs),
        since=None if night is None else since_view(night),
        disputes=disputes,
        reserve=reserve,
    )


def data_docs_results(index: str) -> str:
    """Where GX keeps the validation results (JSON), beside ``index`` (a Data Docs
    ``.../uncommitted/data_docs/local_site/index.html``)."""
    marker = "data_docs/local_site/index.html"
    return index[: -len(marker)] + "validations/" if index.endswith(marker) else index


def since_view(night: NightChanges) -> dict[str, Any]:
    """The "Since last night" section's figures: counts and dollars per kind and reason."""
    from reporting.changes import REASON_WORDS

    tally = night.tally()
    return {
        "tally": tally,
        "reasons": [
            {"reason": reason, "words": words, **tally[reason]}
            for reason, words in REASON_WORDS.items()
            if tally[reason]["count"]
        ],
    }
