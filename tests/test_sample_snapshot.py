"""The committed sample is exactly what the generator makes from the committed scenarios."""

from pathlib import Path

from review.settings.config import sample_snapshot, source_dir
from review.snapshot import DATA_FILES, MANIFEST, load_snapshot
from scenarios.generate import generate_snapshot


def test_committed_sample_equals_generator_output(tmp_path: Path) -> None:
    fresh = generate_snapshot(source_dir("data/scenarios"), tmp_path / "sample")
    for name in (*DATA_FILES, MANIFEST):
        assert (fresh / name).read_bytes() == (sample_snapshot() / name).read_bytes(), (
            f"data/sample/{name} is stale: run `python -m scenarios.generate`"
        )


def test_sample_reads_without_problems_and_spans_three_months() -> None:
    snapshot = load_snapshot(sample_snapshot())
    assert snapshot.problems == []
    months = set(snapshot.tickets["created"].dt.strftime("%Y-%m"))
    assert months == {"2026-08", "2026-09", "2026-10"}
    assert 60 <= len(snapshot.tickets) <= 100
    assert set(snapshot.tickets["status"]) <= {"resolved", "rejected"}
