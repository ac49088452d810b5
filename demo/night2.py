"""``recoup demo --night2``: the files a second night brings to a demo inbox, with known changes.

The first night is the inbox ``recoup demo`` wrote (its ``manifest.json`` gives the seed, size and
as-of date). The second night (as of the next day) adds two CSV files beside the first night's
files, so a nightly run over the same inbox loads only them:

* ``remittances/night2_reversals_<date>.csv``: the payers reverse the whole payment of a few
  flagged lines (CLP02 22): their findings are resolved, **paid back**;
* ``sessions/night2_sessions_<date>.csv``: the EHR sends two session notes again with fewer
  minutes: a clean 90834 line now documents 30 minutes (a **new** ``coding.time_unsupported``)
  and a 90837 line already downcoded to 90834 now supports only 90832 (that finding **grows**).

The expected changes are computed independently, as the first night's answer key is: the same
simulation, changed by those records, evaluated by ``demo.answer_key`` on both nights, and
written to ``night2.json`` (every change with its amounts in cents, and the counts and dollars by
kind). Lines are chosen so that ``coding.high_level_outlier`` (a second pass over all providers,
not part of that evaluation) cannot move: the reversed lines are not psychotherapy codes and
session minutes do not enter the 90837 share.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from demo import practice as pr
from demo.answer_key import Finding, LineFacts, evaluate_client, time_barred
from demo.context import Context
from demo.records import ClientTruth, RemitClaim, RemitLine, SessionRow
from demo.simulate import simulate_client
from warehouse.money import amount_text

PAID_BACK = 3
# Rules whose findings on a line depend on that line alone (a reversal or a new note cannot
# change another line's finding through them).
LINE_RULES = frozenset(
    {
        "coverage.lapsed",
        "coverage.unverified",
        "documentation.note_missing",
        "documentation.time_missing",
        "documentation.late_signature",
        "coding.time_unsupported",
        "coding.units_over_limit",
        "telehealth.modifier_missing",
    }
)
REMITTANCE_HEADER = [
    "trace_number", "payment_date", "payer_id", "claim_id", "claim_status", "procedure_code",
    "modifiers", "date_of_service", "line_control_number", "charge", "paid_amount", "units",
    "payee_npi",
]  # fmt: skip
SESSIONS_HEADER = ["claim_id", "line_number", "minutes", "note_signed_at", "phq9", "gad7"]


class NotAFirstNight(RuntimeError):
    """The folder holds no demo inbox to add a second night to."""


def _simulate(
    seed: int, claims: int, as_of: date
) -> tuple[list[ClientTruth], dict[tuple[str, str], int]]:
    """The first night's clients, exactly as ``demo.generator.generate`` simulated them, and
    the fee schedule they were priced with."""
    ctx = Context(seed, as_of, claims)
    clients: list[ClientTruth] = []
    while ctx.claims_done < claims:
        clients.append(simulate_client(ctx, len(clients), claims - ctx.claims_done))
    return clients, ctx.fees


def _open(findings: list[Finding]) -> dict[tuple[str, int, str], tuple[str, int]]:
    """(claim_key, line, rule) -> (claim_id, exposure) of the findings not time-barred."""
    return {
        (f.claim_key, f.line_number, f.rule): (f.claim_id, f.exposure)
        for f in findings
        if not f.time_barred
    }


def generate_night2(out: Path) -> dict[str, Any]:
    """Write the second night's files into the demo inbox ``out`` and ``night2.json``; return
    the night-2 manifest. Deterministic for the first night's (seed, claims, as_of)."""
    out = Path(out)
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise NotAFirstNight(f"{out} holds no demo manifest.json: run `recoup demo` there first")
    first = json.loads(manifest_path.read_text())
    as_of = date.fromisoformat(first["as_of"])
    night2 = as_of + timedelta(days=1)
    clients, fees = _simulate(first["seed"], first["claims"], as_of)
    claim_ids = Counter(c.claim_id for truth in clients for c in truth.claims)

    before: dict[tuple[str, int, str], tuple[str, int]] = {}
    chosen: list[tuple[int, str, LineFacts, int]] = []  # (client, change, line, minutes)
    reversals = 0
    new_done = grown_done = False
    for index, truth in enumerate(clients):
        findings, facts = evaluate_client(truth, as_of, fees)
        before.update(_open(findings))
        rules_of: dict[tuple[str, int], list[Finding]] = {}
        for f in findings:
            rules_of.setdefault((f.claim_key, f.line_number), []).append(f)
        for fact in sorted(facts, key=lambda f: f.order):
            mine = rules_of.get(fact.key, [])
            single = len(fact.claim.lines) == 1 and claim_ids[fact.claim.claim_id] == 1
            if not single or fact.net <= 0 or time_barred(fact, night2):
                continue
            rules = {f.rule for f in mine}
            if (
                reversals < PAID_BACK
                and mine
                and rules <= LINE_RULES
                and any(f.exposure > 0 for f in mine)
                and fact.code not in pr.PSYCHOTHERAPY_CODES
            ):
                chosen.append((index, "reverse", fact, 0))
                reversals += 1
            elif (
                not new_done
                and not mine
                and fact.code == "90834"
                and fact.row is not None
                and fact.row.signed_at is not None
            ):
                chosen.append((index, "new", fact, 30))
                new_done = True
            elif (
                not grown_done
                and rules == {"coding.time_unsupported"}
                and fact.code == "90837"
                and fact.row is not None
                and fact.row.minutes is not None
                and 38 <= fact.row.minutes < 53
                and fact.row.signed_at is not None
            ):
                chosen.append((index, "grown", fact, 30))
                grown_done = True
    if reversals < PAID_BACK or not new_done or not grown_done:
        raise NotAFirstNight(f"{out}: the demo is too small for a second night (try --claims 300)")

    remit_rows, session_rows = [], []
    changed: dict[int, ClientTruth] = {}
    for index, change, fact, minutes in chosen:
        truth = changed.get(index, clients[index])
        claim = fact.claim
        if change == "reverse":
            line = next(ln for ln in claim.lines if ln.line_number == fact.line_number)
            event = RemitClaim(
                claim.claim_id, "22", claim.payer_id, claim.billing_npi, night2, claim.member_id,
                claim.patient, claim.rendering_npi, "", line.place_of_service,
                (RemitLine(line.code, line.modifiers, line.units, line.date_of_service,
                           line.line_control, -line.charge, -fact.net, ()),),
            )  # fmt: skip
            truth = truth._replace(remits=[*truth.remits, event])
            remit_rows.append(
                [
                    f"N2R{night2:%Y%m%d}",
                    night2.isoformat(),
                    claim.payer_id,
                    claim.claim_id,
                    "22",
                    line.code,
                    ":".join(line.modifiers),
                    line.date_of_service.isoformat(),
                    line.line_control or "",
                    "",
                    amount_text(-fact.net),
                    line.units,
                    claim.billing_npi,
                ]
            )
        else:
            row = fact.row
            assert row is not None and row.signed_at is not None
            again = SessionRow(
                row.billing_npi, claim.claim_id, fact.line_number, minutes, row.signed_at,
                row.phq9, row.gad7, row.date_of_service,
            )  # fmt: skip
            truth = truth._replace(sessions=[*truth.sessions, again])
            session_rows.append(
                [
                    claim.claim_id,
                    fact.line_number,
                    minutes,
                    row.signed_at.isoformat(),
                    "" if row.phq9 is None else row.phq9,
                    "" if row.gad7 is None else row.gad7,
                ]
            )
        changed[index] = truth

    after: dict[tuple[str, int, str], tuple[str, int]] = {}
    for index, truth in enumerate(clients):
        findings, _ = evaluate_client(changed.get(index, truth), night2, fees)
        after.update(_open(findings))
    changes = _changes(before, after)

    _write_csv(out / "remittances" / f"night2_reversals_{night2:%Y%m%d}.csv", REMITTANCE_HEADER,
               remit_rows)  # fmt: skip
    _write_csv(out / "sessions" / f"night2_sessions_{night2:%Y%m%d}.csv", SESSIONS_HEADER,
               session_rows)  # fmt: skip
    manifest = {
        "first_night": as_of.isoformat(),
        "as_of": night2.isoformat(),
        "files": [
            f"remittances/night2_reversals_{night2:%Y%m%d}.csv",
            f"sessions/night2_sessions_{night2:%Y%m%d}.csv",
        ],
        "changes": changes,
        "by_kind": _by_kind(changes),
    }
    (out / "night2.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _changes(
    before: dict[tuple[str, int, str], tuple[str, int]],
    after: dict[tuple[str, int, str], tuple[str, int]],
) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(before.keys() | after.keys()):
        claim_key, line, rule = key
        old = before.get(key)
        new = after.get(key)
        if old is not None and new is not None and old[1] == new[1]:
            continue
        kind = (
            "new" if old is None else "resolved" if new is None
            else "grown" if new[1] > old[1] else "shrunk"
        )  # fmt: skip
        rows.append(
            {
                "kind": kind,
                "claim_id": (new or old or ("", 0))[0],
                "claim_key": claim_key,
                "line_number": line,
                "rule": rule,
                "before_cents": None if old is None else old[1],
                "after_cents": None if new is None else new[1],
            }
        )
    return rows


def _by_kind(changes: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for c in changes:
        tally = out.setdefault(c["kind"], {"count": 0, "cents": 0})
        tally["count"] += 1
        tally["cents"] += abs((c["after_cents"] or 0) - (c["before_cents"] or 0))
    return out


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
