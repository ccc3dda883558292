"""identify the service owner: done when RT's Service Owner field or the service's registry
entry names an owner.

The process's Communication Channels: identify the service owner, who is the Tech Lead or
names one. Otherwise the evidence is that of the rule unknown-service-owner.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.rules.unknown_service_owner import unknown_service_owner
from review.closeout.step import DONE, MISSING, Checklist, pick, rows, step


@step(__doc__, order=20, reports=(unknown_service_owner,), inputs=unknown_service_owner.inputs)
def service_owner(checklist: Checklist, label: str) -> pd.DataFrame:
    inc = checklist.inc
    name = checklist.config.fields.service_owner
    from_field = inc["cf_owner"] != ""
    from_registry = inc["reg_service_owner"].fillna("") != ""
    state = pick([from_field | from_registry], [DONE], checklist.ids).replace("", MISSING)
    evidence = pick(
        [from_field, from_registry],
        [
            f"custom field '{name}' is '" + inc["cf_owner"] + "'",
            checklist.audit.entry + " names '" + inc["reg_service_owner"].fillna("") + "'",
        ],
        checklist.ids,
    )
    evidence = evidence.where(evidence != "", checklist.finding(unknown_service_owner))
    return rows(state, evidence, f"custom field '{name}', else the registry's service_owner", label)
