"""Process steps -> done / missing / not applicable / not observable, per incident.

Each step of the problem-response process (review.closeout.steps, one file each) is checked
against what RT recorded. Where RT cannot show a step with the configured fields, the row
says which custom field or watcher would make it visible. The steps read the same Audit and
findings as the close-out rules, so the checklist and the findings never disagree.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
from review.closeout.audit import Audit
from review.closeout.step import MISSING, NA, UNSEEN, Checklist
from review.closeout.steps import STEPS

CHECKLIST_COLUMNS = ["ticket_id", "step", "state", "evidence", "how_to_observe"]
LOST_DATA = (
    "the data RT gave cannot back this step (see the data-quality note): correct it in RT "
    "and pull again"
)


def audit_checklist(audit: Audit, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per incident per process step (in STEPS order), columns CHECKLIST_COLUMNS, from
    the Audit and the findings of the same incidents (review.context.Context.checklist).

    A step that reads an input the data cannot back (its `inputs`, review.analysis.quality)
    is not observable, with the evidence of why, unless it does not apply and what decides
    that (its `decides`) is backed."""
    checklist = Checklist(audit, findings)
    frames = [step(checklist).assign(order=number) for number, step in enumerate(STEPS.values())]
    out = pd.concat(frames, ignore_index=True)
    # a field it reads that holds several values backs neither the step nor its not applying
    fields = {s.label: tuple(map(quality.field_input, s.reads)) for s in STEPS.values()}
    unseen = quality.unmeasured(
        audit.lost, {s.label: (*s.inputs, *fields[s.label]) for s in STEPS.values()}
    )
    decides = quality.unmeasured(
        audit.lost, {s.label: (*s.decides, *fields[s.label]) for s in STEPS.values()}
    )
    keys = ["ticket_id", "step"]
    out = out.merge(unseen.rename(columns={"item": "step"}), on=keys, how="left").merge(
        decides.rename(columns={"item": "step", "reason": "undecided"}), on=keys, how="left"
    )
    blind = out["undecided"].notna() | (out["reason"].notna() & (out["state"] != NA))
    why = out["reason"].fillna(out["undecided"])
    out.loc[blind, "state"] = UNSEEN
    out.loc[blind, "evidence"] = "not observable: " + why[blind]
    out.loc[blind, "how_to_observe"] = LOST_DATA
    out = out.sort_values(["ticket_id", "order"], kind="stable").reset_index(drop=True)
    result: pd.DataFrame = out[CHECKLIST_COLUMNS]
    return result


def differences(checklist: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Where one incident's checklist and findings differ, and why (step, state, why).

    A step marked missing with no finding from the rules that report it (its `reports`),
    and a finding whose steps are all done or not applicable: each gets one row that says
    what the step looks at and what the rule looks at, so a reader sees why they differ.
    """
    fired = set(findings["rule"]) if len(findings) else set()
    rows = []
    for label, state, evidence in checklist[["step", "state", "evidence"]].itertuples(index=False):
        rules = STEPS[label].reports if label in STEPS else ()
        if state != MISSING or fired & {r.id for r in rules}:
            continue
        if not rules:
            why = (
                "no close-out rule checks this step: the findings are the Close Out's rules "
                "(each can file a follow-up ticket), the checklist follows every step of the "
                f"process. Here: {evidence}."
            )
        else:
            meanings = "; ".join(f"{r.id} fires only when {r.meaning.rstrip('.')}" for r in rules)
            why = f"no rule fired: {meanings}. The step is missing because {evidence}."
        rows.append((label, state, why))
    states = checklist.set_index("step")["state"]
    for rule_id in findings["rule"].drop_duplicates() if len(findings) else ():
        labels = [
            s.label
            for s in STEPS.values()
            if rule_id in {r.id for r in s.reports} and s.label in states.index
        ]
        if not labels or (states.reindex(labels) == MISSING).any():
            continue
        rule = next(r for s in STEPS.values() for r in s.reports if r.id == rule_id)
        done = ", ".join(f"'{label}' is {states[label]}" for label in labels)
        rows.append(
            (
                labels[0],
                str(states[labels[0]]),
                f"finding {rule_id} while the checklist's {done}: the rule asks something else "
                f"({rule.meaning.rstrip('.')}).",
            )
        )
    return pd.DataFrame(rows, columns=["step", "state", "why"])
