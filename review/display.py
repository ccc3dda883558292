"""How reports show things: notebook display settings, escaped tables, text formats.

Ticket text (subjects, reply texts, names) is untrusted. Notebooks show frames
through pandas' escaping HTML (``Table``, ``safe_table``) or as plain text
(``Note``), never as Markdown or hand-made HTML; control characters in it are
shown escaped (``review.text.visible``), never run.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import pandas as pd

from review.calendar import calendar_text
from review.config import Config, project_dir
from review.errors import ReviewError
from review.text import visible, visible_frame


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


class Table:
    """A frame shown without its index: escaped HTML in notebooks, aligned text otherwise.

    Cheaper than a Styler (no template engine), and `to_html(escape=True)` turns every
    `<`, `>` and `&` of ticket text into entities.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = visible_frame(frame)

    def __repr__(self) -> str:
        return self.frame.to_string(index=False)

    def _repr_html_(self) -> str:
        return self.frame.to_html(
            escape=True, index=False, na_rep="", classes="tex2jax_ignore mathjax_ignore"
        )

    def to_html(self) -> str:
        return self._repr_html_()


def safe_table(
    frame: pd.DataFrame,
    links: dict[str, str] | None = None,
    caption: str | None = None,
    empty: str | None = None,
) -> Any:
    """A pandas Styler that escapes every cell; `links` turns integer columns into links.

    `links` maps a column to an href template with `{}` for the (integer) value, e.g.
    ``{"ticket_id": "incident-{}.html"}``. Only integers go into the markup; all
    text, ticket text included, is HTML-escaped. An empty frame with `empty` set
    shows that sentence instead of a bare header.
    """
    if empty is not None and frame.empty:
        return Note(empty)
    if not links and caption is None:
        return Table(frame)
    frame = visible_frame(frame)
    styler = frame.style.format(escape="html", na_rep="", precision=2).hide(axis="index")
    for column, template in (links or {}).items():

        def link(value: Any, template: str = template) -> str:
            number = int(value)
            return f'<a href="{template.format(number)}">{number}</a>'

        styler = styler.format(link, subset=[column])
    if caption:
        styler = styler.set_caption(caption)
    return styler


def local_time(moment: Any, config: Config) -> str:
    """An instant as local time of the business calendar (empty when missing)."""
    if moment is None or pd.isna(moment):
        return ""
    stamp = pd.Timestamp(moment).tz_convert(config.calendar.timezone)
    return stamp.strftime("%Y-%m-%d %H:%M %Z")


def hours_text(value: Any) -> str:
    """Hours to two decimals (empty when missing)."""
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


def business_hours_text(config: Config) -> str:
    """The configured business-hours calendar in words."""
    return f"business hours: {calendar_text(config.calendar)}"
