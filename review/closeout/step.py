"""What a process step is: one declaration, in one file of review/closeout/steps/.

The checklist says, per incident, whether each step of the problem-response process was
done, missing, not applicable or not observable in what RT recorded. A step's docstring is
its documentation, and its first paragraph reads 'label: when it is done.'; the label
names the step in the checklist. `order` is its place in the process; the decorated
function gets the Checklist (the Audit plus the findings) and the label, and returns the
step's rows for every incident (see `rows`). A step that shows a rule's evidence refers to
the rule object, never its id::

    \"\"\"Tech Lead assigned: done when the ticket had an owner from creation or got one.\"\"\"

    @step(__doc__, order=40)
    def tech_lead(checklist: Checklist, label: str) -> pd.DataFrame: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from review.analysis import facts
from review.closeout.audit import Audit
from review.closeout.rule import Rule, field_unseen
from review.settings.registries import docstring, heading

STATES = ("done", "missing", "not applicable", "not observable")
DONE, MISSING, NA, UNSEEN = STATES


def rows(state: pd.Series, evidence: pd.Series, how: str | pd.Series, label: str) -> pd.DataFrame:
    """One step's rows (index of `state` = ticket ids): ticket_id, step, state, evidence,
    how_to_observe."""
    return pd.DataFrame(
        {
            "ticket_id": state.index,
            "step": label,
            "state": state.to_numpy(),
            "evidence": evidence.reindex(state.index).to_numpy(),
            "how_to_observe": how if isinstance(how, str) else how.reindex(state.index).to_numpy(),
        }
    )


def pick(conditions: list[pd.Series], choices: list[str | pd.Series], index: pd.Index) -> pd.Series:
    """np.select over aligned Series, keeping the index; the first true condition wins."""
    values = np.select(
        [c.reindex(index).fillna(False).to_numpy(dtype=bool) for c in conditions],
        [c.reindex(index).to_numpy() if isinstance(c, pd.Series) else c for c in choices],
        default="",
    )
    return pd.Series(values, index=index, dtype="object")


class Checklist:
    """What every step reads: the Audit of all incidents and the findings of its rules."""

    def __init__(self, audit: Audit, findings: pd.DataFrame) -> None:
        self.audit = audit
        self.inc = audit.inc
        self.ids = audit.ids
        self.config = audit.config
        self.by_rule = {
            rule: group.set_index("ticket_id")["evidence"]
            for rule, group in findings.groupby("rule")
        }
        watchers = audit.snapshot.watchers
        self.watchers = watchers.loc[watchers["ticket_id"].isin(self.ids)]
        self.urgent = self.inc["classification"].isin(self.config.classification.urgent)

    def finding(self, rule: Rule) -> pd.Series:
        """Per ticket: the evidence of `rule`'s finding, NaN where it did not fire."""
        return self.by_rule.get(rule.id, pd.Series(dtype="object")).reindex(self.ids)

    def field(self, name: str) -> pd.Series:
        """Per ticket: custom field `name` now, '' when unset."""
        return facts.field_values(self.audit.snapshot, name, self.ids)

    def unseen_field(self, key: str, step: str) -> pd.DataFrame | None:
        """The step's rows as 'not observable' when no ticket carries the custom field of
        [fields] `key` (or the config sets none)."""
        name = getattr(self.config.fields, key)
        if name and facts.has_field(self.audit.snapshot, name):
            return None
        state = pd.Series(UNSEEN, index=self.ids)
        evidence = pd.Series(field_unseen(name, key), index=self.ids)
        how = (
            f"set [fields] {key} to the site's field (`review init` lists them), or add a ticket "
            f"custom field '{name or key}' to the ops and developer queues"
        )
        return rows(state, evidence, how, step)

    def set_by(self, name: str, values: pd.Series) -> pd.Series:
        """Per ticket: custom field 'F' is 'v' (set by txn N at T)."""
        return f"custom field '{name}' is '" + values + "' (" + self.audit.field_set_by(name) + ")"

    def on_watchers(self, addresses: pd.Series) -> pd.Series:
        """Per ticket: is the given address (per ticket) a Cc or AdminCc watcher?"""
        watch = self.watchers.loc[self.watchers["role"].isin(["Cc", "AdminCc"])]
        wanted = pd.DataFrame(
            {"ticket_id": self.ids.to_numpy(), "user": addresses.reindex(self.ids).to_numpy()}
        )
        hit = wanted.merge(watch[["ticket_id", "user"]].drop_duplicates(), how="inner")
        return pd.Series(self.ids.isin(hit["ticket_id"]), index=self.ids)


Check = Callable[[Checklist, str], pd.DataFrame]


@dataclass(frozen=True)
class Step:
    """One process step (see the module docstring); `doc` is its documentation."""

    label: str
    done_when: str
    check: Check = field(repr=False)
    order: int
    doc: str = field(default="", repr=False)
    reads: tuple[str, ...] = ()  # the [fields] keys it cannot observe without
    # the close-out rules that report this step as a finding (none: the checklist alone
    # follows it); where the two differ, the incident review says why
    reports: tuple[Rule, ...] = ()
    # the data it reads (review.analysis.quality): not observable where one is lost, unless
    # the step does not apply and the inputs that decide that (`decides`) are not lost
    inputs: tuple[str, ...] = ()
    decides: tuple[str, ...] = ()

    def __call__(self, checklist: Checklist) -> pd.DataFrame:
        return self.check(checklist, self.label)


def step(
    doc: str | None,
    *,
    order: int,
    reads: tuple[str, ...] = (),
    reports: tuple[Rule, ...] = (),
    inputs: tuple[str, ...] = (),
    decides: tuple[str, ...] = (),
) -> Callable[[Check], Step]:
    """Declare a process step around its check (a decorator); `doc` is the step module's
    docstring, whose first paragraph reads 'label: when it is done.'; `reports`: the rules
    whose findings report the step."""

    def declare(check: Check) -> Step:
        text = docstring(doc, check.__module__)
        label, done_when = heading(text, f"the process step of {check.__module__}")
        return Step(
            label, done_when, check, order, doc=text, reads=reads, reports=reports,
            inputs=inputs, decides=decides,
        )  # fmt: skip

    return declare
