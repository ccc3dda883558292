"""Files a render writes: the HTML export of an executed notebook, and atomic writes.

Every output goes to a temp file beside its target (same filesystem), is fsynced, and
replaces the target with os.replace: a reader sees the old file or the new one, never half.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from review.errors import ReviewError
from review.pages import written

_HTML_TEMPLATE = (
    "{%- extends 'lab/index.html.j2' -%}"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}"
    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}"
    # a word longer than the line (a pasted URL or log line in ticket or written text)
    # breaks, so the page never scrolls sideways; tables do it per cell (display.html_table)
    "{%- block extra_css -%}<style>.jp-RenderedHTMLCommon :is(p, li, h1, h2, h3, h4, h5, h6, "
    "blockquote, [role=alert]) {overflow-wrap: anywhere}</style>{%- endblock extra_css -%}"
)


@lru_cache(maxsize=1)
def _html_exporter() -> Any:
    """One exporter per process: loading the templates is most of an export's cost."""
    import nbconvert
    from jinja2 import DictLoader

    exporter: Any = nbconvert.HTMLExporter
    return exporter(
        template_name="lab",
        template_file="review.html.j2",
        extra_loaders=[DictLoader({"review.html.j2": _HTML_TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def export_html(notebook: Path, target: Path) -> None:
    """The executed notebook as HTML without code or prompts (for email), written atomically."""
    commit_file(write_temp(target, html_bytes(notebook, target.stem)), target)


def html_bytes(notebook: Path, name: str) -> bytes:
    """The executed notebook as HTML without code, prompts or remote scripts.

    Ticket text is already escaped in the outputs (nbconvert's sanitize_html would
    also escape the headings and tables, so it stays off); MathJax, require.js and the
    mermaid loader (CDN scripts the pages do not use) are left out, so a page loads
    nothing from outside and a `$` in ticket text stays a dollar sign.
    """
    import nbformat

    read: Any = nbformat.read
    return html_from_node(read(notebook, as_version=4), name)


def html_from_node(node: Any, name: str) -> bytes:
    """A notebook (nbformat node) as html_bytes writes it; written cells as safe Markdown
    (review.pages.written), never live HTML."""
    import nbformat

    as_node: Any = nbformat.from_dict
    node = as_node(written.sanitize_notebook(node))
    titles = [  # the page header's own title (review.pages.display.PageHeader), when it has one
        output["metadata"]["review_title"]
        for cell in node.cells
        for output in cell.get("outputs", [])
        if "review_title" in output.get("metadata", {})
    ]
    if titles:
        node.metadata["title"] = str(titles[0])
    body, _ = _html_exporter().from_notebook_node(node, resources={"metadata": {"name": name}})
    return str(body).encode("utf-8")


def read_notebook(path: Path) -> Any:
    """The notebook at `path` (nbformat node, version 4), checked; one line naming it and
    what is wrong otherwise (a notebook broken by hand may hold written text: never replaced
    or opened as if it were empty)."""
    import nbformat

    reads: Any = nbformat.reads
    try:
        node = reads(path.read_text("utf-8"), as_version=nbformat.NO_CONVERT)
        nbformat.validate(node)
    except (ValueError, OSError, nbformat.ValidationError) as exc:  # not JSON, not UTF-8 ...
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        if isinstance(exc, UnicodeDecodeError | nbformat.ValidationError):
            reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not a valid notebook"
        raise ReviewError(
            f"{path}: not a notebook the kit can read ({reason}) and may hold written text; fix "
            "it or move it aside"
        ) from None
    convert: Any = nbformat.convert
    return convert(node, 4)


def temp_beside(target: Path, suffix: str = "") -> Path:
    """A new empty file `.NAME.XXXX` beside `target` (same filesystem: os.replace is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    # mkstemp makes 0600, kept: pages show ticket text; shared ones are settled after the batch
    os.close(handle)
    return Path(temp)


def write_temp(target: Path, data: bytes) -> Path:
    """`data` in a temp file beside `target`, on disk (fsync); removed if writing fails."""
    temp = temp_beside(target)
    try:
        with temp.open("wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def fsync_file(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


def commit_file(temp: Path, target: Path) -> None:
    """Put a complete temp file in place: the old file stays until the new one is whole."""
    os.replace(temp, target)
    handle = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)  # the rename itself survives a crash
    finally:
        os.close(handle)


def write_atomic(target: Path, data: bytes) -> None:
    commit_file(write_temp(target, data), target)
