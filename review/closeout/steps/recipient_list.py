"""Recipient List and Help Desk in the loop: done when someone beyond the requestors is on the
ticket's Cc and the Help Desk list is a watcher.

The process's Communication Channels: the Tech Lead defines a Recipient List and keeps the
Help Desk in the loop. Not observable when the registry names no Help Desk list (the
process's Open Question 2).
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts
from review.closeout.rules.comms_channels_undefined import comms_channels_undefined
from review.closeout.step import DONE, MISSING, UNSEEN, Checklist, pick, rows, step
from review.snapshot import join_per_key


@step(__doc__, order=50, reports=(comms_channels_undefined,))
def recipient_list(checklist: Checklist, label: str) -> pd.DataFrame:
    inc = checklist.inc
    helpdesk = inc["reg_helpdesk_list"].fillna("").astype(str)
    helpdesk = helpdesk.where(helpdesk != "", checklist.audit.registry.helpdesk_list)
    cc = facts.extra_cc(checklist.watchers)
    cc_names = join_per_key(cc["ticket_id"], cc["user"], ", ").reindex(checklist.ids)
    has_cc = cc_names.notna()
    known = helpdesk != ""
    on = checklist.on_watchers(helpdesk) & known
    state = pick(
        [~has_cc, known & ~on, ~known, on], [MISSING, MISSING, UNSEEN, DONE], checklist.ids
    )
    cc_text = ("Cc: " + cc_names.fillna("")).where(
        has_cc, "nobody on the ticket's Cc beyond the requestors"
    )
    help_text = pick(
        [on, known & ~on, ~known],
        [
            "; Help Desk list " + helpdesk + " is a watcher",
            "; Help Desk list " + helpdesk + " is not a watcher",
            "; the Help Desk list is not in the registry",
        ],
        checklist.ids,
    )
    how = pd.Series(
        "the ticket's Cc watchers; the registry's helpdesk_list on Cc or AdminCc",
        index=checklist.ids,
    ).mask(
        ~known,
        "set helpdesk_list in the registry (the process's Open Question 2) "
        "and Cc that address on incidents",
    )
    return rows(state, cc_text + help_text, how, label)
