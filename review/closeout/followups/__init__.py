"""Close-out findings -> follow-up tickets in RT, kept in step with the findings run after run.

One follow-up per (incident, rule), or per (service, rule) for the service-level
rules (rules.SERVICE_RULES), so senior staff get one ticket per gap. RT's own state
is the only memory: every follow-up carries a tag at the start of its subject,
``[followup:RULE:ticket/123]`` or ``[followup:RULE:service/NAME]``, and one search of
the follow-up queue finds them all, so running twice files nothing the second time,
on any machine. A finding that no longer fires is never closed here: its follow-up
gets a comment and its subject ends in ``(cleared)``, and a person closes it.

Actions the team adds by hand, in the review's written "actions" section (one per
line, ``- OWNER: what to do``), go the same way: one follow-up each, tagged
``[followup:action:ticket/123/DIGEST]`` (DIGEST: of the action's words), filed, found
and commented on exactly as the findings' are (`team_actions`, `wanted_actions`).

The follow-ups pulled with a snapshot (followups.jsonl) give each finding its
follow-up's link, status, age and whether it is overdue, for the reports.

One module per job: `keys` (tags and subjects), `queue` (RT's follow-up queue), `wanted`
(what findings and actions ask for), `plan` (against what RT holds), `apply` (doing it in
RT), `shown` (the pulled follow-ups in the reports). This package is their interface.
"""

from review.closeout.followups.apply import apply_step, check_after
from review.closeout.followups.keys import (
    ACTION,
    ACTIONS_SECTION,
    CLEARED,
    KEY,
    TAG,
    finding_keys,
    incident_of,
    subject_for,
)
from review.closeout.followups.plan import Plan, Step, make_plan, scope_of
from review.closeout.followups.queue import (
    FOLLOWUP_COLUMNS,
    fetch_followups,
    followup_frame,
    rt_web_url,
    tagged,
)
from review.closeout.followups.shown import (
    attach_followups,
    finding_followups,
    followup_links,
    followups_by_service,
    followups_digest,
    read_followups,
)
from review.closeout.followups.wanted import (
    ACTION_COLUMNS,
    Wanted,
    action_digest,
    actions_frame,
    empty_actions,
    lists_actions,
    review_links,
    team_actions,
    wanted_actions,
    wanted_followups,
)

__all__ = [
    "ACTION", "ACTIONS_SECTION", "ACTION_COLUMNS", "CLEARED", "FOLLOWUP_COLUMNS", "KEY", "TAG",
    "Plan", "Step", "Wanted", "action_digest", "actions_frame", "apply_step",
    "attach_followups", "check_after", "empty_actions", "fetch_followups", "finding_followups",
    "finding_keys", "followup_frame", "followup_links", "followups_by_service",
    "followups_digest", "incident_of", "lists_actions", "make_plan", "read_followups",
    "review_links", "rt_web_url", "scope_of", "subject_for", "tagged", "team_actions",
    "wanted_actions", "wanted_followups",
]  # fmt: skip
