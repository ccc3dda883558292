"""Communication channels undefined: the registry has no announce list or no support list for
the service, or the ticket had nobody on its Cc beyond the requestors.

The process's Close Out: "If communications channels to stakeholders (announce or support
lists) were ill-defined or incomplete, the service owner must correct those with sponsors and
managers." Evidence names the registry entry that lacks a list, and the requestors when the
ticket's Cc held nobody else (no Recipient List reached). Senior staff act on it once per
service.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.closeout.audit import NO_SERVICE, Audit
from review.closeout.rule import rule
from review.snapshot import join_per_key


@rule(
    __doc__,
    "comms-channels-undefined",
    order=30,
    severity="medium",
    scope="service",
    inputs=(quality.field_input("service"),),
    action="Service owner corrects the announce and support lists with the service's sponsors and "
    "managers, records them in the registry, and Cc's them on incidents.",
)
def comms_channels_undefined(audit: Audit) -> pd.DataFrame:
    inc = audit.inc
    announce = inc["reg_announce_lists"].str.len().fillna(0) > 0
    support = inc["reg_support_lists"].str.len().fillna(0) > 0
    text = pd.Series("", index=audit.ids, dtype="object")
    registered = inc["registered"]
    text = text.mask(registered & ~announce & support, audit.entry + " has no announce_lists")
    text = text.mask(registered & announce & ~support, audit.entry + " has no support_lists")
    text = text.mask(
        registered & ~announce & ~support,
        audit.entry + " has no announce_lists and no support_lists",
    )
    text = text.mask(
        ~registered,
        "no registry entry for '"
        + inc["service"].where(inc["service"] != "", NO_SERVICE)
        + "', so no announce or support list is recorded",
    )
    watchers = audit.snapshot.watchers
    requestors = facts.requestors(watchers)
    has_cc = pd.Series(True, index=facts.extra_cc(watchers)["ticket_id"].unique())
    lonely = ~has_cc.reindex(audit.ids, fill_value=False)
    ordered = requestors.sort_values(["ticket_id", "user"])
    named = join_per_key(ordered["ticket_id"], ordered["user"], ", ")
    named = named.reindex(audit.ids).fillna("none")
    cc_text = "nobody on the ticket's Cc beyond the requestors (" + named + ")"
    text = text.mask(lonely & (text != ""), text + "; " + cc_text)
    text = text.mask(lonely & (text == ""), cc_text)
    found = text.loc[text != ""]
    return pd.DataFrame({"ticket_id": found.index, "evidence": found.to_numpy()})
