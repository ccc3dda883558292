"""Support team ad hoc: the service's support assignment is temporary or unassigned (or
unrecorded), or someone who owned the ticket is not in the service's support team, tech leads or
Operations staff.

The process's Close Out: "If specialist development staff with the right skills were
undefined or only temporarily assigned, service owner and appropriate managers to establish
permanent support responsibilities. Operations needs a record of these assignments."
Evidence names the registry entry's support_assignment, or each person who owned the ticket
(at creation or by a Set/Owner transaction) and the support team they are not in. Operations
staff may own a ticket during triage without counting. Senior staff act on it once per
service. The action says which it is: a weak assignment is made permanent; on a permanent
team, the people outside it who owned incidents join it or hand such incidents to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from review.analysis import facts, quality
from review.analysis.facts import AT_CREATION
from review.analysis.timeline import NOBODY
from review.closeout.audit import NO_SERVICE, Audit, join_evidence, txn_text
from review.closeout.rule import rule

# the support assignment itself is temporary, unassigned or unrecorded
ACTION = (
    "Service owner and managers establish permanent support responsibilities; Operations "
    "records them in the registry (support_team, support_assignment: permanent)."
)
# the assignment is permanent, but someone outside the team owned the incident
OUTSIDERS_ACTION = (
    "Someone outside the service's support team owned the incident: the service owner and "
    "managers either make them part of the permanent support team (Operations records it in "
    "the registry) or see that the team takes such incidents."
)


@rule(
    __doc__,
    "ad-hoc-support-team",
    order=20,
    severity="medium",
    scope="service",
    action=ACTION,
    inputs=("owner", quality.USER_NAMES, quality.field_input("service")),
)
def ad_hoc_support_team(audit: Audit) -> pd.DataFrame:
    parts = [*_unrecorded(audit), _outsiders(audit)]
    found = pd.concat(parts, ignore_index=True).sort_values(["ticket_id", "order"], kind="stable")
    out = join_evidence(found).reset_index()
    # the assignment itself is weak: establish permanent support; else the team is permanent
    # and the finding is about the people outside it who owned the incident
    weak_ticket = found.groupby("ticket_id")["order"].min().reindex(out["ticket_id"]) == 0
    return out.assign(action=np.where(weak_ticket.to_numpy(), ACTION, OUTSIDERS_ACTION))


def _unrecorded(audit: Audit) -> list[pd.DataFrame]:
    """Incidents whose service's support assignment is weak (temporary, unassigned) or not
    recorded at all (no registry entry)."""
    inc = audit.inc
    assignment = inc["reg_support_assignment"]
    weak = inc["registered"] & assignment.isin(["temporary", "unassigned"])
    return [
        pd.DataFrame(
            {
                "ticket_id": inc.index[weak],
                "order": 0,
                "evidence": ("support_assignment is " + assignment + " in " + audit.entry)[
                    weak
                ].to_numpy(),
            }
        ),
        pd.DataFrame(
            {
                "ticket_id": inc.index[~inc["registered"]],
                "order": 0,
                "evidence": (
                    "no registry entry for '"
                    + inc["service"].where(inc["service"] != "", NO_SERVICE)
                    + "', so no support assignment is recorded"
                )[~inc["registered"]].to_numpy(),
            }
        ),
    ]


def _owners(audit: Audit) -> pd.DataFrame:
    """Who owned each registered incident, at creation or by a Set/Owner change: ticket_id,
    txn_id (AT_CREATION for the owner at creation), at, person, service."""
    inc = audit.inc
    owners = audit.events.loc[
        facts.owner_set(audit.events), ["ticket_id", "txn_id", "at", "new"]
    ].rename(columns={"new": "person"})
    first = facts.at_creation(audit.segments).reset_index()
    first = first.loc[first["owner"].notna() & (first["owner"] != NOBODY)]
    initial = pd.DataFrame(
        {"ticket_id": first["ticket_id"], "txn_id": AT_CREATION, "at": first["start"]},
    ).assign(person=first["owner"].to_numpy())
    owners = pd.concat([initial, owners], ignore_index=True)
    owners = owners.loc[owners["ticket_id"].isin(inc.index[inc["registered"]])]
    return owners.join(inc[["service"]], on="ticket_id")


def _outsiders(audit: Audit) -> pd.DataFrame:
    """Owners who are neither in their service's support team or tech leads nor Operations
    staff, with how they came to own the incident."""
    owners = _owners(audit)
    allowed = pd.DataFrame(
        [
            (s.service, person)
            for s in audit.registry.services
            for person in (*s.support_team, *s.tech_leads)
        ],
        columns=["service", "person"],
    ).drop_duplicates()
    owners = owners.merge(allowed, on=["service", "person"], how="left", indicator=True)
    outsiders = owners.loc[
        (owners["_merge"] == "left_only") & ~owners["person"].isin(audit.registry.operations_staff)
    ].sort_values(["ticket_id", "at", "txn_id"], kind="stable")
    how = np.where(
        outsiders["txn_id"] == AT_CREATION,
        "owner at creation",
        "owner set by " + txn_text(outsiders["txn_id"].clip(lower=0), outsiders["at"]),
    )
    team = audit.inc["reg_support_team"].reindex(outsiders["ticket_id"]).str.join(", ")
    entry = audit.entry.reindex(outsiders["ticket_id"])
    return pd.DataFrame(
        {
            "ticket_id": outsiders["ticket_id"].to_numpy(),
            "order": 1,
            "evidence": (
                outsiders["person"].to_numpy()
                + " owned it ("
                + how
                + ") but is not in the support team ["
                + team.to_numpy()
                + "] of "
                + entry.to_numpy()
            ),
        }
    )
