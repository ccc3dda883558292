"""The review library: the index page as the list a team works from.

One row per incident of the snapshot (and per review page rendered from another one):
its service, classification, RT status, time to resolve, close-out findings, follow-ups
still open and its review's status (missing, draft, in review, final), how long the
review has waited and what changed since sign-off, with links to its pages. Above it, the
months the snapshot covers, each with its incidents and monthly report, an empty month
said in words.

The page sorts (click a column's header) and filters (words, review status) in the
browser with a small inline script and no outside request: a Content-Security-Policy
allows that one script (by its hash) and nothing else to run or load. Ticket text is
escaped and shown as text; the script only moves rows and hides them.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from review.closeout.followups import read_followups
from review.context import Context
from review.pages import signoff
from review.pages.page import Page
from review.pages.times import duration_text, local_time
from review.settings.config import Config
from review.settings.months import month_of, month_span
from review.snapshot import Snapshot, covers
from review.text import unbroken, visible

COLUMNS = [
    "ticket_id", "month", "opened_at", "subject", "service", "classification", "status",
    "time_to_resolve_h", "findings", "followups_open", "review", "review_waited_days",
    "review_signed", "review_note",
]  # fmt: skip
REVIEWS = ("missing", "draft", "in review", "final")


def library_frame(context: Context, out: Path) -> pd.DataFrame:
    """One row per incident (COLUMNS), newest first: what the library lists."""
    snapshot, config, metrics, findings = (
        context.snapshot, context.config, context.metrics, context.findings
    )  # fmt: skip
    base = metrics[
        ["ticket_id", "opened_at", "resolved_at", "subject", "service", "classification",
         "time_to_resolve_h"]
    ].copy()  # fmt: skip
    ids = base["ticket_id"].astype("int64")
    base["month"] = month_of(base["opened_at"], config).to_numpy()
    base["status"] = ids.map(snapshot.tickets.set_index("ticket_id")["status"]).to_numpy()
    counted = findings.groupby("ticket_id").size()
    base["findings"] = ids.map(counted).fillna(0).astype("int64").to_numpy()
    base["followups_open"] = ids.map(open_followups(snapshot, config)).fillna(0).astype("int64")
    data = context.review_data.set_index("ticket_id")["data"]
    states = signoff.review_states(base, out, data, snapshot.pulled_at)
    frame = base.merge(states, on="ticket_id", how="left")
    return frame.sort_values(["opened_at", "ticket_id"], ascending=False)[COLUMNS].reset_index(
        drop=True
    )


def open_followups(snapshot: Snapshot, config: Config) -> pd.Series:
    """ticket_id -> follow-up tickets still open that refer to the incident (pulled with the
    snapshot; empty when the pull took none)."""
    pulled = read_followups(snapshot.path, snapshot.manifest)
    return open_per_incident(pulled, config.statuses.inactive)


def open_per_incident(followups: pd.DataFrame | None, inactive: Iterable[str]) -> pd.Series:
    """ticket_id -> follow-ups (review.closeout.followups.followup_frame) not in an inactive
    status that refer to it (a service's follow-up counts for each incident it links)."""
    if followups is None or followups.empty:
        return pd.Series(dtype="int64")
    active = followups.loc[~followups["status"].isin(list(inactive))]
    linked = active.explode("incidents")["incidents"].dropna().astype("int64")
    return linked.value_counts()


def months_frame(snapshot: Snapshot, config: Config, metrics: pd.DataFrame) -> pd.DataFrame:
    """The months the snapshot covers (newest first): month, incidents opened, covered
    ('whole', 'part' or 'no' for a month it holds incidents of without covering it)."""
    opened = month_of(metrics["opened_at"], config).value_counts()
    coverage = snapshot.coverage
    months = set(opened.index)
    if coverage is not None:
        last = coverage.end - pd.Timedelta(seconds=1)
        span = pd.period_range(
            month_of(pd.Series([coverage.since]), config).iloc[0],
            month_of(pd.Series([last]), config).iloc[0],
            freq="M",
        )
        months |= {str(p) for p in span}
    rows = []
    for month in sorted(months, reverse=True):
        start, end = month_span(month, config)
        part: tuple[object, object] = (pd.NaT, pd.NaT)
        if covers(coverage, start, end):
            whole = "whole"
        elif coverage is not None and coverage.since < end and start < coverage.end:
            whole = "part"
            part = (max(start, coverage.since), min(end, coverage.end))
        else:
            whole = "no"
        rows.append((month, int(opened.get(month, 0)), whole, *part))
    return pd.DataFrame(rows, columns=["month", "incidents", "covered", "from", "to"])


# --------------------------------------------------------------------------- the page

_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{font-size:90%}"
    "td,th{padding:3px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #ddd}"
    ".n{text-align:right}.failed{color:#b00}table{border-collapse:collapse}"
    "th button{font:inherit;font-weight:bold;border:0;background:none;padding:0;cursor:pointer}"
    "th[aria-sort=ascending] button::after{content:' \\25B2'}"
    "th[aria-sort=descending] button::after{content:' \\25BC'}"
    ".missing,.draft{color:#b00}.final{color:#060}.note{font-size:90%;color:#555}"
    ".d,.n{white-space:nowrap}p,li,h1,.w{overflow-wrap:anywhere}"
    "#tools{margin:1em 0}#tools label{margin-right:1.5em}"
)

