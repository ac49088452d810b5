"""``recoup check``'s plain words: for each rule, what puts an unsent line's payment at risk and
what to do before sending, from the rule's evidence (the same JSON the findings carry).

A rule with no entry here (one added from an extra rules folder) reads as its own ``explain``
sentence with "review the claim before sending".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from expectations.words import codes, number


class PendingLine(Protocol):
    """What the words read of a pending line (``expectations.precheck.PendingLine``)."""

    rendering_npi: str | None


Describe = Callable[[Mapping[str, Any], PendingLine], tuple[str, str]]


def _lapsed(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    check = e.get("decided_by_check_date")
    per = f" per the 271 of {check}" if check else ""
    if e.get("covered_until"):
        problem = f"coverage ended {e['covered_until']}{per}"
    elif e.get("covered_from"):
        problem = f"coverage began {e['covered_from']}{per}, after this date of service"
    else:
        problem = f"no active coverage with {e.get('payer_id')} on {e.get('date_of_service')}{per}"
    return problem, "verify eligibility before sending (bill the client's current payer)"


def _unverified(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    last = e.get("last_check_on_or_before")
    if last:
        problem = (
            f"last eligibility check {last}, {e.get('days_since_check')} days before the session "
            f"(more than {e.get('max_days')})"
        )
    else:
        problem = f"no eligibility check with {e.get('payer_id')} on or before the session"
    return problem, "verify eligibility before sending"


def _time_unsupported(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    supported = e.get("supported_code")
    minutes = number(e.get("minutes"))
    if supported:
        return (
            f"documented {minutes} minutes supports {supported}, not {e.get('code')}",
            f"bill {supported}, or correct the note if the session was longer",
        )
    return (
        f"documented {minutes} minutes supports no timed psychotherapy code "
        f"(under {e.get('code_minimum')} for {e.get('code')})",
        "do not bill a timed code for this session, or correct the note if it was longer",
    )


def _time_missing(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    return (
        f"the note gives no psychotherapy minutes for {e.get('code')}",
        "add the start and end times (or minutes) to the note before sending",
    )


def _note_missing(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    if e.get("signed_before_service"):
        return (
            f"the note is dated {e['signed_before_service']}, before the session",
            "sign the note for this session before sending",
        )
    if e.get("session_row"):
        return "note unsigned", "sign the note before sending"
    return "no note for this session", "write and sign the note before sending"


def _late_signature(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    return (
        f"note signed {e.get('days_to_signature')} days after the session "
        f"(more than {e.get('max_days')})",
        "sign notes within a week; keep the late-entry explanation in the record",
    )


def _addon(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    forbidden = e.get("forbidden_codes_found") or []
    if forbidden:
        return (
            f"add-on {e.get('addon_code')} billed with {codes(forbidden)} the same day",
            f"remove {e.get('addon_code')}: it cannot go with {codes(forbidden)}",
        )
    return (
        f"add-on {e.get('addon_code')} with no primary code for this client, clinician and date",
        "bill the primary service on the same claim, or remove the add-on",
    )


def _multiple_timed(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    kept = e.get("kept_claim_id")
    return (
        f"{codes(e.get('codes_that_day'))} the same day for this client and clinician "
        f"(kept: {e.get('kept_code')} on claim {kept} line {e.get('kept_line_number')})",
        "bill one psychotherapy code for the day's total minutes",
    )


def _units(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    return (
        f"{number(e.get('units'))} units of {e.get('code')}, the limit is "
        f"{number(e.get('max_units_per_day'))} a day",
        f"bill {number(e.get('max_units_per_day'))} unit",
    )


def _duplicate(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    paid = e.get("kept_first_payment_date")
    when = f", paid {paid}" if paid else ""
    return (
        f"already billed on claim {e.get('kept_claim_id')} line {e.get('kept_line_number')}{when}",
        "do not send: it is a duplicate (send a replacement, frequency 7, to correct the first)",
    )


def _outlier(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    share = e.get("share_90837")
    median = e.get("peer_median_share")
    text = f"{line.rendering_npi}'s 90837 share would be {_pct(share)}"
    if median is not None:
        text += f" against a peer median of {_pct(median)}"
    return (
        text,
        "bill 90837 only when the note documents 53 minutes or more; 90834 otherwise",
    )


def _step_down(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    return (
        f"90837 while the last {e.get('earlier_scored_sessions')} scored sessions stayed below "
        f"{e.get('score_threshold')} (highest {e.get('highest_score')})",
        "document why 60 minutes is still needed, or bill 90834",
    )


def _telehealth(e: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    accepted = list(e.get("accepted_modifiers") or ["95"])
    first = "95" if "95" in accepted else accepted[0]
    return (
        f"telehealth (place of service {e.get('place_of_service')}) without a modifier "
        f"{e.get('payer_id')} requires",
        f"add modifier {first} (one of {codes(accepted)}) before sending",
    )


def _pct(value: Any) -> str:
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return "?"


FIXES: dict[str, Describe] = {
    "coverage.lapsed": _lapsed,
    "coverage.unverified": _unverified,
    "coding.time_unsupported": _time_unsupported,
    "documentation.time_missing": _time_missing,
    "documentation.note_missing": _note_missing,
    "documentation.late_signature": _late_signature,
    "coding.addon_without_primary": _addon,
    "coding.multiple_timed_codes": _multiple_timed,
    "coding.units_over_limit": _units,
    "billing.duplicate": _duplicate,
    "coding.high_level_outlier": _outlier,
    "necessity.no_step_down": _step_down,
    "telehealth.modifier_missing": _telehealth,
}


def describe(rule_id: str, evidence: Mapping[str, Any], line: PendingLine) -> tuple[str, str]:
    """(what puts the payment at risk, what to do) for one finding on a pending line."""
    known = FIXES.get(rule_id)
    if known is not None:
        return known(evidence, line)
    from expectations.catalog import active_rules

    rule = next((r for r in active_rules() if r.id == rule_id), None)
    problem = rule.explain(evidence) if rule is not None else rule_id
    return problem, "review the claim before sending"
