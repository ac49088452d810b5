"""835 reader by column: the same staging tables as ``Remittance835Reader``, without a Python
loop per segment, for files in which nothing is wrong.

Every body segment of every transaction set is split into elements once (Polars ``str.split``
over all segments of the file), and each staging column is built from the elements of one segment
id at a time: CLP rows give ``stg.remit_claims``, SVC rows ``stg.remit_lines``, CAS triplets
``stg.remit_adjustments``, LQ and MOA remark codes ``stg.remit_remarks``. Loop membership is
arithmetic on running counts, not a state machine: a segment's claim is the number of CLPs before
it in its transaction, its service line the number of SVCs since its CLP. The payment header
(BPR, TRN, N1, REF*2U, DTM*405, PLB: a handful of segments a transaction) is read in Python by the
per-segment reader's own methods.

This reader never decides that a file is wrong. Any doubt — a value that is not in its plain
form, a missing element, a segment id that is not one, a transaction set that does not balance,
anything unexpected — raises ``NotPlain`` and ``read_x12`` reads the file again with
``Remittance835Reader``, the reference for every check, error message and rejected transaction
set. Amounts are taken only in their plain form (``-?digits[.d[d]]``); other forms the reference
accepts (``.5``, ``5.``) send the file to it. tests/loading/test_x12_columns.py checks that both
readers build identical tables.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from loading.x12.errors import Problem
from loading.x12.remittance_835 import MOA_REMARKS, SCHEMAS, ZERO, Remittance835Reader
from loading.x12.tables import MONEY, QTY, STR
from loading.x12.tokenizer import ENVELOPE, Transaction, check_se
from loading.x12.values import BadValue

_AMOUNT = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"
_QUANTITY = r"^-?[0-9]{1,7}(\.[0-9]{1,3})?$"
_DATE = r"^[0-9]{8}$"
_TAG = r"^[A-Z][A-Z0-9]{1,2}$"
# CAS: up to six reason/amount/quantity triplets from CAS02 (as the reference reads them)
_CAS_STARTS = (2, 5, 8, 11, 14, 17)
_HEADER = ("TRN", "N1", "PLB")


class NotPlain(Exception):
    """The file holds something the columnar reader leaves to the per-segment reader."""


def _el(k: int) -> pl.Expr:
    """Element ``k`` of the split segment, "" when the segment has fewer elements."""
    return pl.col("e").list.get(k, null_on_oob=True).fill_null("")


def _or_none(k: int) -> pl.Expr:
    """Element ``k``, None when it is empty or absent (the reference's ``e[k] or None``)."""
    value = pl.col("e").list.get(k, null_on_oob=True)
    return pl.when(value == "").then(None).otherwise(value)


def _amount_ok(expr: pl.Expr) -> pl.Expr:
    return expr.str.contains(_AMOUNT)


def _quantity_ok(expr: pl.Expr) -> pl.Expr:
    return expr.str.contains(_QUANTITY)


def _require(frame: pl.DataFrame, ok: pl.Expr) -> None:
    """Raise NotPlain unless ``ok`` holds on every row of ``frame``."""
    if frame.height and not frame.select(ok.fill_null(False).all()).item():
        raise NotPlain


def _dates(values: pl.Series) -> pl.Series:
    """The dates of CCYYMMDD texts; NotPlain when one is not a real date."""
    parsed = values.str.strptime(pl.Date, "%Y%m%d", strict=False)
    plain = values.str.contains(_DATE) & ~values.str.starts_with("0000")
    if not (plain & parsed.is_not_null()).all():
        raise NotPlain
    return parsed


def _money(values: pl.Series, kind: pa.DataType = MONEY) -> pa.Array:
    return pc.cast(values.to_arrow(), kind)


class Parts:
    """The body segments of a file by segment id (an empty frame for an id it does not hold)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.empty = frame.clear()
        self.by_tag = {
            str(key[0]): part for key, part in frame.partition_by("tag", as_dict=True).items()
        }

    def __getitem__(self, tag: str) -> pl.DataFrame:
        return self.by_tag.get(tag, self.empty)


class ColumnarRemittance835Reader:
    """Reads 835 transactions by column (see the module docstring); ``tables`` raises NotPlain
    when the file needs the per-segment reader."""

    def __init__(self, file_sha256: str) -> None:
        self.file_sha256 = file_sha256
        self.rejected: list[dict[str, object]] = []  # never: a rejection is the reference's job
        self.header = Remittance835Reader(file_sha256)  # payments and provider adjustments
        self.txs: list[tuple[Transaction, int]] = []
        self.segs: list[str] = []
        self.frame: pl.DataFrame | None = None
        self.se_at: list[int] = []
        self.envelope_at: list[int] = []
        self._dtm_frame: pl.DataFrame | None = None  # every body DTM with its date
        self._claim_start = pl.Series([], dtype=pl.Date)  # DTM*232 by claim row
        self._clp_paid = pl.DataFrame()  # transaction and CLP04 of every claim

    def _split(self, segs: list[str], sep: str) -> pl.DataFrame:
        self.segs = segs
        frame = pl.DataFrame({"e": pl.Series(segs, dtype=pl.String).str.split(sep)})
        frame = frame.with_row_index("j").with_columns(
            tag=pl.col("e").list.first(), n=pl.col("e").list.len().cast(pl.Int32)
        )
        tags = frame.select("j", "tag")  # not the elements: a filter copies every column
        self.se_at = tags.filter(pl.col("tag") == "SE")["j"].to_list()
        envelope = list(ENVELOPE - {"SE"})
        self.envelope_at = tags.filter(pl.col("tag").is_in(envelope))["j"].to_list()
        return frame

    def transaction(self, segs: list[str], tx: Transaction) -> int:
        """The index of the SE that closes ``tx``; NotPlain unless the reference would find the
        same SE and accept its counts."""
        if self.frame is None:
            self.frame = self._split(segs, tx.delimiters.element)
        st = tx.st_index
        k = bisect.bisect_right(self.se_at, st + 1)
        if k == len(self.se_at):
            raise NotPlain  # no SE: the reference names the truncation
        se = self.se_at[k]
        e = bisect.bisect_right(self.envelope_at, st)
        if e < len(self.envelope_at) and self.envelope_at[e] < se:
            raise NotPlain  # an envelope segment inside the transaction set
        try:
            check_se(segs, tx, se)
        except Problem:
            raise NotPlain from None
        self.txs.append((tx, se))
        return se

    def tables(self) -> dict[str, pa.Table]:
        """The six staging tables, identical to ``Remittance835Reader``'s for the same file."""
        if self.frame is None or not self.txs:
            raise NotPlain
        body = self._body()
        claims, claim_tx = self._claims(body)
        lines = self._lines(body)
        adjustments = self._adjustments(body)
        remarks = self._remarks(body)
        self._payments(body, claims)
        built = self.header.tables()  # payments and provider adjustments (read in Python)
        pids = [self._pid(tx) for tx, _ in self.txs]
        pid_of_claim = pa.array(pids, STR).take(pa.array(claim_tx, pa.int32()))
        seq_of_claim = claims["claim_seq"]
        out = {}
        for name, columns in (
            ("stg.remit_claims", claims),
            ("stg.remit_lines", lines),
            ("stg.remit_adjustments", adjustments),
            ("stg.remit_remarks", remarks),
        ):
            if name != "stg.remit_claims":
                row = pa.array(columns.pop("claim_row"), pa.int32())
                columns["payment_id"] = pid_of_claim.take(row)
                columns["claim_seq"] = seq_of_claim.take(row)
            else:
                columns["payment_id"] = pid_of_claim
            out[name] = self._table(columns, SCHEMAS[name])
        out["stg.remit_payments"] = built["stg.remit_payments"]
        out["stg.remit_provider_adjustments"] = built["stg.remit_provider_adjustments"]
        return {name: out[name] for name in SCHEMAS}

    def _pid(self, tx: Transaction) -> str:
        return f"{self.file_sha256[:16]}:{tx.interchange_control}:{tx.control}"

    def _table(self, columns: dict[str, Any], schema: list[tuple[str, pa.DataType]]) -> pa.Table:
        rows = len(columns[schema[0][0]])
        arrays = [pa.array([self.file_sha256] * rows, STR)]
        for name, kind in schema:
            data = columns[name]
            if isinstance(data, pl.Series):
                data = data.to_arrow()
            if isinstance(data, pa.ChunkedArray):
                data = data.combine_chunks()
            if not isinstance(data, pa.Array):
                data = pa.array(data, kind)
            arrays.append(data if data.type == kind else pc.cast(data, kind))
        names = ["file_sha256", *(name for name, _ in schema)]
        return pa.Table.from_arrays(arrays, names=names)

    def _body(self) -> Parts:
        """Segments from BPR's successor to SE's predecessor of every transaction, by segment id,
        each with its transaction ``t``, claim (``claim_seq`` in the transaction, ``claim`` in
        the file) and service line (``line_seq`` in the claim, ``line`` in the file). The
        frame is cut by segment id once: every later step works on its own segments only."""
        assert self.frame is not None
        frame = self.frame
        starts = pl.Series([tx.st_index + 2 for tx, _ in self.txs], dtype=pl.UInt32)
        ends = pl.Series([se for _, se in self.txs], dtype=pl.Int64)
        t = starts.search_sorted(frame["j"], side="right").cast(pl.Int64) - 1
        body = (t >= 0) & (frame["j"].cast(pl.Int64) < ends.gather(t.clip(lower_bound=0)))
        frame = frame.with_columns(t=t, body=body)
        tag_ok = pl.col("tag").str.contains(_TAG) & ~pl.col("tag").is_in(list(ENVELOPE))
        _require(frame, ~pl.col("body") | tag_ok)
        # running counts, not window functions: a segment's claim_seq is the CLPs up to it less
        # those before its transaction, its line_seq the SVCs up to it less those up to its CLP
        body_flag = frame["body"]
        is_clp = (frame["tag"] == "CLP") & body_flag
        clps = is_clp.cast(pl.Int32).cum_sum()
        svcs = ((frame["tag"] == "SVC") & body_flag).cast(pl.Int32).cum_sum()
        before_tx = clps.gather(starts.cast(pl.Int64) - 1)  # at each BPR (ST + 1)
        claim_seq = clps - before_tx.gather(t.clip(lower_bound=0))
        at_clp = svcs.filter(is_clp)
        line_seq = (
            (svcs - at_clp.gather((clps - 1).clip(lower_bound=0))) * (claim_seq > 0).cast(pl.Int32)
            if at_clp.len()
            else pl.zeros(frame.height, pl.Int32, eager=True)
        )
        frame = frame.with_columns(
            claim=clps - 1, line=svcs - 1, claim_seq=claim_seq, line_seq=line_seq
        ).filter(pl.col("body"))
        return Parts(frame)

    def _claims(self, body: Parts) -> tuple[dict[str, Any], list[int]]:
        clp = body["CLP"]
        _require(
            clp,
            (pl.col("n") >= 5)
            & pl.all_horizontal([_el(k) != "" for k in range(1, 5)])
            & _amount_ok(_el(3))
            & _amount_ok(_el(4))
            & ((_el(5) == "") | _amount_ok(_el(5))),
        )
        c = clp.select(
            "t", "claim_seq", "claim",
            claim_id=_el(1), status_code=_el(2), charge=_el(3), paid=_el(4),
            resp=_or_none(5), filing_indicator=_or_none(6), payer_claim_control=_or_none(7),
            place_of_service=_or_none(8), frequency_code=_or_none(9),
        )  # fmt: skip
        claim_rows = c.height
        dtm = self._dtm(body)
        claim_dtm = dtm.filter((pl.col("claim_seq") > 0) & (pl.col("line_seq") == 0))

        def last_date(qualifier: str) -> pl.Series:
            return self._last_by(
                claim_dtm.filter(pl.col("q") == qualifier), "claim", "d", claim_rows, pl.Date()
            )

        start, end, received = last_date("232"), last_date("233"), last_date("050")
        nm1 = body["NM1"].filter((pl.col("claim_seq") > 0) & (pl.col("n") > 9))
        nm1 = nm1.select("claim", q=_el(1), e8=_el(8), v=_or_none(9))
        il = self._last_by(nm1.filter(pl.col("q") == "IL"), "claim", "v", claim_rows, pl.String())
        has_il = self._last_by(
            nm1.filter(pl.col("q") == "IL").with_columns(seen=pl.lit(True)),
            "claim", "seen", claim_rows, pl.Boolean(),
        )  # fmt: skip
        qc = self._last_by(nm1.filter(pl.col("q") == "QC"), "claim", "v", claim_rows, pl.String())
        member = pl.select(pl.when(has_il.fill_null(False)).then(il).otherwise(qc)).to_series()
        rendering = self._last_by(
            nm1.filter((pl.col("q") == "82") & (pl.col("e8") == "XX")),
            "claim", "v", claim_rows, pl.String(),
        )  # fmt: skip
        self._claim_start = start
        columns: dict[str, Any] = {
            "claim_seq": pc.cast(c["claim_seq"].to_arrow(), pa.int32()),
            "claim_id": c["claim_id"], "status_code": c["status_code"],
            "total_charge": _money(c["charge"]), "paid_amount": _money(c["paid"]),
            "patient_responsibility": _money(c["resp"]),
            "filing_indicator": c["filing_indicator"],
            "payer_claim_control": c["payer_claim_control"],
            "place_of_service": c["place_of_service"], "frequency_code": c["frequency_code"],
            "member_id": member, "rendering_npi": rendering,
            "statement_start": start, "statement_end": end, "received_date": received,
        }  # fmt: skip
        self._clp_paid = c.select("t", "paid")
        return columns, c["t"].to_list()

    def _dtm(self, body: Parts) -> pl.DataFrame:
        if self._dtm_frame is None:
            dtm = body["DTM"]
            _require(dtm, pl.col("n") >= 3)
            dtm = dtm.select("t", "claim_seq", "claim", "line_seq", "line", q=_el(1), v=_el(2))
            self._dtm_frame = dtm.with_columns(d=_dates(dtm["v"]))
        return self._dtm_frame

    @staticmethod
    def _last_by(
        frame: pl.DataFrame, key: str, value: str, rows: int, dtype: pl.DataType
    ) -> pl.Series:
        """For keys 0..rows-1, the ``value`` of the key's last row in ``frame`` (null if none)."""
        last = frame.group_by(key, maintain_order=True).agg(pl.col(value).last())
        out = pl.DataFrame({key: pl.int_range(0, rows, eager=True).cast(frame.schema[key])})
        return out.join(last, on=key, how="left", maintain_order="left")[value].cast(dtype)

    def _lines(self, body: Parts) -> dict[str, Any]:
        svc = body["SVC"]
        comp = self.txs[0][0].delimiters.component
        svc = svc.with_columns(c=_el(1).str.split(comp), c6=_el(6).str.split(comp))
        first, second = pl.col("c").list.get(0), pl.col("c").list.get(1, null_on_oob=True)
        _require(
            svc,
            (pl.col("n") >= 4)
            & (pl.col("claim_seq") > 0)
            & (first != "")
            & second.is_not_null()
            & (second != "")
            & _amount_ok(_el(2))
            & _amount_ok(_el(3))
            & ((_el(5) == "") | _quantity_ok(_el(5)))
            & ((_el(6) == "") | (pl.col("c6").list.get(1, null_on_oob=True).fill_null("") != "")),
        )
        lines = svc.height
        s = svc.select(
            "claim", "line_seq",
            procedure_qualifier=first, procedure_code=second,
            modifiers=pl.col("c").list.slice(2, 4).list.eval(
                pl.element().filter(pl.element() != "")
            ),
            charge=_el(2), paid=_el(3),
            units=pl.when(_el(5) == "").then(pl.lit("1")).otherwise(_el(5)),
            original=pl.when(_el(6) == "")
            .then(None)
            .otherwise(pl.col("c6").list.get(1, null_on_oob=True)),
        )  # fmt: skip
        in_line = pl.col("line_seq") > 0
        dtm = self._dtm(body).filter(in_line)
        dos472 = self._last_by(dtm.filter(pl.col("q") == "472"), "line", "d", lines, pl.Date())
        dos150 = self._last_by(dtm.filter(pl.col("q") == "150"), "line", "d", lines, pl.Date())
        end = self._last_by(dtm.filter(pl.col("q") == "151"), "line", "d", lines, pl.Date())
        ref = body["REF"].filter(in_line & (pl.col("n") > 2))
        ref = ref.select("line", q=_el(1), v=_or_none(2)).filter(pl.col("q") == "6R")
        control = self._last_by(ref, "line", "v", lines, pl.String())
        claim_start = (
            self._claim_start.gather(s["claim"]) if lines else pl.Series([], dtype=pl.Date)
        )
        dos = pl.select(pl.coalesce(dos472, dos150, claim_start)).to_series()
        return {
            "claim_row": s["claim"].to_list(),
            "line_seq": s["line_seq"],
            "procedure_qualifier": s["procedure_qualifier"], "procedure_code": s["procedure_code"],
            "modifiers": s["modifiers"], "charge": _money(s["charge"]),
            "paid_amount": _money(s["paid"]), "units": _money(s["units"], QTY),
            "original_procedure_code": s["original"], "date_of_service": dos,
            "date_of_service_end": end, "line_control_number": control,
        }  # fmt: skip

    def _adjustments(self, body: Parts) -> dict[str, Any]:
        cas = body["CAS"]
        _require(cas, (pl.col("claim_seq") > 0) & (_el(1) != ""))
        parts = []
        for k in _CAS_STARTS:
            part = cas.filter(pl.col("n") > k).select(
                "j", "claim", "line_seq", group=_el(1), reason=_el(k), amount=_el(k + 1),
                qty=_el(k + 2), k=pl.lit(k),
            )  # fmt: skip
            _require(part, (pl.col("reason") == "") == (pl.col("amount") == ""))
            part = part.filter(pl.col("reason") != "")
            _require(part, _amount_ok(pl.col("amount")))
            _require(part, (pl.col("qty") == "") | _quantity_ok(pl.col("qty")))
            parts.append(part)
        a = pl.concat(parts).sort("j", "k")
        return {
            "claim_row": a["claim"].to_list(),
            "line_seq": pl.select(
                pl.when(a["line_seq"] > 0).then(a["line_seq"]).otherwise(None)
            ).to_series(),
            "group_code": a["group"], "reason_code": a["reason"],
            "amount": _money(a["amount"]),
            "quantity": _money(
                pl.select(pl.when(a["qty"] == "").then(None).otherwise(a["qty"])).to_series(), QTY
            ),
        }  # fmt: skip

    def _remarks(self, body: Parts) -> dict[str, Any]:
        """RARCs: LQ*HE in a service line, MOA03..MOA07 of a claim, in segment order. Anything
        the reference reports as a warning (another LQ01, an empty LQ02, an LQ outside a
        service line, an MOA before any CLP) is left to it."""
        lq, moa = body["LQ"], body["MOA"]
        _require(lq, (pl.col("line_seq") > 0) & (_el(1) == "HE") & (_el(2) != ""))
        _require(moa, pl.col("claim_seq") > 0)
        parts = [
            lq.select(
                "j", "claim", line_seq=pl.col("line_seq").cast(pl.Int32), level=pl.lit("line"),
                source=pl.lit("LQ02"), code=_el(2), k=pl.lit(0),
            )
        ]  # fmt: skip
        for k in MOA_REMARKS:
            part = moa.select(
                "j", "claim", line_seq=pl.lit(None, dtype=pl.Int32), level=pl.lit("claim"),
                source=pl.lit(f"MOA{k:02d}"), code=_el(k), k=pl.lit(k),
            )  # fmt: skip
            parts.append(part.filter(pl.col("code") != ""))
        r = pl.concat(parts).sort("j", "k")
        return {
            "claim_row": r["claim"].to_list(),
            "line_seq": r["line_seq"], "level": r["level"], "source": r["source"],
            "code": r["code"],
        }  # fmt: skip

    def _payments(self, body: Parts, claims: dict[str, Any]) -> None:
        """Payment headers and PLBs in Python (a handful of segments a transaction), by the
        reference's own methods; then every transaction's balance."""
        before_claims = pl.col("claim_seq") == 0
        header = pl.concat(
            [
                *(body[tag].select("j", "t") for tag in _HEADER),
                body["REF"].filter(before_claims & (_el(1) == "2U")).select("j", "t"),
                body["DTM"].filter(before_claims & (_el(1) == "405")).select("j", "t"),
            ]
        ).sort("j")
        amt = body["AMT"]
        _require(amt, (pl.col("n") >= 3) & _amount_ok(_el(2)))
        paid = (
            self._clp_paid.with_columns(p=pl.col("paid").cast(pl.Decimal(18, 2)))
            .group_by("t")
            .agg(pl.col("p").sum())
        )
        totals = dict(zip(paid["t"].to_list(), paid["p"].to_list(), strict=True))
        by_tx: dict[int, list[int]] = {}
        for j, t in header.iter_rows():
            by_tx.setdefault(t, []).append(j)
        reader = self.header
        plb_rows = reader.cols["stg.remit_provider_adjustments"]["amount"]
        segs = self.segs
        try:
            for t, (tx, _se) in enumerate(self.txs):
                sep, comp = tx.delimiters.element, tx.delimiters.component
                first = segs[tx.st_index + 1].split(sep)
                if first[0] != "BPR":
                    raise NotPlain
                head = reader._bpr(first, tx.st_index + 1)
                pid = self._pid(tx)
                plb_seq, plb_start = 0, len(plb_rows)
                for j in by_tx.get(t, ()):
                    e = segs[j].split(sep)
                    tag = e[0]
                    if tag == "TRN":
                        if head.trace_number is None:
                            if len(e) < 3 or not e[2]:
                                raise NotPlain
                            head.trace_number = e[2]
                            head.trn03 = e[3] if len(e) > 3 else ""
                    elif tag == "N1":
                        reader._n1(e, head)
                    elif tag == "PLB":
                        head.plb_total += reader._plb(e, j, pid, plb_seq, comp)
                        plb_seq = len(plb_rows) - plb_start
                    elif tag == "REF":
                        if len(e) > 2:
                            head.ref_2u = e[2]
                    else:  # DTM*405 before any claim (its date was checked with every DTM)
                        head.production_date = reader.dates[e[2]]
                clp_total: Decimal = totals.get(t, ZERO)
                reader._payment(head, pid, tx, clp_total)
        except (Problem, BadValue, IndexError):
            raise NotPlain from None
