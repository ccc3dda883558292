"""What each report shows, assembled in one call per notebook.

The notebooks in ``notebooks/`` hold no logic: they call one of
``incident_review_data``, ``monthly_report_data`` or ``support_gaps_data`` and
display the frames it returns (plus the figures of ``review.pages.figures``), through
``notebook_setup`` and ``safe_table`` (from ``review.pages.display``, importable here so a
notebook needs one import).

Ticket text (subjects, reply texts, names) is untrusted. Everything here is
returned as plain values in DataFrames; notebooks show them through pandas'
escaping HTML or as plain text, never as Markdown or hand-made HTML.
"""

from review.pages.display import Prose, notebook_setup, safe_table
from review.pages.reports.common import month_coverage, require_covered
from review.pages.reports.incident import IncidentReview, incident_review_data
from review.pages.reports.monthly import MonthlyReport, monthly_report_data
from review.pages.reports.support import SupportGapsReport, support_gaps_data

__all__ = [
    "IncidentReview", "MonthlyReport", "Prose", "SupportGapsReport", "incident_review_data",
    "month_coverage", "monthly_report_data", "notebook_setup", "require_covered", "safe_table",
    "support_gaps_data",
]  # fmt: skip
