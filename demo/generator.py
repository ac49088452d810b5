"""``recoup demo``: write a synthetic behavioral-health inbox with planted problems and its key.

Entry point: :func:`generate`. Phase one simulates clients one at a time, evaluates every rule
over each client's truth (``answer_key``), checks the result against what was planted, and
spills records into bucket files; phase two renders the buckets as X12 and CSV files. Output is
byte-identical for the same (seed, claims, as_of).
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from demo import inbox
from demo import practice as pr
from demo.answer_key import (
    Finding,
    evaluate_client,
    in_outlier_window,
    outliers,
    time_barred,
)
from demo.buckets import Buckets
from demo.context import Context
from demo.payments import next_weekday
from demo.records import ClientTruth, ProviderAdjustment
from demo.simulate import simulate_client
from demo.takebacks import APPEAL_DAYS, TakebackPlanter
from warehouse.money import amount_text

OUTLIER_RULE = "coding.high_level_outlier"
UNKNOWN_CLAIM = "PCX00000001"


class PlantMismatch(AssertionError):
    """The independent evaluation disagrees with what the generator planted."""


class Tally:
    """Expected exposure.json totals, accumulated line by line (cents)."""

    def __init__(self) -> None:
        self.lines = 0
        self.flagged = 0
        self.net: Counter[str] = Counter()
        self.open: Counter[str] = Counter()
        self.barred: Counter[str] = Counter()
        self.realized: Counter[str] = Counter()
        self.rule_lines: Counter[str] = Counter()
        self.rule_exposure: Counter[str] = Counter()
        self.rule_barred: Counter[str] = Counter()
        self.planted: Counter[str] = Counter()

    def finding(self, f: Finding) -> None:
        """Count one finding under its rule (gross, not time-barred)."""
        if f.time_barred:
            self.rule_barred[f.rule] += 1
        else:
            self.rule_lines[f.rule] += 1
            self.rule_exposure[f.rule] += f.exposure

    def line(self, payer: str, net: int, exposures: list[int], barred: bool, sign: int = 1) -> None:
        """Add (or with ``sign`` -1 remove) a line's capped exposure."""
        if not exposures:
            return
        capped = min(net, max(exposures))
        (self.barred if barred else self.open)[payer] += sign * capped


def _key_row(writer: Any, f: Finding) -> None:
    writer.writerow(
        [
            f.claim_id,
            f.line_number,
            f.rule,
            amount_text(f.exposure),
            str(f.time_barred).lower(),
            f.claim_key,
        ]
    )


def _spill(buckets: Buckets, truth: ClientTruth) -> None:
    for c in truth.claims:
        buckets.add("claims", f"837P_{c.billing_npi}_{c.submitted:%Y%m}", c)
    for r in truth.responses:
        buckets.add("eligibility", f"271_{r.payer_id}_{r.check_date:%Y%m}", r)
    for e in truth.remits:
        buckets.add("remittances", f"835_{e.payer_id}_{e.pay_date:%Y%m%d}", e)
    for a in truth.provider_adjustments:
        buckets.add("remittances", f"835_{a.payer_id}_{a.pay_date:%Y%m%d}", a)
    for s in truth.sessions:
        buckets.add("sessions", f"sessions_{s.billing_npi}_{s.date_of_service:%Y%m}", s)


def _check(truth: ClientTruth, findings: list[Finding]) -> None:
    found = {(f.claim_key, f.line_number, f.rule) for f in findings}
    if found != truth.planted:
        raise PlantMismatch(
            f"unplanted findings {sorted(found - truth.planted)[:5]}, "
            f"planted but not found {sorted(truth.planted - found)[:5]}"
        )


class NotADemoFolder(RuntimeError):
    """``out`` holds feed files that a demo did not write: never overwrite a real inbox."""


def _refuse_real_inbox(out: Path) -> None:
    """A folder with feed files but no demo manifest is someone's inbox: leave it alone."""
    if (out / "manifest.json").is_file():
        return
    for feed in ("claims", "eligibility", "remittances", "sessions", "reference"):
        folder = out / feed
        if folder.is_dir() and any(folder.iterdir()):
            raise NotADemoFolder(
                f"{out} already holds {feed}/ files and no demo manifest.json: "
                "choose an empty --out folder (recoup demo never overwrites a real inbox)"
            )


