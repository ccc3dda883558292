"""Hours that do not depend on how a stretch is cut or what else was derived with it.

Durations summed over state stretches (time in hand-off, paused time) are summed in whole
microseconds and made hours once; single durations are one difference made hours once. So a
number is the correctly rounded hours of its exact duration, the same alone or in a batch.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review import derive
from review.context import Context
from review.settings.calendar import BusinessClock
from review.settings.config import load_config
from review.snapshot import load_snapshot
from scenarios.generate import generate_snapshot
from tests.test_derive import derived

SAMPLE = Path(__file__).parent.parent / "data" / "sample"
SITE = Path(__file__).parent.parent / "data" / "scenarios" / "site.yaml"
HOURS = [
    "time_to_triage_h", "time_to_triage_bh", "time_in_handoff_h", "time_in_handoff_bh",
    "time_to_resolve_h", "time_to_resolve_bh", "max_update_gap_h",
]  # fmt: skip

# Ticket 10 of the sample, and the same without the owner change that cuts its first stay
# in a developer queue in two. Mon 2026-08-10 (EDT: business hours 13:00-21:00Z): dev-web
# 14:00-14:05Z (5 min) and 14:05-16:10Z (125 min) under two owners, back in ops-help, then
# dev-identity Tue 13:40-19:30Z (350 min): 480 minutes, 8 hours exactly, all within hours.
# As floats 5/60 + 125/60 + 350/60 is 7.999999999999999, while 130/60 + 350/60 is 8.0.
CUT = """
incidents:
  - key: {key}
    subject: Portal login loops back to the sign-in page
    created: 2026-08-10T13:30:00Z
    queue: ops-help
    requestor: fay
    steps:
      - {{at: 2026-08-10T13:40:00Z, by: dave, owner: dave}}
      - {{at: 2026-08-10T14:00:00Z, by: dave, queue: dev-web}}
{cut}      - {{at: 2026-08-10T16:10:00Z, by: walt, queue: ops-help}}
      - {{at: 2026-08-11T13:40:00Z, by: ivan, queue: dev-identity}}
      - {{at: 2026-08-11T19:30:00Z, by: ivan, status: resolved}}
"""


@pytest.mark.parametrize("cut", [True, False])
def test_time_in_handoff_is_the_same_however_the_stay_is_cut(tmp_path: Path, cut: bool) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(SITE, scenarios / "site.yaml")
    owner = "      - {at: 2026-08-10T14:05:00Z, by: dave, owner: walt}\n" if cut else ""
    (scenarios / "cut.yaml").write_text(CUT.format(key="cut", cut=owner))
    snapshot = load_snapshot(generate_snapshot(scenarios, tmp_path / "snap"))
    row = Context(snapshot, load_config(None)).metrics.iloc[0]
    assert row["time_in_handoff_h"] == 8.0  # exactly: 7.999999999999999 summed per stretch
    assert row["time_in_handoff_bh"] == 8.0


def test_the_sample_hours_are_their_exact_durations_correctly_rounded() -> None:
    metrics = Context(load_snapshot(SAMPLE), load_config(None)).metrics.set_index("ticket_id")
    # ticket 10 above; 51: dev-storage 20 min + 6 h 20 min = 400 min = 20/3 h; 59: dev-web
    # 18:45Z-17:00Z next day = 22 h 15 min wall minus 5 min in ops-help = 1330 min = 133/6 h
    # (business: Mon 14:45-17:00 EDT and Tue 09:00-13:00 less 5 min = 370 min = 37/6 h)
    assert metrics.loc[10, "time_in_handoff_h"] == 8.0
    assert metrics.loc[51, "time_in_handoff_h"] == 400 / 60 == 6.666666666666667
    assert metrics.loc[59, "time_in_handoff_h"] == 1330 / 60 == 22.166666666666668
    assert metrics.loc[59, "time_in_handoff_bh"] == 370 / 60 == 6.166666666666667


def exact(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("ticket_id").sort_index()[HOURS]


def test_an_incident_alone_and_in_any_batch_has_bit_identical_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole sample in one pass, month parts in batches of about a month, and each
    incident derived alone (with what it links to): every hour the same to the last bit."""
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    config = load_config(None)
    snapshot = load_snapshot(SAMPLE)
    whole = exact(Context(snapshot, config).metrics)
    monkeypatch.setattr(derive, "BATCH", 300)  # about one month of the sample a batch
    pd.testing.assert_frame_equal(exact(derived(SAMPLE, config).metrics), whole, check_exact=True)
    for ticket in (10, 51, 59, 6, 28):  # the handed-off ones, cut in several stretches
        alone = exact(Context(snapshot.around([ticket]), config).metrics).loc[[ticket]]
        pd.testing.assert_frame_equal(alone, whole.loc[[ticket]], check_exact=True)


def test_business_time_adds_up_exactly_however_an_interval_is_cut() -> None:
    """Random cuts of a week (seconds, holidays, a DST change): the pieces' working time adds
    up to the whole's in integers, so hours made from the sum are the whole's hours."""
    clock = BusinessClock(load_config(None).calendar)
    rng = np.random.default_rng(7)
    start, end = pd.Timestamp("2026-10-29T11:17:03Z"), pd.Timestamp("2026-11-04T23:59:59Z")
    span = int((end - start).total_seconds())
    for _ in range(50):
        cuts = np.sort(rng.integers(0, span, size=int(rng.integers(1, 40))))
        edges = pd.Series(start + pd.to_timedelta(np.r_[0, cuts, span], unit="s"))
        pieces = clock.micros_between(edges.iloc[:-1], edges.iloc[1:].reset_index(drop=True))
        whole = clock.micros_between(edges.iloc[[0]], edges.iloc[[-1]].reset_index(drop=True))
        # Thu 29 Oct from 07:17 EDT (before opening), Fri, Mon 2 Nov (EST now), Tue, and Wed
        # to 18:59 EST (after closing): five whole working days
        assert pieces.sum() == whole[0] == 40 * 3600 * 1_000_000
