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


# --------------------------------------------------------------------------- data that cannot be true

# A time no transaction can have, as RT would write it (or could not): before RT existed, before
# the ticket was created, after the pull, RT's unset date, or not a date at all.
BAD_TIMES = st.one_of(
    st.datetimes(datetime(1970, 1, 1, 0, 0, 1), datetime(1995, 12, 31, 23, 59, 59)).map(
        lambda at: ("absolute", at)
    ),
    st.integers(1, 5 * 365 * 24 * 3600).map(lambda s: ("before-creation", s)),
    st.integers(1, 7000 * 365 * 24 * 3600).map(lambda s: ("after-pull", s)),
    st.just(("text", "1970-01-01T00:00:00Z")),
    st.just(("text", "yesterday")),
)


def _rt_time(at: datetime | pd.Timestamp) -> str:
    return (
        f"{min(pd.Timestamp(at).tz_localize(None), pd.Timestamp('9999-12-31')):%Y-%m-%dT%H:%M:%SZ}"
    )


def _edited(snapshot_dir: Path, tmp: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    rows = {name: read_jsonl(snapshot_dir / name) for name in DATA_FILES}
    edit(rows)
    manifest = load_snapshot(snapshot_dir).manifest
    return write_snapshot(
        tmp / "edited", *(rows[n] for n in DATA_FILES), source="t", query="q",
        pulled_at=manifest["pulled_at"], coverage=manifest.get("coverage"),
    )  # fmt: skip


def _same_or_empty(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Every value is the one computed from good data, or empty: never a different number."""
    assert list(got["ticket_id"]) == list(expected["ticket_id"])
    for column in [c for c in expected.columns if c not in ("subject", "queue")]:
        for ticket, a, b in zip(got["ticket_id"], got[column], expected[column], strict=True):
            if pd.isna(a):
                continue
            assert not pd.isna(b) and (a == b or abs(float(a) - float(b)) < 1e-9), (
                f"ticket {ticket} {column}: {a!r}, from good data {b!r}"
            )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    incidents=st.lists(INCIDENT, min_size=1, max_size=4),
    pick=st.integers(0, 10_000),
    bad=BAD_TIMES,
)
def test_a_time_that_cannot_be_true_never_changes_a_number(  # type: ignore[no-untyped-def]
    tmp_path_factory, incidents, pick, bad
) -> None:
    """Any one transaction stamped with an impossible time: each metric is the one computed
    without the fault or empty (never a negative or a 70-million-hour gap), the ticket is
    named as one whose data cannot back every number, and findings only go, never appear."""
    from review.analysis import quality
    from review.context import open_context

    tmp = tmp_path_factory.mktemp("bad-time")
    write_scenarios(tmp / "scen", incidents)
    good = generate_snapshot(tmp / "scen", tmp / "snapshot")
    snapshot = load_snapshot(good)
    expected = Context(snapshot, CONFIG).metrics
    pulled = snapshot.pulled_at
    created = snapshot.tickets.set_index("ticket_id")["created"]
    victim: dict[str, int] = {}

    def edit(rows: dict[str, list[dict[str, object]]]) -> None:
        txn = rows["transactions.jsonl"][pick % len(rows["transactions.jsonl"])]
        victim["ticket"] = int(str(txn["ObjectId"]))
        kind, value = bad
        if kind == "absolute":
            txn["Created"] = _rt_time(value)
        elif kind == "before-creation":
            txn["Created"] = _rt_time(created[victim["ticket"]] - pd.Timedelta(seconds=value))
        elif kind == "after-pull":
            txn["Created"] = _rt_time(pulled + pd.Timedelta(seconds=value))
        else:
            txn["Created"] = value

    edited = _edited(good, tmp, edit)
    got = Context(load_snapshot(edited), CONFIG).metrics
    _same_or_empty(got, expected)
    for column in [c for c in got.columns if c.endswith(("_h", "_bh"))]:
        assert (got[column].dropna() >= -1e-9).all(), column
    context = open_context(edited)
    lost = quality.lost_inputs(context.snapshot, CONFIG)
    ignored = {"EmailRecord", "CommentEmailRecord", "SetWatcher"}
    types = {t["ObjectId"]: t["Type"] for t in read_jsonl(edited / "transactions.jsonl")}
    if types.get(str(victim["ticket"])) not in ignored:
        assert victim["ticket"] in set(lost["ticket_id"]) or got.equals(expected)
    before = set(map(tuple, open_context(good).findings[["ticket_id", "rule"]].to_numpy()))
    after = set(map(tuple, context.findings[["ticket_id", "rule"]].to_numpy()))
    assert after <= before


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    incidents=st.lists(INCIDENT, min_size=1, max_size=4),
    table=st.sampled_from(["queues.jsonl", "users.jsonl"]),
    pick=st.integers(0, 10_000),
)
def test_an_unknown_queue_or_user_never_changes_a_number(  # type: ignore[no-untyped-def]
    tmp_path_factory, incidents, table, pick
) -> None:
    """Any one queue or user left out of the snapshot's lists (deleted, or hidden from the
    pull's account): each metric is the one computed with it, or empty, never a clean 0."""
    tmp = tmp_path_factory.mktemp("unknown")
    write_scenarios(tmp / "scen", incidents)
    good = generate_snapshot(tmp / "scen", tmp / "snapshot")
    expected = Context(load_snapshot(good), CONFIG).metrics

    def edit(rows: dict[str, list[dict[str, object]]]) -> None:
        rows[table].pop(pick % len(rows[table]))

    got = Context(load_snapshot(_edited(good, tmp, edit)), CONFIG).metrics
    _same_or_empty(got, expected)
