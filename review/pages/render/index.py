"""The index page: every rendered report under the output directory, linked."""

from __future__ import annotations

import html
from pathlib import Path

from review.errors import ReviewError
from review.pages.display import local_time
from review.pages.render.files import write_atomic
from review.pages.render.plan import Inputs
from review.pages.render.run import BatchResult, failed_path
from review.text import visible


def write_index(out: Path, inputs: Inputs, result: BatchResult | None = None) -> Path:
    """`index.html`: every rendered report under `out`, with subjects as plain text.

    Replaced atomically; if it cannot be written, the reason goes to `result.errors`
    (the batch's failures are still reported) and the previous index stays.
    """
    failed = {Path(f.output).resolve(): f for f in (result.failures if result else ())}
    subjects = inputs.snapshot.tickets.set_index("ticket_id")["subject"]

    def esc(text: str) -> str:
        return html.escape(visible(text))

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Incident reviews and reports</title>',
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "td,th{padding:2px 10px;text-align:left}.n{text-align:right}.failed{color:#b00}"
        "</style></head><body>",
        "<h1>Incident reviews and reports</h1>",
        f"<p>Snapshot: {esc(str(inputs.snapshot_dir))}, taken "
        f"{esc(local_time(inputs.snapshot.pulled_at, inputs.config) or 'at an unknown time')}.</p>",
    ]
    support = out / "support-gaps.html"
    if support.is_file():
        parts.append('<p><a href="support-gaps.html">Support-assignment gap report</a></p>')
    for month_dir in sorted((p for p in out.iterdir() if p.is_dir()), reverse=True):
        numbers = {_ticket_number(p) for p in month_dir.glob("incident-*.ipynb")} - {-1}
        notebooks = [month_dir / f"incident-{n}.ipynb" for n in sorted(numbers)]
        monthly = month_dir / "monthly.html"
        if not notebooks and not monthly.is_file():
            continue
        parts.append(f"<h2>{esc(month_dir.name)}</h2>")
        if monthly.is_file():
            parts.append(f'<p><a href="{esc(month_dir.name)}/monthly.html">Monthly report</a></p>')
        parts.append('<table><tr><th class="n">Ticket</th><th>Subject</th><th>Review</th></tr>')
        for notebook in notebooks:
            number = _ticket_number(notebook)
            subject = str(subjects.get(number, ""))
            base = f"{month_dir.name}/{notebook.stem}"
            page = notebook.with_suffix(".html")
            links = []
            if page.is_file():
                links.append(f'<a href="{esc(base)}.html">HTML</a>')
            if notebook.is_file():
                links.append(f'<a href="{esc(base)}.ipynb">notebook</a>')
            review_cell = " · ".join(links)
            if failed_path(notebook).is_file():
                review_cell += f' (<a href="{esc(base)}.failed.ipynb">partial notebook</a>)'
            if notebook.resolve() in failed:
                reason = esc(str(failed[notebook.resolve()]))
                review_cell = f'<span class="failed">failed: {reason}</span> {review_cell}'
            parts.append(
                f'<tr><td class="n">{number}</td><td>{esc(subject)}</td><td>{review_cell}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>")
    target = out / "index.html"
    try:
        write_atomic(target, ("\n".join(parts) + "\n").encode("utf-8"))
    except OSError as exc:
        if result is None:
            raise ReviewError(f"cannot write {target}: {exc.strerror}") from None
        result.errors.append(f"cannot write {target} ({exc.strerror}); the previous one stays")
    return target


def _ticket_number(path: Path) -> int:
    """N of incident-N.ipynb and of incident-N.failed.ipynb; -1 for other names."""
    try:
        return int(path.name.split(".", 1)[0].split("-", 1)[1])
    except (IndexError, ValueError):
        return -1
