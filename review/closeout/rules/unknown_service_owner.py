"""Service owner unknown: Operations' records (the registry) name no owner for the service,
or the service is not in the registry at all.

The process's Close Out: "If the service owner was unknown or vaguely defined, escalate
to senior staff and update Operations' records." The registry is those records: an entry
without a service_owner is a gap even when a ticket's Service Owner field names someone
(the evidence then quotes it, for senior staff to confirm and record), so the support-gap
report never shows a service's owner as unknown without this finding. Evidence names the
registry entry (file:line) that has no service_owner, or says that the service (or, when
the Service field is empty, the ticket's queue) is in no registry entry. Senior staff act
on it once per service.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import quality
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
    inputs=(quality.QUEUE_NAMES, quality.field_input("service")),
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
    ownerless = inc["registered"] & (inc["reg_service_owner"].fillna("") == "")
    text = text.mask(
        ownerless,
        f"custom field '{field.service_owner}' is empty and "
        + audit.entry
        + " has no service_owner",
    )
    text = text.mask(
        ownerless & (inc["cf_owner"] != ""),
        audit.entry
        + f" has no service_owner (custom field '{field.service_owner}' says '"
        + inc["cf_owner"]
        + "': confirm it and record it)",
    )
    found = text.loc[text != ""]
    return pd.DataFrame({"ticket_id": found.index, "evidence": found.to_numpy()})
