"""What a plausible time is, defined once for the whole kit.

A time in a snapshot can be true only if it is

- not before RT existed (RT_EPOCH: Request Tracker was first released in 1996), nor
- before the ticket it belongs to was created (RT stamps a ticket's Create transaction
  with its Created time, and every later transaction after it), nor
- after the snapshot was pulled (nothing the pull copied can be later than the pull).

Anything else is a clock that was wrong, a restore, or a hand edit: its true time is
unknown, so no number may be computed from it (review.analysis.quality says which ones
that takes away and tells the user). A transaction without a time (RT's unset date, or not
an RT date) cannot back a number either.
"""

from __future__ import annotations

import pandas as pd

RT_EPOCH = pd.Timestamp("1996-01-01T00:00:00Z")
BEFORE_RT, BEFORE_CREATION, AFTER_PULL = "before-rt", "before-creation", "after-pull"
MISSING = "missing"
REASONS = {  # why, in words that finish "... is ..."
    BEFORE_RT: f"before RT existed ({RT_EPOCH:%Y})",
    BEFORE_CREATION: "before its ticket was created",
    AFTER_PULL: "after the snapshot was pulled",
    MISSING: "not a time (RT's unset date, or not an RT date)",
}


def why_implausible(
    at: pd.Series, created: pd.Series | None, pulled_at: pd.Timestamp | None
) -> pd.Series:
    """Per time, the REASONS key of why it cannot be true, '' when it can (MISSING: NaT).

    `created` is the creation of each time's ticket (None: the times are creations
    themselves); `pulled_at` the snapshot's pull time (None: not recorded, no upper bound).
    """
    reason = pd.Series("", index=at.index, dtype="object")
    if pulled_at is not None:
        reason = reason.mask(at > pulled_at, AFTER_PULL)
    if created is not None:
        reason = reason.mask(at < created, BEFORE_CREATION)
    return reason.mask(at < RT_EPOCH, BEFORE_RT).mask(at.isna(), MISSING)


def describe(reason: pd.Series) -> pd.Series:
    """REASONS keys in words ('' stays '')."""
    return reason.map(REASONS).fillna("")
