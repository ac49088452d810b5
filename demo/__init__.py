"""The demo: a synthetic behavioral-health practice written as an inbox (837P, 271, 835, sessions)
with planted problems and its answer key (``generator.generate``, the ``recoup demo`` command).

It writes inboxes and may use loading's helpers, nothing above: the rule ids its manifest accounts
for are handed to it by the caller (docs/architecture.md).
"""