def generate(
    out: Path,
    *,
    rules: Sequence[str],
    seed: int = 7,
    claims: int = 2000,
    as_of: date = date(2026, 11, 15),
    pending: Path | None = None,
    takebacks: bool = False,
) -> dict:
    """Write the demo inbox, ``answer_key.csv`` and ``manifest.json`` under ``out``.

    ``rules`` are the rule ids the manifest accounts for (the caller hands over
    ``expectations.catalog.RULE_IDS``: ids only, the key is computed independently of the rule
    queries). With ``pending``, also the unsent claims of ``demo.pending`` under that folder
    (the inbox and manifest stay byte for byte what they are without it). Returns the manifest.
    Deterministic for (seed, claims, as_of). Raises PlantMismatch when the independent
    evaluation of the rules disagrees with the planted problems.
    ``takebacks`` also plants wrongful and rightful takebacks (``demo/takebacks.py``) and writes
    their expected verdicts to ``takebacks_key.csv``.
    """
    out = Path(out)
    _refuse_real_inbox(out)
    for feed in ("claims", "eligibility", "remittances", "sessions", "reference", ".work"):
        shutil.rmtree(out / feed, ignore_errors=True)
    work = out / ".work"
    work.mkdir(parents=True)
    ctx = Context(seed, as_of, claims)
    (out / "takebacks_key.csv").unlink(missing_ok=True)
    planter = TakebackPlanter(as_of, ctx.fees) if takebacks else None
    buckets, tally = Buckets(work), Tally()
    shares: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clients = 0
    planner = None
    if pending is not None:
        from demo.pending import PendingPlanner

        planner = PendingPlanner(as_of, ctx.fees, seed)
    with (
        (out / "answer_key.csv").open("w", newline="", encoding="utf-8") as key_handle,
        (work / "candidates.csv").open("w", newline="", encoding="utf-8") as cand_handle,
    ):
        key = csv.writer(key_handle, lineterminator="\n")
        key.writerow(["claim_id", "line_number", "rule", "exposure", "time_barred", "claim_key"])
        candidates = csv.writer(cand_handle, lineterminator="\n")
        while ctx.claims_done < claims:
            truth = simulate_client(ctx, clients, claims - ctx.claims_done)
            clients += 1
            findings, facts = evaluate_client(truth, as_of, ctx.fees)
            _check(truth, findings)
            if planter is not None and planter.plant(truth, findings):
                findings, facts = evaluate_client(truth, as_of, ctx.fees)
                _check(truth, findings)
            if planner is not None:
                planner.observe(truth, findings, facts)
            by_line: dict[tuple[str, int], list[Finding]] = defaultdict(list)
            for f in findings:
                by_line[(f.claim_key, f.line_number)].append(f)
                tally.finding(f)
                tally.planted[f.rule] += 1
                _key_row(key, f)
            for fact in facts:
                payer = fact.claim.payer_id
                tally.lines += 1
                tally.net[payer] += fact.net
                mine = by_line.get(fact.key, [])
                tally.flagged += bool(mine)
                barred = bool(mine) and mine[0].time_barred
                tally.line(payer, fact.net, [f.exposure for f in mine], barred)
                if fact.net <= 0 or not in_outlier_window(fact.dos, as_of):
                    continue
                if fact.code in pr.PSYCHOTHERAPY_CODES:
                    counts = shares[fact.claim.rendering_npi]
                    counts[0] += 1
                    counts[1] += fact.code == "90837"
                if fact.code == "90837":
                    price = ctx.fees[(payer, "90834")]
                    candidates.writerow(
                        [
                            fact.claim.rendering_npi,
                            fact.claim.claim_id,
                            fact.claim.claim_key,
                            fact.line_number,
                            payer,
                            fact.net,
                            max(0, fact.net - price),
                            int(time_barred(fact, as_of)),
                            ";".join(str(f.exposure) for f in mine),
                        ]
                    )
            for event in truth.remits:
                if event.status == "22":
                    tally.realized[event.payer_id] -= sum(ln.paid for ln in event.lines)
            for adj in truth.provider_adjustments:
                tally.realized[adj.payer_id] += adj.amount
            _spill(buckets, truth)
        unknown = ProviderAdjustment(
            "MCRDM", pr.G1, next_weekday(as_of - timedelta(days=40), 1), "WO", UNKNOWN_CLAIM, 4250
        )
        buckets.add("remittances", f"835_MCRDM_{unknown.pay_date:%Y%m%d}", unknown)
        tally.realized["MCRDM"] += unknown.amount
        cand_handle.flush()  # _outlier_findings reads the file back while it is still open
        flagged, stats = outliers({npi: (n, h) for npi, (n, h) in shares.items()})
        designated = {npi for npi in pr.OUTLIER_NPIS if npi in stats["shares"]}
        if stats["peers"] >= 6 and flagged != designated:
            raise PlantMismatch(f"outliers {sorted(flagged)} != planted {sorted(designated)}")
        _outlier_findings(work / "candidates.csv", flagged, key, tally)
    buckets.flush()
    controls = inbox.Controls()
    remittances = inbox.write_remittances(buckets, out, controls)
    files = {
        "claims": inbox.write_claims(buckets, out, controls),
        "eligibility": inbox.write_eligibility(buckets, out, controls),
        "remittances": remittances["files"],
        "sessions": inbox.write_sessions(buckets, out),
        "reference": 2,
        "forwarded_balances": remittances["forwarded_balances"],
    }
    inbox.write_reference(out, appeal_days=APPEAL_DAYS if planter is not None else None)
    shutil.rmtree(work)
    if planner is not None and pending is not None:
        planner.write(Path(pending), {npi: list(v) for npi, v in shares.items()})
    manifest = _manifest(seed, claims, as_of, clients, files, tally, stats, flagged, rules)
    if planter is not None:
        planter.write_key(out / "takebacks_key.csv")
        manifest["takebacks"] = planter.manifest()
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _outlier_findings(path: Path, flagged: set[str], key: Any, tally: Tally) -> None:
    """Second pass over the 90837 candidates: findings for the flagged providers."""
    with path.open(newline="", encoding="utf-8") as handle:
        for npi, claim_id, claim_key, line, payer, net, exposure, barred, prior in csv.reader(
            handle
        ):
            if npi not in flagged:
                continue
            finding = Finding(
                claim_id, int(line), OUTLIER_RULE, int(exposure), barred == "1", claim_key
            )
            _key_row(key, finding)
            tally.finding(finding)
            tally.planted[OUTLIER_RULE] += 1
            earlier = [int(x) for x in prior.split(";") if x]
            tally.line(payer, int(net), earlier, finding.time_barred, sign=-1)
            tally.line(payer, int(net), [*earlier, finding.exposure], finding.time_barred)
            tally.flagged += not earlier


