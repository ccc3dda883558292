"""ops-help informed: done when the ticket was created in an ops queue or moved into one.

The process's Communication Channels: whatever channel a problem comes in by, the
recipient contacts ops-help. Queues count as ops queues by the config's queues.ops.
"""

from __future__ import annotations

import pandas as pd

from review.analysis import facts, quality
from review.closeout.step import DONE, MISSING, Checklist, pick, rows, step


@step(__doc__, order=30, inputs=("queue", quality.QUEUE_NAMES))
def ops_help(checklist: Checklist, label: str) -> pd.DataFrame:
    ops = list(checklist.config.queues.ops)
    first = facts.at_creation(checklist.audit.segments)["queue"]
    born = first.reindex(checklist.ids).isin(ops)
    ev = checklist.audit.events
    moved = ev.loc[(ev["kind"] == "queue") & ev["new"].isin(ops)]
    moved = moved.groupby("ticket_id")[["txn_id", "at", "new"]].first().reindex(checklist.ids)
    creates = checklist.audit.creates
    created_text = (
        "created in "
        + first.reindex(checklist.ids).fillna("?")
        + " by txn "
        + creates["txn_id"].astype("Int64").astype(str)
    )
    moved_text = (
        "moved into "
        + moved["new"].fillna("")
        + " by txn "
        + moved["txn_id"].astype("Int64").astype(str)
        + " at "
        + facts.iso_utc(moved["at"])
    )
    has_move = moved["txn_id"].notna()
    state = pick([born | has_move], [DONE], checklist.ids).replace("", MISSING)
    evidence = pick(
        [born, has_move, ~born],
        [
            created_text,
            moved_text,
            created_text + f", never in an ops queue ({', '.join(ops)})",
        ],
        checklist.ids,
    )
    return rows(state, evidence, "the ticket's queue history (queues.ops in the config)", label)
