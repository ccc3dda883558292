"""What the report pages share: the definitions table, the registry as a table, coverage."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from review.analysis.metrics import REPORT_ORDER, definitions
from review.closeout.registry import Registry
from review.context import Context, PathLike
from review.errors import ReviewError
from review.pages.times import business_hours_text, local_time
from review.settings.config import NEW_SNAPSHOT, Config, is_bundled_sample
from review.settings.months import month_span, previous_months
from review.settings.utc import DAY_FORMAT
from review.snapshot import Snapshot, covers


def existing_pages(pages: Mapping[int, str], root: Path) -> dict[int, str]:
    """Of `pages` (ticket -> where its review's HTML goes, relative to the page that links to
    it, which is in `root`), the links that lead somewhere: the HTML, else the notebook of a
    review rendered without HTML; a review not rendered at all has none (the page shows its
    number without a link)."""
    found = {}
    for ticket, page in pages.items():
        for candidate in (page, Path(page).with_suffix(".ipynb").as_posix()):
            if (root / candidate).is_file():
                found[ticket] = candidate
                break
    return found


def registry_frame(registry: Registry) -> pd.DataFrame:
    """The service registry as a table, lists joined into text, with its file and line."""
    frame = registry.frame().copy()
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, list | tuple)).any():
            frame[column] = frame[column].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v
            )
    return frame


def definitions_table(config: Config) -> pd.DataFrame:
    """Every metric with its definition: what starts and stops the clock, and in which hours."""
    words = definitions(config)
    rows = pd.DataFrame(
        [(m.term, words[m.key]) for m in REPORT_ORDER], columns=["term", "definition"]
    )
    return pd.concat([rows, clock_definitions(config)], ignore_index=True)


def clock_definitions(config: Config) -> pd.DataFrame:
    """The two clocks every duration is measured on: wall-clock and business hours."""
    rows = [
        ("wall-clock hours (h)", definitions(config)["_h"]),
        ("business hours (bh)", business_hours_text(config) + "."),
    ]
    return pd.DataFrame(rows, columns=["term", "definition"])


def month_coverage(snapshot: Snapshot, months: list[str], config: Config) -> dict[str, bool]:
    """For each YYYY-MM month: is every incident opened in it in the snapshot?"""
    return {m: covers(snapshot.coverage, *month_span(m, config)) for m in months}


def coverage_text(snapshot: Snapshot, config: Config | None = None) -> str:
    """What the snapshot holds, in words (for banners and error lines); with `config`, its
    span in the business calendar's zone (a page's times), else in UTC."""
    found = snapshot.coverage
    if found is None:
        return (
            f"the snapshot {snapshot.path} does not record what it covers "
            "(pulled by an older version)"
        )
    kinds = " and ".join(
        kind
        for kind, flag in (("opened", found.opened_in_window), ("closed", found.closed_in_window))
        if flag
    )
    span = (
        f"{local_time(found.since, config)} to {local_time(found.end, config)}"
        if config is not None
        else str(found)
    )
    return (
        f"the snapshot {snapshot.path} holds the tickets {kinds or 'of no known kind'} "
        f"from {span} in {', '.join(found.queues) or 'no queue'}"
    )


def pull_command(snapshot: Snapshot, months: list[str], config: Config) -> str:
    """The `review pull` that would cover `months` (and what the snapshot covers already)."""
    spans = [month_span(m, config) for m in months]
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    if snapshot.coverage is not None:
        start, end = min(start, snapshot.coverage.since), max(end, snapshot.coverage.until)
    since = start.floor("D")
    until = end.ceil("D")
    # The bundled sample is never a pull's target (`review pull` refuses it): name a new one.
    target = NEW_SNAPSHOT if is_bundled_sample(snapshot.path) else snapshot.path
    return (
        f"review pull --since {since:{DAY_FORMAT}} --until {until:{DAY_FORMAT}} --snapshot {target}"
    )


def require_covered(
    snapshot: Snapshot, month: str, config: Config, compare: int = 3, partial: bool = False
) -> str:
    """Refuse a month the snapshot does not wholly cover: its report would be silently short.
    With `partial` (the user's --partial), the line that says it is partial instead ('' when
    the month is covered)."""
    if covers(snapshot.coverage, *month_span(month, config)):
        return ""
    if partial:
        return (
            f"{month} is partial: {coverage_text(snapshot)}; its figures count only the "
            "incidents the snapshot holds so far (pages mark it partial)"
        )
    raise ReviewError(
        f"{month} is not wholly covered: {coverage_text(snapshot)}. To cover it (and the "
        f"{compare} months it is compared with): "
        f"{pull_command(snapshot, [*previous_months(month, compare), month], config)}; "
        "or pass --partial to render it anyway, marked as partial"
    )


def reports_folder(reports: PathLike | None, config: Config) -> Path:
    """A notebook's `reports` parameter (the folder the review files are under) as a path:
    relative from the project directory, as the other parameters; None: the config's."""
    from pathlib import Path

    from review.settings.config import project_dir

    path = Path(reports).expanduser() if reports else config.paths.reports
    return path if path.is_absolute() else project_dir() / path


def review_states(context: Context, reports: Path, ticket_ids: pd.Series) -> pd.DataFrame:
    """The review state of these incidents (review.pages.signoff.review_states), by ticket."""
    from review.pages.signoff import review_states as states

    metrics = context.metrics.loc[context.metrics["ticket_id"].isin(ticket_ids)]
    data = context.review_data.set_index("ticket_id")["data"]
    return states(
        metrics[["ticket_id", "resolved_at"]], reports, data, context.snapshot.pulled_at
    ).set_index("ticket_id")


def review_words(states: pd.DataFrame) -> pd.Series:
    """Each incident's review in a few words: 'missing, waited 12 days', 'final after 3 days'."""
    words = []
    for review, waited, note in states[["review", "review_waited_days", "review_note"]].itertuples(
        index=False
    ):
        text = str(review)
        if not pd.isna(waited):
            days = f"{int(waited)} day{'s' if int(waited) != 1 else ''}"
            text += f" after {days}" if review == "final" else f", waited {days}"
        words.append(f"{text} ({note})" if note else text)
    return pd.Series(words, index=states.index, dtype="object")