def _dollars(cents: int) -> float:
    return round(cents / 100, 2)


def _manifest(
    seed: int,
    claims: int,
    as_of: date,
    clients: int,
    files: dict,
    tally: Tally,
    stats: dict,
    flagged: set[str],
    rules: Sequence[str],
) -> dict:
    payers = sorted({*tally.net, *tally.realized})
    return {
        "seed": seed,
        "claims": claims,
        "as_of": as_of.isoformat(),
        "clients": clients,
        "files": files,
        "rules": {
            rule: {
                "planted": tally.planted[rule],
                "time_barred": tally.rule_barred[rule],
                "expected": {
                    "lines": tally.rule_lines[rule],
                    "exposure": _dollars(tally.rule_exposure[rule]),
                },
            }
            for rule in rules
        },
        "totals": {
            "claim_lines": tally.lines,
            "net_paid": _dollars(sum(tally.net.values())),
            "open_exposure": _dollars(sum(tally.open.values())),
            "time_barred_exposure": _dollars(sum(tally.barred.values())),
            "realized_recoupments": _dollars(sum(tally.realized.values())),
            "flagged_lines": tally.flagged,
        },
        "by_payer": {
            p: {
                "net_paid": _dollars(tally.net[p]),
                "open_exposure": _dollars(tally.open[p]),
                "realized_recoupments": _dollars(tally.realized[p]),
            }
            for p in payers
        },
        "outlier_peers": {
            "flagged": sorted(flagged),
            "shares": {npi: round(s, 4) for npi, s in sorted(stats["shares"].items())},
            "median": round(stats.get("median", 0.0), 4),
            "scale": round(stats.get("scale", 0.0), 4),
        },
    }
