"""Temporary fix without a follow-up: Resolution Type is Temporary and no link leads to a
follow-up that is open or was resolved permanently.

The process's Urgent Response, step 5: "If the resolution is temporary, permanent resolution
must be addressed." A link to a ticket that is still open (or outside RT) or that was
resolved Permanent is what the rule asks for; evidence says when the Resolution Type was set
and names each linked follow-up that was closed without a permanent resolution. A follow-up
ticket filed by `review follow-ups` satisfies it.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts
from review.closeout.audit import Audit, join_evidence
from review.closeout.rule import rule


@rule(
    __doc__,
    "temporary-fix-no-followup",
    order=40,
    severity="medium",
    action="Service owner addresses the permanent resolution: open or hand off a follow-up ticket, "
    "link it, and decide whether to stay in urgent mode or shift to hand-off.",
    followup_satisfies=True,
    reads=("resolution_type",),
)
def temporary_fix_no_followup(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    config = audit.config
    temporary = inc["resolution"] == config.resolution.temporary
    links = audit.snapshot.links
    links = links.loc[links["ticket_id"].isin(inc.index[temporary])]
    target = pd.to_numeric(links["target"].where(~links["external"]), errors="coerce")
    tickets = audit.snapshot.tickets.set_index("ticket_id")
    target_status = tickets["status"].reindex(target).to_numpy()
    target_closed = pd.Series(target_status, index=links.index).isin(audit.inactive)
    target_resolution = pd.Series(
        facts.field_values(audit.snapshot, config.fields.resolution_type, target).to_numpy(),
        index=links.index,
    ).fillna("")
    dead = target_closed & (target_resolution != config.resolution.permanent)
    good = links.loc[~dead, "ticket_id"].unique()
    bad = links.loc[dead].assign(resolution=target_resolution[dead])
    bad = bad.sort_values(["ticket_id", "target"], kind="stable")
    bad_text = (
        "follow-up #"
        + bad["target"].astype(str)
        + " ("
        + bad["ref"]
        + ") is closed with Resolution Type '"
        + bad["resolution"]
        + f"', not {config.resolution.permanent}"
    )
    bad_by_ticket = (
        pd.DataFrame({"ticket_id": bad["ticket_id"], "evidence": bad_text}).pipe(join_evidence)
        if len(bad)
        else pd.Series(dtype="object")
    )
    flagged = temporary & ~inc.index.isin(good)
    head = (
        f"custom field '{config.fields.resolution_type}' is {config.resolution.temporary} ("
        + audit.field_set_by(config.fields.resolution_type)
        + ")"
    )
    tail = bad_by_ticket.reindex(audit.ids).fillna("no link to a follow-up ticket")
    text = (head + "; " + tail)[flagged]
    return pd.DataFrame({"ticket_id": text.index, "evidence": text.to_numpy()})