# Sorting and filtering in the page: rows are moved and hidden, never rewritten.
_SCRIPT = """
(function () {
  var table = document.getElementById('library');
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var words = document.getElementById('filter');
  var review = document.getElementById('review-filter');
  var shown = document.getElementById('shown');
  function key(row, column, numeric) {
    var value = row.cells[column].getAttribute('data-sort');
    if (value === null) value = row.cells[column].textContent;
    if (!numeric) return value.toLowerCase();
    return value === '' ? null : parseFloat(value);
  }
  function sort(header) {
    var column = header.cellIndex;
    var numeric = header.getAttribute('data-type') === 'number';
    var ascending = header.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.setAttribute('aria-sort', 'none');
    });
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    rows.sort(function (a, b) {
      var x = key(a, column, numeric), y = key(b, column, numeric);
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function filter() {
    var wanted = words.value.toLowerCase().trim().split(/\\s+/).filter(Boolean);
    var status = review.value;
    var count = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var state = row.getAttribute('data-review');
      var match = wanted.every(function (w) { return text.indexOf(w) >= 0; }) &&
        (status === '' || state === status || (status === 'not final' && state !== 'final'));
      row.hidden = !match;
      if (match) count += 1;
    });
    shown.textContent = count + ' of ' + rows.length + ' incidents shown';
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
    var button = header.querySelector('button');
    if (button) button.addEventListener('click', function () { sort(header); });
  });
  words.addEventListener('input', filter);
  review.addEventListener('change', filter);
  filter();
})();
"""

# (header, the frame's column or None, numeric)
_HEADERS = [
    ("Ticket", "ticket_id", True), ("Opened", "opened_at", False), ("Subject", "subject", False),
    ("Service", "service", False), ("Classification", "classification", False),
    ("Status", "status", False), ("Time to resolve", "time_to_resolve_h", True),
    ("Findings", "findings", True), ("Follow-ups open", "followups_open", True),
    ("Review", "review", False), ("Waited (days)", "review_waited_days", True),
    ("Sign-off and notes", "review_signed", False), ("Pages", None, False),
]  # fmt: skip


def _esc(value: object) -> str:
    return html.escape(visible("" if value is None or value is pd.NA else str(value)))


def _td(value: object) -> str:
    """A text cell, escaped; one holding a run too long for a line may break anywhere."""
    text = _esc(value)
    return f'<td class="w">{text}</td>' if unbroken(html.unescape(text)) else f"<td>{text}</td>"


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def csp() -> str:
    """The page's Content-Security-Policy: its own script and styles, nothing loaded."""
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode()
    return f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'"


