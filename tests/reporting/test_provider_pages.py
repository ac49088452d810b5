"""A provider's page (reporting/prevention.py provider_page) on a small warehouse: what it counts
and how it names the clinician."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from reporting.prevention import provider_findings, provider_page
from tests.rulekit import AS_OF, RENDERING_NPI, new_kit


def _text(html: str) -> str:
    body = html.split("<body>", 1)[1]
    return re.sub(r"[ \t]+", " ", re.sub(r"<[^>]+>", " ", body).replace("&#39;", "'"))


def test_two_claims_sharing_a_clm01_and_line_are_two_sessions() -> None:
    """CLM01 TWIN-1 line 1 billed twice for two sessions (June 3 and June 10): two claims (two
    claim keys), each 90837 paid $142.30. The one note (40 minutes, CLM01 TWIN-1) supports a
    90834 ($85 allowed) on June 3: $57.30 at stake; June 10 also has no note of its own: its
    whole $142.30 is at stake (the line's exposure is capped at what it was paid)."""
    kit = new_kit(AS_OF)
    kit.fee("90834", "85.00")
    kit.session("TWIN-1", minutes=40)
    kit.paid_line("TWIN-1", "90837", "142.30", member_id="M-T")
    kit.paid_line("TWIN-1", "90837", "142.30", member_id="M-T", date_of_service=date(2024, 6, 10))
    kit.run(as_of=AS_OF)
    assert kit.rows("SELECT claim_key FROM mart.claims ORDER BY 1") == [
        ("TWIN-1~2024-06-03",),
        ("TWIN-1~2024-06-10",),
    ]
    rows = provider_findings(kit.con)[RENDERING_NPI]
    assert [(r["claim_key"], r["line_number"], r["rule"], r["exposure"]) for r in rows] == [
        ("TWIN-1~2024-06-03", 1, "coding.time_unsupported", Decimal("57.30")),
        ("TWIN-1~2024-06-10", 1, "coding.time_unsupported", Decimal("57.30")),
        ("TWIN-1~2024-06-10", 1, "documentation.note_missing", Decimal("142.30")),
    ]
    html, counts = provider_page(RENDERING_NPI, rows, AS_OF)
    assert (counts["sessions"], counts["at_stake"]) == (2, Decimal("199.60"))
    assert (
        "As of 2024-12-31, 2 of your paid\nsessions could be taken back by a payer "
        "($199.60 in all)."
    ) in _text(html)


def test_the_page_names_the_clinician_when_the_837s_do() -> None:
    kit = new_kit(AS_OF)
    kit.fee("90834", "85.00")
    kit.session("NAMED-1", minutes=40)
    kit.paid_line("NAMED-1", "90837", "142.30", member_id="M-N")
    kit.run(as_of=AS_OF)
    rows = provider_findings(kit.con)[RENDERING_NPI]
    named, _ = provider_page(RENDERING_NPI, rows, AS_OF, name="REYES & DIAZ, DANA")
    assert (
        f"<title>Notes to fix: REYES &amp; DIAZ, DANA (NPI {RENDERING_NPI}), "
        "as of 2024-12-31</title>"
    ) in named
    assert f"<h1>Notes to fix: REYES &amp; DIAZ, DANA (NPI {RENDERING_NPI})</h1>" in named
    assert "<p>Hello REYES &amp; DIAZ, DANA: thank you for your notes. As of 2024-12-31, 1 of" in (
        named
    )
    unnamed, _ = provider_page(RENDERING_NPI, rows, AS_OF)
    assert f"<h1>Notes to fix: rendering provider {RENDERING_NPI}</h1>" in unnamed
    assert "<p>Hello, and thank you for your notes. As of 2024-12-31, 1 of" in unnamed
