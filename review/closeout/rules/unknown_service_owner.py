"""Service owner unknown: the service has no owner in RT's Service Owner field or in the
registry, or the service is not in the registry at all.

The process's Close Out: "If the service owner was unknown or vaguely defined, escalate
to senior staff and update Operations' records." The owner is read from RT's Service Owner
field, else from the service's registry entry. Evidence names the empty field and the
registry entry (file:line) that has no service_owner, or says that the service (or, when
the Service field is empty, the ticket's queue) is in no registry entry. Senior staff act
on it once per service.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.audit import SENIOR_STAFF, Audit
from review.closeout.rule import rule


@rule(
    __doc__,
    "unknown-service-owner",
    order=10,
    severity="high",
    scope="service",
    action="Escalate to senior staff to name the service owner, then update Operations' records "
    "(the service registry).",
    action_owner=SENIOR_STAFF,
)
def unknown_service_owner(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    field = audit.config.fields
    unregistered = ~inc["registered"]
    no_field = inc["service"] == ""
    text = pd.Series("", index=audit.ids, dtype="object")
    text = text.mask(
        unregistered & ~no_field,
        "service '" + inc["service"] + f"' is not in the registry {audit.where}",
    )
    text = text.mask(
        unregistered & no_field,
        f"custom field '{field.service}' is empty and queue '"
        + inc["queue"]
        + f"' is claimed by no service in {audit.where}",
    )
    ownerless = inc["registered"] & (inc["owner_name"] == "")
    text = text.mask(
        ownerless,
        f"custom field '{field.service_owner}' is empty and "
        + audit.entry
        + " has no service_owner",
    )
    found = text.loc[text != ""]
    return pd.DataFrame({"ticket_id": found.index, "evidence": found.to_numpy()})
