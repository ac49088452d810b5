"""What to do about a finding: a small fixed vocabulary of next steps, in the words a billing
office uses. Each rule names exactly one of them (``Rule.define(..., action=...)``), so the
step is owned by the rule, next to its query and its plain-words reason; the reports group the
work by it (findings.csv ``action``, exposure.json ``by_action``, the page's "Work by action").

Why these six: a finding is fixed by proving coverage (or taking the payer's answer), by
correcting what was billed, by taking back a claim that should not stand, by completing the
note, or, when the claim is right but looks wrong to a payer, by keeping the evidence ready.
"""

from __future__ import annotations

REVERIFY_ELIGIBILITY = "re-verify eligibility"
CORRECT_AND_RESUBMIT = "correct the code and resubmit"
VOID_CLAIM = "void the claim"
SIGN_NOTE = "get the note signed"
ADD_MINUTES = "add the minutes to the note"
KEEP_EVIDENCE = "keep, with the evidence for an audit"

# In the order the page lists them when they carry the same money.
ACTIONS: tuple[str, ...] = (
    REVERIFY_ELIGIBILITY,
    CORRECT_AND_RESUBMIT,
    VOID_CLAIM,
    SIGN_NOTE,
    ADD_MINUTES,
    KEEP_EVIDENCE,
)


def check_action(rule_id: str, action: str) -> str:
    """``action`` when it is one of ``ACTIONS``; else ``ValueError`` naming the vocabulary."""
    if action not in ACTIONS:
        raise ValueError(f"rule {rule_id}: action {action!r} is not one of: " + "; ".join(ACTIONS))
    return action
