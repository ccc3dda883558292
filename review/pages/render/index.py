"""The index page: every rendered report under the output directory, linked."""

from __future__ import annotations

import html
from pathlib import Path
from typing import get_args

from review import private
from review.errors import ReviewError
from review.pages import library
from review.pages.page import Page, Per
from review.pages.render.files import write_atomic
from review.pages.render.plan import Inputs
from review.pages.render.run import BatchResult, Failure, failed_path
from review.pages.reports import PAGES
from review.pages.times import local_time
from review.text import visible


def write_index(out: Path, inputs: Inputs, result: BatchResult | None = None) -> Path:
    """`index.html`, the review library (review.pages.library): every incident of the
    snapshot with its review's status and its pages, the months covered, the reports; the
    pages as PAGES declares them (the snapshot's own first, in their order).

    Replaced atomically; if it cannot be written, the reason goes to `result.errors`
    (the batch's failures are still reported) and the previous index stays. Then every
    page under `out` gets the modes `[paths] share_reports` asks for (review.private).
    """
    failed = {Path(f.output).resolve(): f for f in (result.failures if result else ())}
    context = inputs.context
    frame = library.library_frame(context, out)
    pages = {per: [p for p in PAGES.values() if p.per == per] for per in get_args(Per)}
    links, extra = _pages(out, failed, set(frame["ticket_id"].astype(int)), pages["incident"])
    taken = local_time(inputs.snapshot.pulled_at, inputs.config) or "at an unknown time"
    head = [
        "<h1>Incident reviews and reports</h1>",
        f"<p>Snapshot: {_esc(str(inputs.snapshot_dir))}, taken {_esc(taken)}.</p>",
    ]
    for page in pages["snapshot"]:
        html_page = Path(page.where()).with_suffix(".html").as_posix()
        if (out / html_page).is_file():
            head.append(f'<p><a href="{_esc(html_page)}">{_esc(page.title)}</a></p>')
    months = library.months_frame(inputs.snapshot, inputs.config, context.metrics)
    body = library.months_html(months, inputs.snapshot, inputs.config, out, pages["month"])
    body += library.table_html(frame, inputs.config, links, extra)
    target = out / "index.html"
    try:
        write_atomic(target, (library.page_html(head, body) + "\n").encode("utf-8"))
    except OSError as exc:
        if result is None:
            raise ReviewError(f"cannot write {target}: {exc.strerror}") from None
        result.errors.append(f"cannot write {target} ({exc.strerror}); the previous one stays")
    private.settle(out, inputs.config.paths.share_reports)
    return target


def _esc(text: str) -> str:
    return html.escape(visible(text))


def _pages(
    out: Path, failed: dict[Path, Failure], known: set[int], pages: list[Page]
) -> tuple[dict[int, str], list[str]]:
    """Each rendered incident's Pages cell (HTML, notebook, partial notebook, the failure),
    and a row for each one whose incident is not in this snapshot."""
    cells: dict[int, str] = {}
    extra = []
    for page, month_dir in (
        (page, month_dir)
        for page in pages
        for month_dir in sorted((p for p in out.iterdir() if p.is_dir()), reverse=True)
    ):
        prefix = page.output.rsplit("/", 1)[-1].partition("{ticket}")[0]  # "incident-"
        numbers = {_ticket_number(p, prefix) for p in month_dir.glob(f"{prefix}*.ipynb")} - {-1}
        for number in sorted(numbers):
            notebook = out / page.where(number, month_dir.name)
            base = _esc(f"{month_dir.name}/{notebook.stem}")
            links = []
            if notebook.with_suffix(".html").is_file():
                links.append(f'<a href="{base}.html">review</a>')
            if notebook.is_file():
                links.append(f'<a href="{base}.ipynb">notebook</a>')
            cell = " · ".join(links)
            if failed_path(notebook).is_file():
                cell += f' (<a href="{base}.failed.ipynb">partial notebook</a>)'
            if notebook.resolve() in failed:
                reason = _esc(str(failed[notebook.resolve()]))
                cell = f'<span class="failed">failed: {reason}</span> {cell}'
            cells[number] = " · ".join(c for c in (cells.get(number), cell) if c)
            if number not in known:
                extra.append(
                    f'<tr data-review=""><td class="n" data-sort="{number}">{number}</td>'
                    f'<td colspan="11">not in this snapshot (rendered from another, '
                    f"{_esc(month_dir.name)})</td><td>{cell}</td></tr>"
                )
    return cells, extra


def _ticket_number(path: Path, prefix: str) -> int:
    """N of PREFIXN.ipynb and of PREFIXN.failed.ipynb (incident-N...); -1 for other names."""
    try:
        return int(path.name.split(".", 1)[0].removeprefix(prefix))
    except ValueError:
        return -1
