"""What a report page is: one declaration, beside its data function.

A page lives in one module of review/pages/reports/ with its notebook template in
notebooks/. The module declares one `Page`: what it is called (`name`, `title`), which
notebook renders it (`template`) and the function that notebook calls (`data`), whether
there is one per incident, one per month or one for the whole snapshot (`per`), where it
is written under the reports folder (`output`, with {ticket} and {month}), what its
render fingerprint depends on beyond what every page depends on (`depends`, names from
DEPENDS), and its place in the index (`order`). The renderer, the index, `review demo`
and the commands read PAGES (review.pages.reports); a new page adds its module, its
template and its test, and edits no list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Per = Literal["incident", "month", "snapshot"]

# What a page's render fingerprint may depend on (review.pages.render.plan computes each),
# beyond what every page depends on: the config, the registry file, the package's code, the
# snapshot's shared frames, its template's cells and the job's parameters.
DEPENDS = {
    "incident": "the incident's rows, its linked tickets' rows, and the pull time while it is open",
    "months": "what the snapshot covers, the pull time, and the rows of every incident opened "
    "in the month or the months it is compared with",
    "tickets": "the rows of every ticket",
    "today": "the day it is rendered on (ages count to it), unless the job names one",
    "registry": "the service registry file the job names instead of the config's",
    "written": "what the team wrote in the incident's review file (review.pages.written)",
    "reviews": "the review files of the incidents it shows (status, sign-offs); the notebook "
    "gets the folder they are in as `reports_dir`",
}


@dataclass(frozen=True)
class Page:
    """One report page (see the module docstring)."""

    name: str  # how commands and the registry name it: "incident", "monthly", ...
    title: str  # what the index calls it
    template: str  # the notebook in notebooks/
    data: Callable[..., Any] = field(repr=False)  # what the notebook calls, with its parameters
    per: Per
    output: str  # under the reports folder: "{month}/monthly.ipynb"; the .html goes beside it
    job: str  # what a render calls one job of it: "monthly report {month}"
    depends: tuple[str, ...]
    order: int  # its place in the index, before pages of the same `per` with a higher one

    def __post_init__(self) -> None:
        unknown = set(self.depends) - set(DEPENDS)
        if unknown:
            raise ValueError(f"page {self.name!r}: unknown depends {sorted(unknown)}")
        if self.per == "incident" and "{ticket}" not in self.output:
            raise ValueError(f"page {self.name!r}: an incident page's output names {{ticket}}")
        if self.per == "month" and "{month}" not in self.output:
            raise ValueError(f"page {self.name!r}: a monthly page's output names {{month}}")

    def where(self, ticket: int | None = None, month: str | None = None) -> str:
        """Its notebook's path under the reports folder."""
        return self.output.format(ticket=ticket, month=month)
