"""A review notebook finds its review file wherever the render was started from.

`review render 10 --out reports` (or the default `[paths] reports`, a relative path, run from
cron in another folder) gave the notebook `written = "reports/reviews/incident-10.json"`,
which its kernel reads from the notebook's own folder (reports/2026-08/): not there, so the
page showed none of the team's key moments and no review status, without a word.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from review.pages import render as rendering
from review.pages import written
from review.pages.reports import incident_review_data
from review.settings.config import sample_snapshot


def test_the_review_file_is_found_from_the_notebooks_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inputs = rendering.load_inputs(sample_snapshot(), None)
    job = rendering.incident_jobs(inputs, [10], Path("reports"), html=False)[0]
    account = tmp_path / "reports" / "reviews" / "incident-10.json"
    assert job.parameters["written"] == str(account)
    written.save(account, written.WrittenReview(10, (written.Section(
        "moments", "- 245: Web team paged\n- 99999: Vendor called"),)))  # fmt: skip

    job.output.parent.mkdir(parents=True)
    os.chdir(job.output.parent)  # where the kernel runs the notebook
    review = incident_review_data(sample_snapshot(), 10, written=job.parameters["written"])

    assert review.team_moments == [(245, "Web team paged"), (99999, "Vendor called")]