def months_html(
    months: pd.DataFrame, snapshot: Snapshot, config: Config, out: Path, pages: list[Page]
) -> list[str]:
    """The months the snapshot covers, each with its incidents and its pages (`pages`, those
    of review.pages.reports.PAGES there is one of per month: the monthly report), in words."""
    coverage = snapshot.coverage
    parts = ["<h2>Months</h2>"]
    if coverage is None:
        parts.append(
            "<p>The snapshot does not record what it covers (pulled by an older version): "
            "the months below are those its incidents were opened in.</p>"
        )
    else:
        span = f"{local_time(coverage.since, config)} to {local_time(coverage.end, config)}"
        parts.append(
            f"<p>The snapshot holds the tickets of {_esc(', '.join(coverage.queues))} from "
            f"{_esc(span)}.</p>"
        )
    if months.empty:
        return [*parts, "<p>No months: the snapshot holds no incidents.</p>"]
    parts.append('<ul id="months">')
    for month, count, covered, start, end in months.itertuples(index=False):
        shown = [(Path(p.where(month=str(month))).with_suffix(".html"), p.title) for p in pages]
        link = "".join(
            f' · <a href="{_esc(page.as_posix())}">{_esc(title)}</a>'
            for page, title in shown
            if (out / page).is_file()
        )
        if count:
            said = f"{count} incident{'s' if count != 1 else ''} opened"
        else:
            said = "no incidents were opened"
        if covered == "part":
            said = (
                f"covered only from {local_time(start, config)} to {local_time(end, config)}: "
                + said.replace("were opened", "were opened then")
            )
        elif covered == "no":
            said += " (the snapshot does not cover this month: there may be more)"
        parts.append(f"<li><b>{_esc(month)}</b>: {said}{link}</li>")
    return [*parts, "</ul>"]


def table_html(
    frame: pd.DataFrame, config: Config, links: dict[int, str], extra: list[str]
) -> list[str]:
    """The incidents table with its filter; `links` ticket -> the Pages cell (HTML, already
    escaped); `extra`: rows for review pages of incidents not in the snapshot."""
    options = "".join(
        f'<option value="{v}">{v}</option>' for v in ("not final", *REVIEWS, "unreadable")
    )
    parts = [
        "<h2>Incidents</h2>",
        '<p id="tools"><label>Find: <input id="filter" type="search" size="30" '
        'placeholder="ticket, subject, service, anything"></label>'
        f'<label>Review: <select id="review-filter"><option value="">any</option>{options}'
        '</select></label><span id="shown" aria-live="polite"></span></p>',
        '<table id="library"><thead><tr>'
        + "".join(
            f'<th{" class=n" if numeric else ""} data-type="{"number" if numeric else "text"}" '
            f'aria-sort="{"descending" if column == "opened_at" else "none"}">'
            + (f"<button type=button>{name}</button>" if column else name)
            + "</th>"
            for name, column, numeric in _HEADERS
        )
        + "</tr></thead><tbody>",
    ]
    for row in frame.to_dict("records"):
        ticket = int(row["ticket_id"])
        hours = row["time_to_resolve_h"]
        waited = row["review_waited_days"]
        notes = [_esc(row["review_signed"]), _esc(row["review_note"])]
        cells = [
            f'<td class="n" data-sort="{ticket}">{ticket}</td>',
            f'<td class="d" data-sort="{_esc(row["opened_at"])}">'
            f"{_esc(local_time(row['opened_at'], config)[:10])}</td>",
            _td(row["subject"]),
            _td(row["service"] or ""),
            _td(row["classification"] or ""),
            _td(row["status"]),
            f'<td class="n" data-sort="{"" if _missing(hours) else f"{float(hours):.4f}"}">'
            + ("open" if _missing(hours) else duration_text(hours))
            + "</td>",
            f'<td class="n">{int(row["findings"])}</td>',
            f'<td class="n">{int(row["followups_open"])}</td>',
            f'<td class="{_esc(row["review"]).replace(" ", "-")}">{_esc(row["review"])}</td>',
            f'<td class="n" data-sort="{"" if _missing(waited) else int(waited)}">'
            f"{'' if _missing(waited) else int(waited)}</td>",
            f'<td class="note{" w" if any(unbroken(html.unescape(n)) for n in notes) else ""}">'
            f"{'<br>'.join(n for n in notes if n)}</td>",
            f"<td>{links.get(ticket, 'not rendered')}</td>",
        ]
        parts.append(f'<tr data-review="{_esc(row["review"])}">{"".join(cells)}</tr>')
    parts += [*extra, "</tbody></table>"]
    if frame.empty and not extra:
        parts.append("<p>No incidents in the snapshot.</p>")
    return parts


def page_html(head: list[str], body: list[str]) -> str:
    """The whole index page: `head` (title, snapshot line, links) then `body`, the script."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp()}">',
            "<title>Incident reviews and reports</title>",
            f"<style>{_STYLE}</style></head><body>",
            *head,
            *body,
            f"<script>{_SCRIPT}</script>",
            "</body></html>",
        ]
    )
