"""The process steps of the checklist: one module each, found here by iterating the package.

A step is one file, review/closeout/steps/<name>.py, whose docstring is its documentation
and which declares one Step (review.closeout.step) around its check. A new step adds its
file and edits no list: the checklist, the incident review and `review check` read STEPS,
in the process's order (each step's `order`).
"""

from __future__ import annotations

from review.closeout.step import Step
from review.settings.registries import Registry

STEPS: Registry[Step] = Registry[Step]("process step", lambda s: s.label).discover(
    __name__, Step, lambda s: s.order
)
