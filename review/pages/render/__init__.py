"""Render the notebook templates with papermill: a batch, HTML export, skip-unchanged cache.

A render is a list of jobs (one notebook each). Jobs run in worker processes
(each with its Jupyter kernel) into temp files; the parent puts each job's
outputs in place atomically and records it in the state file. A job that fails
keeps its partial notebook beside the good one (NAME.failed.ipynb) and is
reported with the failing cell, and the others go on. Each output is remembered
with a fingerprint of its inputs (review.snapshot.fingerprint: the incident's rows of the
snapshot, the template's cells, the config's settings, the registry file and
the package's version and source); a job whose fingerprint is unchanged and
whose outputs exist is skipped.

Output layout (under `out`, default ./reports):
    index.html                        links to everything below
    2026-10/incident-1234.ipynb/.html one review per incident, by month opened
    2026-10/incident-1234.failed.ipynb the partial notebook of a failed render, if any
    2026-10/monthly.ipynb/.html       the monthly report
    support-gaps.ipynb/.html          the support-assignment gap report
    .render-state.json                fingerprints of what was rendered
"""

from review.pages.render.files import export_html, html_bytes
from review.pages.render.index import write_index
from review.pages.render.plan import (
    Inputs,
    Job,
    all_jobs,
    incident_jobs,
    load_inputs,
    month_ticket_ids,
    page_job,
    template_path,
)
from review.pages.render.run import (
    KERNEL_NAME,
    STATE_FILE,
    BatchResult,
    Failure,
    Staged,
    batch_lock,
    commit,
    execute_notebook,
    failed_path,
    kernel_environment,
    problems,
    read_state,
    result_lines,
    run_batch,
    run_job,
    summary,
    with_written,
    write_state,
)

__all__ = [
    "KERNEL_NAME", "STATE_FILE", "BatchResult", "Failure", "Inputs", "Job", "Staged",
    "all_jobs", "batch_lock", "commit", "execute_notebook", "export_html", "failed_path",
    "html_bytes", "incident_jobs", "kernel_environment", "load_inputs", "month_ticket_ids",
    "page_job", "problems", "read_state", "result_lines", "run_batch", "run_job", "summary",
    "template_path", "with_written", "write_index", "write_state",
]  # fmt: skip
