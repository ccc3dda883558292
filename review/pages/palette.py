"""The palette, defined once: the same status, rule, classification, clock and queue have the
same colour in every figure of every report (review.pages.figures takes its colours from here)."""

from __future__ import annotations

from review.closeout.rules import RULES
from review.settings.config import Config

GREY = "#c7c7c7"
OTHER = "#bab0ac"  # a value the palette does not know
STATUS_COLORS = {
    "new": GREY,
    "open": "#4e79a7",
    "stalled": "#edc948",
    "resolved": "#59a14f",
    "rejected": "#9c755f",
}
OWNER_COLORS = {"Nobody": GREY}
CLOCK_COLORS = {"wall-clock": "#4e79a7", "business": "#f28e2b"}  # wall-clock and business hours
CLASSIFICATION_COLORS = {  # by the role a classification plays (config [classification])
    "urgent_outage": "#e15759",
    "urgent_degraded": "#f28e2b",
    "handoff": "#76b7b2",
}
_RULE_ORDER = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f",
]  # fmt: skip
RULE_COLORS = {rule: _RULE_ORDER[i % len(_RULE_ORDER)] for i, rule in enumerate(RULES)}
OPS_QUEUE_COLORS = ["#4e79a7", "#76b7b2"]  # blues: where problems arrive
DEV_QUEUE_COLORS = ["#f28e2b", "#e15759", "#b07aa1", "#9c755f", "#ff9da7"]  # warm: developers
BAR_COLOR = "#4e79a7"  # a plain count (incidents, days)
DEADLINE_COLOR = "#b2182b"  # a service-level deadline (review.analysis.sla) on the timeline
EVENT_COLORS = {
    "staff reply": "#1f77b4",
    "requestor reply": "#d62728",
    "comment": "#7f7f7f",
    "fields, links": "#9467bd",
}
OTHERS = [
    "#86bcb6",
    "#f1ce63",
    "#d37295",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#d4a6c8",
]  # for values the palette does not name, in turn


def queue_color(name: str, config: Config) -> str:
    """A queue's colour, the same in every figure: blues for ops queues, warm colours for the
    developer queues, by their place in the config's lists."""
    for names, pool in (
        (config.queues.ops, OPS_QUEUE_COLORS),
        (config.queues.developer, DEV_QUEUE_COLORS),
    ):
        if name in names:
            return pool[list(names).index(name) % len(pool)]
    return OTHER


def classification_color(value: str, config: Config) -> str:
    """A classification's colour, by the role it plays in the config; grey-brown if unknown."""
    roles = {getattr(config.classification, role): c for role, c in CLASSIFICATION_COLORS.items()}
    return roles.get(value, OTHER)


def rule_color(rule: str) -> str:
    return RULE_COLORS.get(rule, OTHER)
