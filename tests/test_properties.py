"""Properties that hold for any incident history, checked on random scenarios."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.analysis.metrics import DURATIONS
from review.context import Context
from review.settings.config import load_config
from review.snapshot import DATA_FILES, load_snapshot, read_jsonl, write_snapshot
from scenarios.generate import generate_snapshot

CONFIG = load_config()
SITE = {
    "rtname": "example",
    "queues": [{"name": q} for q in ("ops-help", "dev-web", "dev-identity")],
    "custom_fields": ["Service", "Classification"],
    "staff": [{"name": n, "email": f"{n}@example.edu"} for n in ("ann", "ben", "cat")],
    "customers": [{"name": "cust", "email": "cust@example.org"}],
}
ACTIONS = st.one_of(
    st.builds(lambda by: {"by": by, "reply": "update"}, st.sampled_from(["ann", "ben", "cust"])),
    st.builds(lambda by: {"by": by, "comment": "note"}, st.sampled_from(["ann", "ben"])),
    st.builds(
        lambda who: {"by": "ann", "owner": who}, st.sampled_from(["ann", "ben", "cat", "Nobody"])
    ),
    st.builds(
        lambda q: {"by": "ben", "queue": q},
        st.sampled_from(["ops-help", "dev-web", "dev-identity"]),
    ),
    st.builds(
        lambda s: {"by": "cat", "status": s},
        st.sampled_from(["open", "stalled", "resolved", "rejected"]),
    ),
)
STEP = st.tuples(ACTIONS, st.integers(min_value=0, max_value=4 * 24 * 60))
INCIDENT = st.tuples(
    st.integers(min_value=0, max_value=60 * 24 * 60),
    st.sampled_from(["ops-help", "dev-web"]),
    st.lists(STEP, max_size=12),
)


def write_scenarios(
    directory: Path, incidents: list[tuple[int, str, list[tuple[dict, int]]]]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(yaml.safe_dump(SITE))
    start = datetime(2026, 8, 1, tzinfo=UTC)
    listed = []
    for number, (offset, queue, steps) in enumerate(incidents):
        actions = [{**action, "after": f"{minutes}m"} if minutes else {**action, "after": "1s"}
                   for action, minutes in steps]  # fmt: skip
        actions.append(
            {"by": "cat", "after": "1h", "status": "resolved"}
        )  # every incident ends closed
        listed.append(
            {"key": f"i{number}", "subject": f"incident {number}", "queue": queue, "requestor": "cust",
             "created": (start + timedelta(minutes=offset)).isoformat(), "steps": actions}
        )  # fmt: skip
    (directory / "incidents.yaml").write_text(yaml.safe_dump({"incidents": listed}))


def metrics_of(directory: Path, tmp: Path) -> pd.DataFrame:
    snapshot_dir = generate_snapshot(directory, tmp / "snapshot")
    return Context(load_snapshot(snapshot_dir), CONFIG).metrics


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(incidents=st.lists(INCIDENT, min_size=1, max_size=5))
def test_durations_are_sane(tmp_path_factory, incidents) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("prop")
    write_scenarios(tmp / "scen", incidents)
    m = metrics_of(tmp / "scen", tmp)
    lifetime = m["time_to_resolve_h"]
    for column in [c for c in m.columns if c.endswith(("_h", "_bh"))]:
        assert (m[column].dropna() >= -1e-9).all(), column
    for wall, business in (spec.columns for spec in DURATIONS.values()):
        both = m[[wall, business]].dropna()
        assert (both[business] <= both[wall] + 1e-9).all()
    handed = m.dropna(subset=["time_in_handoff_h"])
    assert (handed["time_in_handoff_h"] <= lifetime[handed.index] + 1e-9).all()
    assert (m["handoff_count"] >= 0).all() and (m["reopen_count"] >= 0).all()
    assert m["resolved_at"].notna().all()
    assert (m["max_update_gap_h"] <= lifetime + 1e-9).all()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(incidents=st.lists(INCIDENT, min_size=2, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_metrics_do_not_depend_on_row_order(tmp_path_factory, incidents, seed) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("order")
    write_scenarios(tmp / "scen", incidents)
    snapshot_dir = generate_snapshot(tmp / "scen", tmp / "snapshot")
    expected = Context(load_snapshot(snapshot_dir), CONFIG).metrics
    rng = random.Random(seed)
    shuffled = {name: read_jsonl(snapshot_dir / name) for name in DATA_FILES}
    for rows in shuffled.values():
        rng.shuffle(rows)
    write_snapshot(
        tmp / "shuffled", *(shuffled[n] for n in DATA_FILES), source="t", query="q", pulled_at="t"
    )
    got = Context(load_snapshot(tmp / "shuffled"), CONFIG).metrics
    pd.testing.assert_frame_equal(got, expected)
