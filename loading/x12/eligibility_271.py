"""271 (005010X279A1) reader: ``stg.eligibility_responses`` and ``stg.eligibility_benefits``.

A response is one 2000C subscriber loop (unless it only introduces 2000D dependents and says
nothing itself) or one 2000D dependent loop; a dependent's member id is its subscriber's. When
the payer rejected the whole inquiry (AAA at 2100A/2100B) and no subscriber loop follows, the
transaction yields one response with no member and the AAA03 reason.

Coverage dates of an EB (docs/decisions.md, "Eligibility"): its own 2110 DTP segments when they
give a begin or an end, else the 2100C/2100D ones; the two levels are never mixed. Begin: 346, 356,
291 (D8), or the first date of an RD8 on 346/356/291/307. End: 347, 357, or the second date of an
RD8. A one-day 2100 date on 291/307/472 (D8, or RD8 with equal dates) is the date the payer answered
for (``answered_for``), neither a begin nor an end: active that day, silent after it.

Two levels of rejection (docs/decisions.md, "Structural checks"): a defect inside one subscriber
(its 2000C/2100C/2110C loops and its 2000D dependents: an impossible date, a malformed or missing
required element such as NM1*IL without a member id or an EB01 that is not a code) rejects that
subscriber only: nothing of it is staged, ``rejected`` names it by its order in the file
("subscriber 3"), and the rest loads. The BHT, the envelope, the syntax (a segment that cannot be
read, an envelope segment inside a transaction) and the HL hierarchy reject the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from loading.x12.errors import Problem
from loading.x12.tables import DATE, STR, STRS, build
from loading.x12.tokenizer import (
    PRIVATE,
    Transaction,
    bht_date,
    check_se,
    check_tag,
    each_segment,
)
from loading.x12.values import BadValue, Dates

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "stg.eligibility_responses": [
        ("response_id", STR), ("check_date", DATE), ("trace_number", STR), ("payer_id", STR),
        ("payer_name", STR), ("member_id", STR), ("is_dependent", pa.bool_()),
        ("rejection_reason", STR),
    ],
    "stg.eligibility_benefits": [
        ("response_id", STR), ("benefit_seq", pa.int32()), ("eligibility_code", STR),
        ("coverage_status", STR), ("service_types", STRS), ("insurance_type", STR),
        ("plan_description", STR), ("coverage_begin", DATE), ("coverage_end", DATE),
        ("date_qualifiers", STR), ("answered_for", DATE),
    ],
}  # fmt: skip

ACTIVE = frozenset("12345")
INACTIVE = frozenset("678")
BEGIN_D8 = frozenset({"346", "356", "291"})
END_D8 = frozenset({"347", "357"})
RANGE = frozenset({"346", "356", "291", "307", "347", "357"})
ANSWERED = frozenset({"291", "307", "472"})
# EB01, Eligibility or Benefit Information (005010X279A1 code list)
EB01_CODES = frozenset("12345678ABCDEFGHIJKLMNOPQRSTUVWXY") | {"CB", "MC"}
# segments the reader reads; any other is only checked to be a well-formed, non-envelope segment
READ = frozenset({"EB", "DTP", "HL", "NM1", "TRN", "AAA", "DMG", "LS", "LE"})

Period = tuple[str, dt.date, dt.date | None]  # (qualifier, first date, second date of an RD8)


def coverage_dates(
    periods: list[Period],
) -> tuple[dt.date | None, str | None, dt.date | None, str | None]:
    """Begin and end dates and the DTP qualifier that supplied each, from (qualifier, date,
    second date of an RD8) triples in segment order; the first DTP to supply a date wins."""
    begin = end = None
    begin_q = end_q = None
    for qualifier, first, second in periods:
        if second is None:
            if begin is None and qualifier in BEGIN_D8:
                begin, begin_q = first, qualifier
            elif end is None and qualifier in END_D8:
                end, end_q = first, qualifier
        elif qualifier in RANGE:
            if begin is None and qualifier not in END_D8:
                begin, begin_q = first, qualifier
            if end is None:
                end, end_q = second, qualifier
    return begin, begin_q, end, end_q


def answered_date(periods: list[Period]) -> tuple[list[Period], dt.date | None]:
    """Split 2100 DTPs into the ones that give coverage dates and the date the payer answered
    for: the first one-day date (a D8, or an RD8 whose dates are equal) on 291, 307 or 472."""
    rest: list[Period] = []
    answered = None
    for period in periods:
        qualifier, first, second = period
        if qualifier in ANSWERED and (second is None or second == first):
            answered = answered or first
        else:
            rest.append(period)
    return rest, answered


class Eligibility271Reader:
    """Reads 271 transactions into the two eligibility staging tables."""

    def __init__(self, file_sha256: str) -> None:
        self.file_sha256 = file_sha256
        self.cols: dict[str, dict[str, list[object]]] = {
            table: {name: [] for name, _ in schema} for table, schema in SCHEMAS.items()
        }
        self.dates = Dates()
        self.tags: set[str] = set()
        self.subscribers = 0  # 2000C loops read so far in this file, rejected ones included
        # subscribers rejected on their own (the rest of the file loads): one dict per subscriber
        # with level, interchange_control, transaction_control, part ("subscriber N"), index,
        # reason; never a name nor a member id
        self.rejected: list[dict[str, Any]] = []

    @property
    def parts_loaded(self) -> int:
        """Subscribers (2000C loops, with their dependents) loaded."""
        return self.subscribers - len(self.rejected)

    def tables(self) -> dict[str, pa.Table]:
        """Both eligibility tables (possibly empty), each with ``file_sha256``."""
        return {t: build(self.cols[t], SCHEMAS[t], self.file_sha256) for t in SCHEMAS}

    def transaction(self, segs: list[str], tx: Transaction) -> int:
        """Read one 271 (ST at ``tx.st_index``); returns the index of its SE.

        A defect inside one subscriber (a bad date, a bad or missing required element of its
        loops or of its dependents' loops) rejects that subscriber only: it goes to
        ``self.rejected`` and nothing of it is staged. Raises Problem for a missing BHT or
        BHT04, a bad value outside any subscriber, a broken HL hierarchy, an EB outside a
        subscriber or dependent loop, a segment that cannot be read, or an unclosed transaction.
        """
        st = tx.st_index
        check_date = bht_date(segs, tx, self.dates, "271", "check date")
        s: dict[str, Any] = {
            "tx": tx, "check_date": check_date, "payer_id": None, "payer_name": None,
            "reject": None, "level": "", "member": None, "response": None, "in_ls": False,
            "seq": 0, "has_subscriber": False, "subscriber": None, "skipping": False,
            "subscribers": 0,
        }  # fmt: skip
        j = each_segment(segs, tx, st + 2, lambda e, j: self._guarded(s, e, j))
        self._guarded_close(s, j)
        s["subscriber"] = None
        check_se(segs, tx, j)
        if not s["subscribers"] and s["reject"]:
            # the payer rejected the whole inquiry (2100A/2100B AAA) and no subscriber follows
            s["response"] = self._new(dependent=False, children=False)
            self._close(s)
        elif not s["subscribers"]:
            # found by the bad-input corpus: it loaded as a response about nobody
            raise Problem(
                j,
                f"transaction set {tx.control} has no subscriber (HL*22): a 271 answers for at "
                "least one (loop 2000C is required)",
            )
        return j

    def _guarded(self, s: dict[str, Any], e: list[str], j: int) -> None:
        """``_segment``, but a defect inside a subscriber rejects that subscriber only, and the
        segments up to the next HL that is not one of its dependents are skipped. The hierarchy
        (every HL) and the syntax (every segment id) are checked even there."""
        tag = e[0]
        if tag == "HL":
            level = e[3] if len(e) > 3 else ""
            if s["skipping"] and level == "23":
                return  # a dependent of a rejected subscriber: rejected with it
            s["skipping"] = False
            self._guarded_close(s, j)
            if s["skipping"]:  # the subscriber was rejected on closing
                if level == "23":
                    return
                s["skipping"] = False
            if level != "23":
                s["subscriber"] = None
            self._hl(s, e, j)
            return
        if tag not in READ and tag not in self.tags:
            check_tag(tag, j, self.tags)
        if s["skipping"]:
            return
        if s["subscriber"] is None:
            self._segment(s, e, j)  # outside a subscriber a defect rejects the file
            return
        try:
            self._segment(s, e, j)
        except (Problem, BadValue, IndexError) as exc:
            if isinstance(exc, Problem):
                index, reason = (j if exc.index is None else exc.index), exc.problem
            elif isinstance(exc, BadValue):
                index, reason = j, exc.describe(e, quote=tag not in PRIVATE)
            else:
                index, reason = j, f"{tag} has too few elements"
            self._reject(s, index, reason)

    def _guarded_close(self, s: dict[str, Any], j: int) -> None:
        """Close the open response; a defect found on closing rejects its subscriber only."""
        try:
            self._close(s)
        except Problem as exc:
            if s["subscriber"] is None:
                raise
            self._reject(s, j if exc.index is None else exc.index, exc.problem)

    def _reject(self, s: dict[str, Any], index: int, reason: str) -> None:
        """Drop everything staged of the open subscriber and its dependents, and record why."""
        sub = s["subscriber"]
        for table, mark in sub["marks"].items():
            for values in self.cols[table].values():
                del values[mark:]
        s["seq"] = sub["seq"]  # the next response takes the number a file without it gives
        s["response"], s["subscriber"], s["skipping"] = None, None, True
        tx: Transaction = s["tx"]
        self.rejected.append(
            {
                "level": "subscriber", "interchange_control": tx.interchange_control,
                "transaction_control": tx.control, "part": f"subscriber {sub['number']}",
                "index": index, "reason": reason,
            }
        )  # fmt: skip

    def _hl(self, s: dict[str, Any], e: list[str], j: int) -> None:
        level = e[3] if len(e) > 3 else ""
        s["level"], s["in_ls"] = level, False
        if level == "22":
            self.subscribers += 1
            s["subscribers"] += 1
            s["subscriber"] = {
                "number": self.subscribers, "seq": s["seq"],
                "marks": {t: len(next(iter(c.values()))) for t, c in self.cols.items()},
            }  # fmt: skip
            s["member"] = None
            s["response"] = self._new(dependent=False, children=len(e) > 4 and e[4] == "1")
            s["response"]["hl"] = j
        elif level == "23":
            if not s["has_subscriber"]:
                raise Problem(j, "dependent HL (23) outside a subscriber HL (22)")
            s["response"] = self._new(dependent=True, children=False)
        elif level not in ("20", "21"):
            raise Problem(j, f"HL03 '{level}' is not 20, 21, 22 or 23 (271 hierarchy)")
        if level != "23":
            s["has_subscriber"] = level == "22"

    def _segment(self, s: dict[str, Any], e: list[str], j: int) -> None:
        tag, response = e[0], s["response"]
        if tag == "EB":
            if response is None:
                raise Problem(j, "EB outside a subscriber (2000C) or dependent (2000D) loop")
            if len(e) < 2 or not e[1]:
                raise Problem(j, "EB01 (eligibility or benefit code) is empty")
            if e[1] not in EB01_CODES:
                raise Problem(j, f"EB01 '{e[1]}' is not an eligibility or benefit code")
            rep = s["tx"].delimiters.repetition
            response["benefits"].append({
                "code": e[1],
                "types": [t for t in (e[3].split(rep) if rep else [e[3]]) if t]
                if len(e) > 3 and e[3]
                else [],
                "insurance": (e[4] or None) if len(e) > 4 else None,
                "plan": (e[5] or None) if len(e) > 5 else None,
                "periods": [],
            })  # fmt: skip
            s["in_ls"] = False
        elif tag == "DTP":
            first, second = self.dates.period(e[2], e[3])
            if response is not None and not s["in_ls"]:
                owner = response["benefits"][-1] if response["benefits"] else response
                owner["periods"].append((e[1], first, second))
        elif tag == "NM1":
            q, ident = e[1], (e[9] if len(e) > 9 else "")
            if s["in_ls"]:
                return
            if s["level"] == "20" and q == "PR":
                s["payer_id"], s["payer_name"] = ident or None, (e[3] or None)
            elif s["level"] == "22" and q == "IL" and response is not None:
                s["member"] = response["member"] = ident or None
                response["il"] = j
        elif tag == "TRN":
            if (
                response is not None
                and len(e) > 2
                and e[2]
                and (response["trace"] is None or (e[1] == "2" and not response["trace2"]))
            ):
                response["trace"], response["trace2"] = e[2], e[1] == "2"
        elif tag == "AAA":
            reason = (e[3] or None) if len(e) > 3 else None
            if response is None:
                s["reject"] = s["reject"] or reason
            else:
                response["reject"] = response["reject"] or reason
                response["aaa"] = True
        elif tag == "DMG":
            if len(e) > 2 and e[2]:
                self.dates.period(e[1], e[2])  # validated, never stored nor quoted
        elif tag == "LS":
            s["in_ls"] = True
        elif tag == "LE":
            s["in_ls"] = False

    @staticmethod
    def _new(*, dependent: bool, children: bool) -> dict[str, Any]:
        return {"member": None, "dependent": dependent, "trace": None, "trace2": False,
                "reject": None, "aaa": False, "periods": [], "benefits": [],
                "children": children, "hl": None, "il": None}  # fmt: skip

    def _close(self, s: dict[str, Any]) -> None:
        """Emit the open response (and its benefits) when it says something.

        Raises Problem when a subscriber loop has no NM1*IL, or an NM1*IL without a member id
        and no AAA saying why (a payer that could not find the member may leave NM109 empty).
        """
        response, s["response"] = s["response"], None
        if response is None:
            return
        if response["hl"] is not None:
            if response["il"] is None:
                raise Problem(response["hl"], "the subscriber loop (HL 22) has no NM1*IL (2100C)")
            if response["member"] is None and not response["aaa"]:
                raise Problem(
                    response["il"], "NM1*IL (subscriber, 2100C) has no member id in NM109"
                )
        if not response["dependent"]:
            s["subscriber_trace"] = response["trace"]
        elif response["trace"] is None:  # a dependent without its own TRN: its subscriber's
            response["trace"] = s.get("subscriber_trace")
        if response["children"] and not response["benefits"] and not response["reject"]:
            return  # a subscriber loop that only introduces its dependents
        s["seq"] += 1
        tx: Transaction = s["tx"]
        rid = f"{self.file_sha256[:16]}:{tx.control}:{s['seq']}"
        row = {
            "response_id": rid, "check_date": s["check_date"], "trace_number": response["trace"],
            "payer_id": s["payer_id"], "payer_name": s["payer_name"],
            "member_id": response["member"] or s["member"],
            "is_dependent": response["dependent"],
            "rejection_reason": response["reject"] or s["reject"],
        }  # fmt: skip
        for name, values in self.cols["stg.eligibility_responses"].items():
            values.append(row[name])
        cols = self.cols["stg.eligibility_benefits"]
        sub_periods, sub_answered = answered_date(response["periods"])
        sub_dates = coverage_dates(sub_periods)
        for seq, eb in enumerate(response["benefits"], start=1):
            # the EB's own dates, else the loop's: never one from each (a loop's one-day answer
            # date is not the end of an EB that gives its own begin)
            own = coverage_dates(eb["periods"])
            answered = None
            if own[0] is None and own[2] is None:
                own, answered = sub_dates, sub_answered
            begin, begin_q, end, end_q = own
            used = [q for q in dict.fromkeys((begin_q, end_q)) if q]
            code = eb["code"]
            status = "active" if code in ACTIVE else "inactive" if code in INACTIVE else None
            benefit = {
                "response_id": rid, "benefit_seq": seq, "eligibility_code": code,
                "coverage_status": status, "service_types": eb["types"],
                "insurance_type": eb["insurance"], "plan_description": eb["plan"],
                "coverage_begin": begin, "coverage_end": end,
                "date_qualifiers": ",".join(used) or None, "answered_for": answered,
            }  # fmt: skip
            for name, values in cols.items():
                values.append(benefit[name])
