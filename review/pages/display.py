"""How reports show things: notebook display settings, escaped tables, text formats.

Ticket text (subjects, reply texts, names) is untrusted. Notebooks show frames
through pandas' escaping HTML (``Table``, ``safe_table``) or as plain text
(``Note``), never as Markdown or hand-made HTML; control characters in it are
shown escaped (``review.text.visible``), never run.
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from review.analysis.problems import DataProblem
from review.errors import ReviewError
from review.settings.config import project_dir
from review.text import unbroken, visible, visible_frame


def _warning_text(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """A warning as a page shows it: category and text, no file path or source line."""
    return f"{category.__name__}: {message}\n"


def notebook_setup() -> None:
    """Display settings every template applies first: text stays text, tables stay whole.

    MathJax is kept off pandas tables so a `$` in a subject is not typeset, and
    matplotlib does not interpret `$...$` as mathtext.
    """
    import matplotlib

    pd.set_option("display.html.use_mathjax", False)
    pd.set_option("styler.html.mathjax", False)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.max_colwidth", 400)
    pd.set_option("display.width", 200)
    matplotlib.rcParams["text.usetex"] = False
    matplotlib.rcParams["text.parse_math"] = False
    # a glyph no installed font has is drawn as a box (review.pages.figures.font_families):
    # its warning would put matplotlib's path (the venv's) into the page; any other warning
    # shows its category and text only, without the file it came from
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
    warnings.formatwarning = _warning_text
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100
    try:  # in a kernel: PNG figures drawn once, at their own size (the layout is constrained)
        from matplotlib_inline import backend_inline

        formats: Any = backend_inline.set_matplotlib_formats
        formats("png", bbox_inches=None)
    except Exception:  # not in IPython, or no inline backend: nothing to configure
        pass
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # plain Python
        shell = None
    if shell is not None:
        shell.set_custom_exc((ReviewError,), _one_line_error)


def _one_line_error(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> list[str]:
    """A mistake in the parameters shows as one readable line in the notebook, no traceback."""
    lines = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, lines)  # the kernel sends it as the cell's error
    return lines


def parameter_paths(
    snapshot: str | os.PathLike[str] | None, config: str | os.PathLike[str] | None
) -> tuple[Path | None, Path | None]:
    """A notebook's `snapshot` and `config` parameters as paths, checked.

    A notebook runs in its own directory (notebooks/, reports/2026-10/ ...), so a
    relative path is read from the project directory, as the README's examples write
    them; a path that is not there is one line that names the parameter.
    """

    def resolve(value: str | os.PathLike[str] | None) -> Path | None:
        if value is None or str(value) == "":
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else project_dir() / path

    snapshot_path, config_path = resolve(snapshot), resolve(config)
    where = f"relative paths are read from the project directory {project_dir()}"
    if snapshot_path is not None and not snapshot_path.is_dir():
        raise ReviewError(
            f"snapshot = {str(snapshot)!r}: no such directory ({where}); set it to a snapshot "
            "made by `review pull`, or to None for the bundled sample"
        )
    if config_path is not None and not config_path.is_file():
        raise ReviewError(
            f"config = {str(config)!r}: no such file ({where}); set it to a TOML config file, "
            "or to None for the defaults"
        )
    return snapshot_path, config_path


class Note:
    """A line of plain text that shows as text in notebooks and as escaped HTML."""

    def __init__(self, text: str) -> None:
        self.text = visible(text)

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self.text)}</em></p>"


class Prose:
    """Sentences for people (a report's summary): a paragraph in HTML, never monospace."""

    def __init__(self, *sentences: str) -> None:
        self.sentences = [visible(s) for s in sentences if s]

    def __repr__(self) -> str:
        return "\n".join(self.sentences)

    def _repr_html_(self) -> str:
        return "".join(
            f'<p style="font-size:1.05em;max-width:60em">{html.escape(s)}</p>'
            for s in self.sentences
        )


class Stack:
    """Several displays shown as one cell's output, in order (a note and its tables)."""

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts

    def __repr__(self) -> str:
        return "\n\n".join(repr(p) for p in self.parts)

    def _repr_html_(self) -> str:
        return "".join(p._repr_html_() for p in self.parts)


class Banner:
    """A warning that must not be missed (a partial report): a framed block in HTML."""

    def __init__(self, text: str) -> None:
        self.text = visible(text)

    def __repr__(self) -> str:
        return f"*** {self.text} ***"

    def _repr_html_(self) -> str:
        return (
            '<div role="alert" style="border:3px solid #b00020;padding:0.6em 0.9em;'
            f'margin:0.5em 0;font-weight:bold;color:#b00020">{html.escape(self.text)}</div>'
        )


class DataQuality:
    """A page's data-quality note: where the config does not fit the data (a framed list that
    must not be missed, with what it costs), and the notes (a plain list); when all fits,
    one line saying so. The same lines `review check` prints."""

    def __init__(self, problems: Sequence[DataProblem], unobservable: Mapping[str, str]) -> None:
        from review.analysis.quality import KINDS  # what the data itself cannot back

        self.mismatches = [visible(p.text) for p in problems if p.mismatch]
        self.notes = [visible(p.text) for p in problems if not p.mismatch]
        self.unobservable = [f"rule {r}: {visible(why)}" for r, why in unobservable.items()]
        self.unbacked = sum(p.mismatch and p.kind in KINDS for p in problems)

    @property
    def heading(self) -> str:
        misfits = len(self.mismatches) - self.unbacked
        if misfits:
            unbacked = (
                f", and the data cannot back some numbers in {self.unbacked} way(s)"
                if self.unbacked
                else ""
            )
            return (
                f"Data quality: the config does not fit this data in {misfits} way(s)"
                f"{unbacked}, so numbers below may be wrong or missing (`review check` lists "
                "the same; fix the config and render again):"
            )
        if self.unbacked:
            return (
                f"Data quality: the config fits the data, but the data cannot back some numbers "
                f"in {self.unbacked} way(s): those are empty or not observable below, never "
                "computed without it (`review check` lists the same):"
            )
        return "Data quality: the config fits the data (`review check`)."

    def __repr__(self) -> str:
        lines = [self.heading, *(f"- {m}" for m in self.mismatches)]
        if self.unobservable:
            lines += ["Not observable:", *(f"- {u}" for u in self.unobservable)]
        if self.notes:
            lines += ["Notes:", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def items(texts: list[str]) -> str:
            return "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in texts) + "</ul>"

        parts = []
        if self.mismatches:
            parts.append(
                '<div role="alert" style="border:3px solid #b00020;padding:0.6em 0.9em;'
                f'margin:0.5em 0;color:#b00020"><strong>{html.escape(self.heading)}</strong>'
                f"{items(self.mismatches)}</div>"
            )
        else:
            parts.append(f"<p><em>{html.escape(self.heading)}</em></p>")
        if self.unobservable:
            parts.append(
                "<p>Not observable (the rule could not see, so no count is shown):</p>"
                + items(self.unobservable)
            )
        if self.notes:
            parts.append("<p>Notes on the data:</p>" + items(self.notes))
        return "".join(parts)


class PageHeader:
    """The top of a page: where it sits (a link back to the index, the ticket in RT) and what
    it is. The HTML export takes `title` as the page's <title> (output metadata `review_title`)."""

    def __init__(self, title: str, index: str, links: dict[str, str] | None = None) -> None:
        self.title = visible(title)
        self.index = index
        self.links = links or {}  # label -> href (an http(s) address or a relative path); or
        # label -> "" for a link that cannot be made, shown as plain text

    def __repr__(self) -> str:
        return self.title

    def _repr_html_(self) -> str:
        items = [f'<a href="{html.escape(self.index, quote=True)}">All reports (index)</a>']
        for label, href in self.links.items():
            items.append(
                f'<a href="{html.escape(href, quote=True)}">{html.escape(label)}</a>'
                if href
                else html.escape(label)
            )
        return (
            f'<nav style="margin:0 0 0.4em 0">{" · ".join(items)}</nav>'
            '<h1 style="font-size:2.1em;font-weight:bold;margin:0.2em 0 0.6em 0;'
            'overflow-wrap:anywhere">'
            f"{html.escape(self.title)}</h1>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        data = {"text/plain": repr(self), "text/html": self._repr_html_()}
        return data, {"review_title": self.title}


def rt_ticket_url(source: str, ticket_id: int) -> str:
    """The ticket in RT's web interface, from the snapshot's source (its REST2 address);
    '' when the snapshot does not come from an RT server (the bundled sample)."""
    from review.closeout.followups import rt_web_url

    web = rt_web_url(str(source or ""))
    if not web.startswith(("http://", "https://")):
        return ""
    return f"{web}Ticket/Display.html?id={int(ticket_id)}"


# Column names as people read them, where the general rule (underscores to spaces, first
# letter capital) is not enough.
HEADERS = {
    "ticket_id": "Ticket",
    "p90": "90th percentile",
    "gap_days": "Gap (days)",
    "gap_since": "Gap since",
    "recommended_action": "Action",
    "review_overdue": "Registry review overdue",
    "worst_severity": "Worst severity",
    "how_to_observe": "How to make it observable",
    "rt_names": "Names in RT",
    "helpdesk_list": "Help Desk list",
    "tech_leads": "Tech Leads",
    "n": "Incidents (n)",
    "median_h": "Median (h)",
    "median_ci_low": "Median: 95% low",
    "median_ci_high": "Median: 95% high",
    "p90_h": "90th percentile (h)",
    "p90_ci_low": "90th pct: 95% low",
    "p90_ci_high": "90th pct: 95% high",
    "change_median_h": "Change in median (h)",
    "change_ci_low": "Change: 95% low",
    "change_ci_high": "Change: 95% high",
    "mdc_median_h": "Smallest detectable change (h)",
    "mdc_pct": "Smallest detectable change (%)",
    "ratio_geomean": "Geometric mean: ratio to month before",
    "ratio_ci_low": "Ratio: 95% low",
    "ratio_ci_high": "Ratio: 95% high",
    "intervals_withheld": "Interval not shown because",
    "followup": "Follow-up",
    "followup_status": "Follow-up status",
    "age_days": "Age (days)",
    "sla": "Service level",
    "ci_low": "95% low",
    "ci_high": "95% high",
}
HIDDEN = ("line",)  # where in the registry file a row came from: for error messages, not pages


def header(name: Any) -> str:
    """A column name as a header people read: 'how_to_observe' -> 'How to make it observable'."""
    text = str(name)
    if text in HEADERS:
        return HEADERS[text]
    if "-" in text and not any(c in text for c in " _"):
        return text  # an identifier people know by name (a rule id: not-validated)
    text = text.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


_NUMBER_TEXT = r"-?\d+(?:\.\d+)?"


def _is_number(column: pd.Series) -> bool:
    """Numbers, or text that is all numbers ('2.00', ''): shown right-aligned."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    text = column.dropna().astype(str)
    text = text.loc[text != ""]
    return bool(len(text)) and bool(text.str.fullmatch(_NUMBER_TEXT).all())


def _cell(value: Any, whole: bool = False) -> str:
    """One cell as text: Yes/No for flags, nothing for a missing value, two decimals (none
    in a column of whole numbers, e.g. counts with a gap)."""
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{float(value):.0f}" if whole else f"{float(value):.2f}"
    return str(value)


def _whole(column: pd.Series) -> bool:
    """A float column holding only whole numbers (an integer column with missing values)."""
    values = column.dropna()
    return pd.api.types.is_float_dtype(column) and bool((values == values.round()).all())


def text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as the text people read: human headers, cells as `_cell` writes them."""
    shown = visible_frame(frame.drop(columns=[c for c in HIDDEN if c in frame.columns]))
    cells = {header(c): [_cell(v, _whole(shown[c])) for v in shown[c]] for c in shown.columns}
    return pd.DataFrame(cells, index=shown.index)


_TH = "padding:4px 8px;border-bottom:1px solid #999;vertical-align:bottom;"
_TD = "padding:3px 8px;vertical-align:top;border-bottom:1px solid #e4e4e4;"
_LEFT = "text-align:left;"
_RIGHT = "text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;"


Links = Mapping[str, str | Mapping[int, str]]


def html_table(frame: pd.DataFrame, links: Links | None = None, caption: str | None = None) -> str:
    """A frame as an HTML table people read: human headers, text left, numbers right.

    Every cell is escaped; `links` maps a column to an href template with `{}` for its
    integer value, or to each value's own href (a value without one is not a link); only
    integers go into the markup. Registry line numbers are left out.
    """
    frame = visible_frame(frame.drop(columns=[c for c in HIDDEN if c in frame.columns]))
    numeric = {c: _is_number(frame[c]) for c in frame.columns}
    whole = {c: _whole(frame[c]) for c in frame.columns}
    rows = []
    head = "".join(
        f'<th style="{_TH}text-align:{"right" if numeric[c] else "left"}">'
        f"{html.escape(header(c))}</th>"
        for c in frame.columns
    )
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            text = html.escape(_cell(value, whole[column]))
            target = (links or {}).get(str(column))
            if target and text:
                number = int(value)
                href = target.format(number) if isinstance(target, str) else target.get(number)
                if href:
                    text = f'<a href="{html.escape(href, quote=True)}">{number}</a>'
            align = _RIGHT if numeric[column] else _LEFT
            if len(text) <= 12:  # a short word, a date, a month: never split
                align += "white-space:nowrap;"
            elif unbroken(_cell(value, whole[column])):  # a pasted URL or log line: split it
                align += "overflow-wrap:anywhere;"
            cells.append(f'<td style="{_TD}{align}">{text}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    title = (
        f'<caption style="text-align:left;font-weight:bold;padding:4px 0">'
        f"{html.escape(caption)}</caption>"
        if caption
        else ""
    )
    return (
        '<table class="review-table tex2jax_ignore mathjax_ignore" '
        'style="border-collapse:collapse;margin:0.4em 0 1em 0;font-size:0.92em">'
        f"{title}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


class Table:
    """A frame shown without its index: an escaped HTML table in notebooks, text otherwise."""

    def __init__(
        self,
        frame: pd.DataFrame,
        links: Links | None = None,
        caption: str | None = None,
    ) -> None:
        self.frame = frame
        self.links = links or {}
        self.caption = caption

    def __repr__(self) -> str:
        return text_frame(self.frame).to_string(index=False)

    def _repr_html_(self) -> str:
        return html_table(self.frame, self.links, self.caption)

    def to_html(self) -> str:
        return self._repr_html_()


def safe_table(
    frame: pd.DataFrame,
    links: Links | None = None,
    caption: str | None = None,
    empty: str | None = None,
) -> Any:
    """A table that escapes every cell; `links` turns integer columns into links.

    `links` maps a column to an href template with `{}` for the (integer) value, e.g.
    ``{"ticket_id": "incident-{}.html"}``. Only integers go into the markup; all
    text, ticket text included, is HTML-escaped. An empty frame with `empty` set
    shows that sentence instead of a bare header.
    """
    if empty is not None and frame.empty:
        return Note(empty)
    return Table(frame, links, caption)


def _rule_title(rule_id: str) -> str:
    """A close-out rule as senior staff read it: its title ('Service owner unknown')."""
    from review.closeout.rules import RULES

    return RULES[rule_id].title if rule_id in RULES else rule_id


class ServiceGaps:
    """The support-gap report's services in attention order: for each, one line of facts, the
    action in words, its registry entry and its findings grouped by rule, each incident a link
    to its review. Everything shown is escaped; only integers go into links."""

    def __init__(
        self,
        table: pd.DataFrame,
        registry: pd.DataFrame,
        findings: pd.DataFrame,
        review_pages: dict[int, str],
        followup_links: dict[str, str] | None = None,
        review_states: dict[int, str] | None = None,
    ) -> None:
        self.table = visible_frame(table)
        self.registry = visible_frame(registry)
        self.findings = visible_frame(findings)
        self.review_pages = review_pages
        self.followup_links = followup_links or {}
        self.review_states = review_states or {}  # ticket -> its review's status in words

    def __repr__(self) -> str:
        return "\n".join(
            f"{i}. {row.service}: {row.recommended_action}"
            for i, row in enumerate(self.table.itertuples(index=False), start=1)
        )

    def _incident(self, ticket: Any) -> str:
        number = int(ticket)
        page = self.review_pages.get(number)
        state = self.review_states.get(number)
        said = f" <small>(review {html.escape(visible(state))})</small>" if state else ""
        if not page:
            return f"#{number}{said}"
        return f'<a href="{html.escape(page, quote=True)}">#{number}</a>{said}'

    def _registry(self, service: str) -> str:
        entry = self.registry.loc[self.registry["service"] == service]
        if entry.empty:
            return "<p><strong>Registry:</strong> not in the registry.</p>"
        row = entry.iloc[0]
        pairs = [
            (header(c), _cell(row[c]))
            for c in entry.columns
            if c not in ("service", *HIDDEN) and _cell(row[c])
        ]
        items = "; ".join(
            f"<strong>{html.escape(k)}:</strong> {html.escape(v.rstrip('.'))}" for k, v in pairs
        )
        return f'<p style="margin:0.3em 0"><em>Registry entry</em>: {items or "empty"}.</p>'

    def _findings(self, service: str) -> str:
        found = self.findings.loc[self.findings["service"] == service]
        if found.empty:
            return "<p>No close-out findings.</p>"
        rows = []
        for rule, group in found.groupby("rule", sort=False):
            tickets = " ".join(self._incident(t) for t in group["ticket_id"].drop_duplicates())
            owners = ", ".join(dict.fromkeys(str(o) for o in group["action_owner"] if o))
            followups = ""
            if "followup" in group.columns and self.followup_links.get("followup"):
                numbers = group["followup"].dropna().astype(int).drop_duplicates()
                template = self.followup_links["followup"]
                followups = " ".join(
                    f'<a href="{html.escape(template.format(n), quote=True)}">#{n}</a>'
                    for n in numbers
                )
            cells = [
                html.escape(_rule_title(str(rule))),
                html.escape(str(group["severity"].iloc[0])),
                str(len(group)),
                tickets,
                html.escape(" ".join(dict.fromkeys(str(a) for a in group["action"]))),
                html.escape(owners),
            ]
            if self.followup_links.get("followup"):
                cells.append(followups or "none")
            rows.append(
                "<tr>"
                + "".join(
                    f'<td style="{_TD}{_RIGHT if i == 2 else _LEFT}">{c}</td>'
                    for i, c in enumerate(cells)
                )
                + "</tr>"
            )
        names = ["Rule", "Severity", "Findings", "Incidents (reviews)", "Action", "Action owner"]
        if self.followup_links.get("followup"):
            names.append("Follow-ups in RT")
        head = "".join(
            f'<th style="{_TH}text-align:{"right" if n == "Findings" else "left"}">{n}</th>'
            for n in names
        )
        return (
            '<table class="review-table" style="border-collapse:collapse;font-size:0.9em;'
            f'margin:0.3em 0 0.8em 0"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def _repr_html_(self) -> str:
        parts = []
        for i, row in enumerate(self.table.to_dict("records"), start=1):
            service = str(row["service"])
            gap = (
                f"gap since {row['gap_since']} ({_cell(row['gap_days'], True)} days)"
                if _cell(row.get("gap_since"))
                else "no gap"
            )
            reviewed = (
                f"registry reviewed {row['last_reviewed']}"
                if _cell(row.get("last_reviewed"))
                else "registry never reviewed"
            )
            if row.get("review_overdue") is True:
                reviewed += " (review overdue)"
            registered = row["support_assignment"] != "unregistered"
            nobody = "none in the registry" if registered else "unknown (not in the registry)"
            facts = [
                f"owner: {row['service_owner'] or nobody}",
                f"support: {row['support_assignment'] or 'not recorded'}",
                f"{row['incidents']} incident(s), {row['findings']} finding(s)"
                + (f", worst {row['worst_severity']}" if row["worst_severity"] else ""),
                f"last incident {row['last_incident'] or 'none'}",
                gap,
                reviewed,
            ]
            parts.append(
                '<section style="border-top:1px solid #bbb;padding-top:0.4em;margin-top:0.8em">'
                f'<h3 style="margin:0.2em 0">{i}. {html.escape(service)}</h3>'
                f'<p style="margin:0.2em 0">{html.escape(" · ".join(facts))}</p>'
                f'<p style="margin:0.2em 0"><strong>Action:</strong> '
                f"{html.escape(str(row['recommended_action'] or 'none needed'))}</p>"
                f"{self._registry(service)}{self._findings(service)}</section>"
            )
        return "".join(parts)
