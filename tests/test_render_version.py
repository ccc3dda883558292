"""One batch reads one snapshot version: a pull that swaps the snapshot while a batch
renders does not mix two versions; the kernels read the derived cache the parent made."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from review.context import derived_dir, open_context
from review.errors import SnapshotError
from review.pages import render as rendering
from review.settings.config import load_config, sample_snapshot
from review.snapshot import DATA_FILES, read_jsonl, read_manifest, write_snapshot
from tests.render_scenario import HOSTILE_TICKET, LONG_TICKET, make_snapshot

SECOND = "SECOND VERSION of the snapshot"


@pytest.fixture
def linked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A symlink to the scenario snapshot, as a nightly pull keeps one current."""
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    link = tmp_path / "current"
    link.symlink_to(make_snapshot(tmp_path / "scenario"))
    return link


def pull_second_version(link: Path) -> None:
    """What `review pull` does to the link: the same tickets, every subject changed."""
    rows = {name: read_jsonl(link / name) for name in DATA_FILES}
    tickets, transactions, queues, users = rows.values()
    for ticket in tickets:
        ticket["Subject"] = SECOND
    manifest = read_manifest(link)
    write_snapshot(
        link, tickets, transactions, queues, users,
        source=manifest["source"], query=manifest["query"],
        pulled_at=manifest["pulled_at"], coverage=manifest.get("coverage"),
    )  # fmt: skip


def title(notebook: Path) -> str:
    """The text of the first outputs (the review's heading), whatever their kind."""
    node = nbformat.read(notebook, as_version=4)
    outputs = [o for c in node.cells[:3] for o in c.get("outputs", [])]
    return " ".join(
        [str(o.get("text", "")) for o in outputs]
        + [str(v) for o in outputs for v in o.get("data", {}).values()]
    )


@pytest.mark.slow
def test_a_pull_during_the_batch_does_not_mix_versions(linked: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    inputs = rendering.load_inputs(linked, None)
    first_subjects = inputs.snapshot.tickets.set_index("ticket_id")["subject"]
    jobs = rendering.incident_jobs(inputs, [HOSTILE_TICKET, LONG_TICKET], out, html=False)
    pull_second_version(linked)  # after the parent read it, before any kernel starts
    assert linked.is_symlink()
    assert {t["Subject"] for t in read_jsonl(linked / "tickets.jsonl")} == {SECOND}
    result = rendering.run_batch(jobs, out, workers=2)
    assert result.ok, rendering.result_lines(result)
    for ticket in (HOSTILE_TICKET, LONG_TICKET):
        text = title(out / "2026-10" / f"incident-{ticket}.ipynb")
        assert SECOND not in text
        assert f"Ticket {ticket}: " in text and first_subjects[ticket][:20] in text


def test_a_kernel_without_its_derived_cache_says_so_or_refuses_a_new_version(
    linked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(None)
    expected = derived_dir(Path(linked).resolve(), config)
    context = open_context(linked.resolve(), None, tickets={HOSTILE_TICKET}, derived=expected)
    assert context.snapshot.tickets["ticket_id"].tolist() == [HOSTILE_TICKET]
    err = capsys.readouterr().err
    assert err == f"derived cache {expected} is missing: deriving from the snapshot\n"
    pull_second_version(linked)
    with pytest.raises(SnapshotError, match="changed since this render began"):
        open_context(linked.resolve(), None, tickets={HOSTILE_TICKET}, derived=expected)


def test_follow_ups_are_read_from_the_version_the_batch_read(tmp_path: Path) -> None:
    """The follow-ups file is read at render time: a swapped one is refused, not mixed in."""
    from review.closeout.followups import read_followups
    from review.snapshot import load_snapshot
    from tests.test_followups import ticket

    rows = [read_jsonl(sample_snapshot() / name) for name in DATA_FILES]
    real = tmp_path / "pulled"
    link = tmp_path / "current"
    link.symlink_to(real)

    def pull(status: str) -> None:
        followups = [ticket(7, "[followup:not-validated:ticket/9] x", status=status)]
        write_snapshot(link, *rows, source="x", query="q", pulled_at="2026-11-01T06:00:00Z",
                       followups=followups)  # fmt: skip

    pull("open")
    snapshot = load_snapshot(link.resolve())
    first = read_followups(snapshot.path, snapshot.manifest)
    assert first is not None and first["status"].tolist() == ["open"]
    pull("resolved")
    with pytest.raises(SnapshotError, match="was replaced since the rest of the snapshot was read"):
        read_followups(snapshot.path, snapshot.manifest)
    again = read_followups(snapshot.path)  # a new command reads the new version
    assert again is not None and again["status"].tolist() == ["resolved"]
