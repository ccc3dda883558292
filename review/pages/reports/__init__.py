"""What each report shows, assembled in one call per notebook.

The notebooks in ``notebooks/`` hold no logic: they call one of
``incident_review_data``, ``monthly_report_data`` or ``support_gaps_data`` and
display the frames it returns (plus the figures of ``review.pages.figures``), through
``notebook_setup`` and ``safe_table`` (from ``review.pages.display``, importable here so a
notebook needs one import).

Ticket text (subjects, reply texts, names) is untrusted. Everything here is
returned as plain values in DataFrames; notebooks show them through pandas'
escaping HTML or as plain text, never as Markdown or hand-made HTML.

Each page module declares its page (review.pages.page): PAGES holds them, found by
iterating this package, in the order of their places in the index.
"""

from review.pages.display import Prose, notebook_setup, safe_table
from review.pages.page import Page
from review.pages.reports.common import month_coverage, require_covered
from review.pages.reports.incident import IncidentReview, incident_review, incident_review_data
from review.pages.reports.monthly import MonthlyReport, monthly_report, monthly_report_data
from review.pages.reports.support import (
    SupportGapsReport,
    support_gaps_data,
    support_gaps_report,
    support_table,
)
from review.settings.registries import Registry

PAGES: Registry[Page] = Registry[Page]("page", lambda p: p.name).discover(
    __name__, Page, lambda p: p.order
)

__all__ = [
    "PAGES", "IncidentReview", "MonthlyReport", "Prose", "SupportGapsReport", "incident_review",
    "incident_review_data", "month_coverage", "monthly_report", "monthly_report_data",
    "notebook_setup", "require_covered", "safe_table", "support_gaps_data",
    "support_gaps_report", "support_table",
]  # fmt: skip
