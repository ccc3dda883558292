"""close-out records: done when the service's registry entry records an owner, a permanent
support team and its lists.

The process's Close Out. When missing, the evidence is each service-scope rule's finding,
by rule id.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.rules import RULES, SERVICE_RULES
from review.closeout.step import DONE, MISSING, Checklist, pick, rows, step
from review.snapshot import join_per_key


@step(
    __doc__,
    order=120,
    reports=tuple(RULES[r] for r in SERVICE_RULES),
    inputs=tuple(dict.fromkeys(t for r in SERVICE_RULES for t in RULES[r].inputs)),
)
def close_out(checklist: Checklist, label: str) -> pd.DataFrame:
    parts = [
        (rule.id + ": " + checklist.finding(rule)).dropna().rename("text").reset_index()
        for rule in (RULES[r] for r in SERVICE_RULES)
    ]
    every = pd.concat(parts, ignore_index=True)
    outstanding = join_per_key(every["ticket_id"], every["text"], " | ").reindex(checklist.ids)
    state = pick([outstanding.notna()], [MISSING], checklist.ids).replace("", DONE)
    evidence = outstanding.fillna(
        checklist.audit.entry + " records an owner, a permanent support team and its lists"
    )
    return rows(
        state,
        evidence,
        "the service registry (owner, support team, announce and support lists)",
        label,
    )
