"""Each finding's evidence (the JSON its rule wrote) said in plain words, for the person who fixes
the claim: "note documents 37 minutes; 90834 needs 38". Unknown rules or missing values fall back
to a neutral sentence, never to an error: the report must render whatever the rules write."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from warehouse.money import dollars

Evidence = Mapping[str, Any]


def _codes(values: Any) -> str:
    if not values:
        return "none"
    if isinstance(values, str):
        return values
    return ", ".join(str(value) for value in values)


def _coverage_lapsed(e: Evidence) -> str:
    status = e.get("status_on_date") or "no active coverage"
    text = f"no active coverage on {e.get('date_of_service')} ({status}"
    if e.get("decided_by_check_date"):
        text += f", per the eligibility response of {e['decided_by_check_date']}"
    text += ")"
    if e.get("covered_until"):
        text += f"; coverage ended {e['covered_until']}"
    if e.get("covered_from"):
        text += f"; coverage began {e['covered_from']}"
    return text


def _coverage_unverified(e: Evidence) -> str:
    if not e.get("last_check_on_or_before"):
        return "eligibility never checked on or before the session"
    return (
        f"last eligibility check {e['last_check_on_or_before']}, "
        f"{e.get('days_since_check')} days before the session (limit {e.get('max_days')})"
    )


def _time_unsupported(e: Evidence) -> str:
    text = (
        f"note documents {e.get('minutes')} minutes; {e.get('code')} needs {e.get('code_minimum')}"
    )
    if e.get("supported_code"):
        text += f" (supports {e['supported_code']}"
        if e.get("allowed_amount") is not None:
            text += f", allowed {dollars(e['allowed_amount'], missing='?')}"
        elif e.get("priced") is False:
            text += ", which has no allowed amount"
        text += ")"
    else:
        text += " (too short for any timed code)"
    return text


def _time_missing(e: Evidence) -> str:
    return f"session note gives no minutes for timed code {e.get('code')}"


def _note_missing(e: Evidence) -> str:
    if e.get("session_row"):
        return "session note not signed"
    return "no session note for this claim"


def _late_signature(e: Evidence) -> str:
    return (
        f"note signed {e.get('days_to_signature')} days after the session "
        f"(limit {e.get('max_days')})"
    )


def _addon_without_primary(e: Evidence) -> str:
    if e.get("forbidden_codes_found"):
        return (
            f"add-on {e.get('addon_code')} billed with {_codes(e['forbidden_codes_found'])}, "
            "which it may not accompany"
        )
    return f"add-on {e.get('addon_code')} with no paid primary code that day"


def _multiple_timed_codes(e: Evidence) -> str:
    return (
        f"{_codes(e.get('codes_that_day'))} billed the same day; only one is allowed "
        f"(kept {e.get('kept_code')} on claim {e.get('kept_claim_id')} "
        f"line {e.get('kept_line_number')})"
    )


def _units_over_limit(e: Evidence) -> str:
    units, limit = _number(e.get("units")), _number(e.get("max_units_per_day"))
    return f"{units} units of {e.get('code')}; limit {limit} a day"


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:g}"


def _duplicate(e: Evidence) -> str:
    return (
        f"same service already paid on claim {e.get('kept_claim_id')} "
        f"line {e.get('kept_line_number')} (first paid {e.get('kept_first_payment_date')})"
    )


def _high_level_outlier(e: Evidence) -> str:
    try:
        share = f"{float(e['share_90837']):.0%}"
        median = f"{float(e['peer_median_share']):.0%}"
        z = f"{float(e['robust_z']):.1f}"
    except (KeyError, TypeError, ValueError):
        return "provider bills 90837 far more often than peers"
    return (
        f"provider bills 90837 for {share} of {e.get('lines')} sessions; "
        f"peers' median {median} (robust z {z})"
    )


def _no_step_down(e: Evidence) -> str:
    sessions = e.get("earlier_scored_sessions")
    if isinstance(sessions, list):
        dates = [str(s.get("date_of_service")) for s in sessions if isinstance(s, Mapping)]
        earlier = f"last {len(sessions)} scored sessions ({', '.join(dates)})"
    else:
        earlier = f"last {sessions} scored sessions"
    return (
        f"{earlier} all scored below {e.get('score_threshold')} "
        f"(highest {e.get('highest_score')}): a 90834 would do"
    )


def _telehealth_modifier_missing(e: Evidence) -> str:
    return (
        f"telehealth (place of service {e.get('place_of_service')}) without modifier "
        f"{'/'.join(str(m) for m in e.get('accepted_modifiers') or []) or '95'}"
    )


EXPLAIN: dict[str, Callable[[Evidence], str]] = {
    "coverage.lapsed": _coverage_lapsed,
    "coverage.unverified": _coverage_unverified,
    "coding.time_unsupported": _time_unsupported,
    "documentation.time_missing": _time_missing,
    "documentation.note_missing": _note_missing,
    "documentation.late_signature": _late_signature,
    "coding.addon_without_primary": _addon_without_primary,
    "coding.multiple_timed_codes": _multiple_timed_codes,
    "coding.units_over_limit": _units_over_limit,
    "billing.duplicate": _duplicate,
    "coding.high_level_outlier": _high_level_outlier,
    "necessity.no_step_down": _no_step_down,
    "telehealth.modifier_missing": _telehealth_modifier_missing,
}


def explain(rule: str, evidence: Evidence) -> str:
    """One sentence saying why ``rule`` fired, from its evidence."""
    writer = EXPLAIN.get(rule)
    if writer is None:
        return rule
    try:
        return writer(evidence)
    except (KeyError, TypeError, ValueError):
        return rule
