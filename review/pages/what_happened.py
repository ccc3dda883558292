"""The first screen of an incident review: what happened, in words, from the evidence.

Sentences a reader who was not there can follow (classification; the service and who
was affected; how long it took, wall-clock and business; triage and hand-off against
their targets; each deadline met or missed; the findings and their follow-ups in RT;
how the checklist compares), then the page's bounded views of large things: the key
moments with the team's labels, the action items (each finding's follow-up ticket),
and the communication log cut to its first and last messages.

Everything returned is plain text or a frame; the notebook shows it through
review.pages.display (escaped), never as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from review.analysis.moments import with_team_moments
from review.closeout.rules import RULES
from review.pages.display import Note, Table
from review.pages.times import duration_text, local_time
from review.settings.config import Config

LOG_ENDS = 10  # a long communication log shows its first and last this many messages
MOMENTS_SHOWN = 40  # a history with more key moments (a reopen storm) shows this many
TEXT_SHOWN = 2_000  # characters of one message a page shows (a pasted log can be megabytes)


def _hours(value: Any, unit: str = "h") -> str:
    return duration_text(value, unit)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _no(flag: Any) -> bool:
    """A known False (not a missing value)."""
    return not _missing(flag) and not bool(flag)


def _people(text: str) -> str:
    return text if text and text != "none recorded" else ""


def summary_sentences(
    who: dict[str, str],
    row: dict[str, Any],
    sla: dict[str, Any] | None,
    findings: pd.DataFrame,
    checklist: pd.DataFrame,
    differences: pd.DataFrame,
    config: Config,
    pulled_at: pd.Timestamp | None = None,
    not_measured: Mapping[str, str] | None = None,
) -> list[str]:
    """What happened, one sentence per fact (see the module docstring).

    `who` is the who-and-what table as label -> value; `row` the incident's metrics;
    `sla` its row of review.analysis.sla.sla_table (None: no service level applies);
    `not_measured` the metrics the data cannot back (key -> why: review.analysis.quality),
    said so rather than read as "never" or "still open"."""
    why = dict(not_measured or {})
    sentences = [
        _what(who),
        _unmeasured("Time to resolve", why.get("resolved_at")) or _duration(row, config, pulled_at),
        _unmeasured("Time to triage", why.get("triaged_at")) or _triage(row, sla, config),
        _unmeasured("Hand-offs", why.get("handoff_count")) or _handoff(row, sla, config),
    ]
    settled = not _missing(row.get("resolved_at")) or "resolved_at" in why
    sentences.append(_deadlines(sla, config, unjudged="triaged_at" in why, settled=settled))
    sentences.append(_findings(findings))
    sentences.append(_checklist(checklist, differences))
    return [s for s in sentences if s]


def _unmeasured(what: str, why: str | None) -> str:
    """The sentence for a figure the data cannot back ('' when it can)."""
    return f"{what} not measured: {why}." if why else ""


def _what(who: dict[str, str]) -> str:
    kind = who.get("classification", "")
    kind = f"{kind} incident" if _people(kind) else "Incident (not classified)"
    service = _people(who.get("service", ""))
    owners = [
        f"{label} {value}"
        for label in ("service owner", "business owner")
        if (value := _people(who.get(label, "")))
    ]
    where = f" of {service}" if service else " of an unknown service (no Service recorded)"
    if owners:
        where += f" ({', '.join(owners)})"
    reporters = _people(who.get("requestors", ""))
    told = _people(who.get("Cc", ""))
    affected = f"; reported by {reporters}" if reporters else "; no requestor recorded"
    if told:
        affected += f", with {told} on Cc"
    return f"{kind}{where}{affected}."


def _duration(row: dict[str, Any], config: Config, pulled_at: pd.Timestamp | None) -> str:
    opened = local_time(row["opened_at"], config)
    reopens = 0 if _missing(row.get("reopen_count")) else int(row["reopen_count"])
    again = {0: "", 1: ", reopened once"}.get(reopens, f", reopened {reopens} times")
    if _missing(row.get("resolved_at")):
        if pulled_at is None:
            return f"Opened {opened}; still open when the snapshot was taken{again}."
        so_far = (pulled_at - pd.Timestamp(row["opened_at"])).total_seconds() / 3600
        return (
            f"Opened {opened}; still open at the pull ({local_time(pulled_at, config)}), "
            f"{_hours(so_far)} so far{again}."
        )
    return (
        f"Open {_hours(row['time_to_resolve_h'])} wall-clock, "
        f"{_hours(row['time_to_resolve_bh'], 'business hours')}: from {opened} to "
        f"{local_time(row['resolved_at'], config)}{again}."
    )


def _met(breached: Any, what: str, due: Any, config: Config, settled: bool = False) -> str:
    """A deadline met or missed; not known yet while the incident is open, and not known at
    all once it is `settled` (closed) without a verdict: the data cannot back one."""
    if _missing(due):
        return ""
    when = local_time(due, config)
    if _missing(breached) and settled:
        return f"the {what} deadline ({when}) cannot be judged (the data-quality note says why)"
    if _missing(breached):
        return f"the {what} deadline ({when}) is still running"
    return f"the {what} deadline ({when}) was {'missed' if bool(breached) else 'met'}"


def _triage(row: dict[str, Any], sla: dict[str, Any] | None, config: Config) -> str:
    if _missing(row.get("triaged_at")):
        return (
            "Never triaged: no staff owner, staff reply or staff status change "
            f"before {'it was closed' if not _missing(row.get('resolved_at')) else 'the pull'}."
        )
    text = (
        f"Triaged {_hours(row['time_to_triage_h'])} after it was opened "
        f"({_hours(row['time_to_triage_bh'], 'business hours')})"
    )
    if sla is None or _missing(sla.get("response_due_at")):
        return text + "; no response target applies (no service level)."
    replied = sla.get("responded_at")
    reply = (
        f"the first staff reply came {local_time(replied, config)}"
        if not _missing(replied)
        else "no staff reply came"
    )
    if _missing(replied) and _no(sla.get("response_breached")):
        return f"{text}; {reply} before it was closed, within the response deadline."
    closed = not _missing(row.get("resolved_at"))
    verdict = _met(sla["response_breached"], "response", sla["response_due_at"], config, closed)
    return f"{text}; {reply}, so {verdict}."


def _handoff(row: dict[str, Any], sla: dict[str, Any] | None, config: Config) -> str:
    if _missing(row.get("handoff_count")):
        return "Hand-offs not measured."
    count = int(row["handoff_count"])
    if not count:
        return "Never handed off to a developer queue."
    times = "once" if count == 1 else f"{count} times"
    text = f"Handed off to a developer queue {times}"
    if not _missing(row.get("time_in_handoff_h")):
        text += (
            f", {_hours(row['time_in_handoff_h'])} in developer queues "
            f"({_hours(row['time_in_handoff_bh'], 'business hours')})"
        )
    target = (
        f"the hand-off target ({config.sla.handoff_ola_hours:g} business hours to a first "
        "developer action)"
    )
    breached = None if sla is None else sla.get("handoff_ola_breached")
    if _missing(breached):
        return f"{text}; {target} cannot be judged yet."
    return f"{text}; {target} was {'missed' if bool(breached) else 'met'}."


def _response(sla: dict[str, Any], config: Config, unjudged: bool, settled: bool) -> str:
    """The response deadline met or missed ('' without one)."""
    due = sla.get("response_due_at")
    if _missing(due):
        return ""
    if unjudged:
        return (
            f"the response deadline ({local_time(due, config)}) cannot be judged (time to "
            "triage not measured)"
        )
    if _missing(sla.get("responded_at")) and _no(sla.get("response_breached")):
        return (
            "no staff reply came, and it was closed before the response deadline "
            f"({local_time(due, config)})"
        )
    return _met(sla.get("response_breached"), "response", due, config, settled)


def _deadlines(
    sla: dict[str, Any] | None, config: Config, unjudged: bool = False, settled: bool = False
) -> str:
    """The deadlines met or missed; `unjudged`: the response deadline rests on data that
    cannot be backed (the time to triage is not measured), so it is not judged."""
    if sla is None:
        return "No service level applies to this ticket, so it had no deadlines."
    parts = [
        _response(sla, config, unjudged, settled),
        _met(sla.get("resolve_breached"), "resolve", sla.get("resolve_due_at"), config, settled),
    ]
    text = "; ".join(p for p in parts if p)
    if not text:
        return f"Service level {sla.get('sla')}: no deadline could be rebuilt."
    late = ""
    if (
        not _missing(sla.get("resolve_breached"))
        and bool(sla["resolve_breached"])
        and not _missing(sla.get("resolved_at"))
    ):
        hours = (
            pd.Timestamp(sla["resolved_at"]) - pd.Timestamp(sla["resolve_due_at"])
        ).total_seconds() / 3600
        late = f": resolved {_hours(hours)} after it"
    return f"Service level {sla.get('sla')}: {text}{late}."


def _findings(findings: pd.DataFrame) -> str:
    if findings.empty:
        return "No close-out findings: the Close Out's checks all passed."
    rules = list(dict.fromkeys(findings["rule"]))
    plural = "s" if len(findings) != 1 else ""
    text = f"{len(findings)} close-out finding{plural} still open ({', '.join(rules)})"
    if "followup" not in findings.columns:
        return text + "; the snapshot holds no follow-up tickets (`review pull` takes them)."
    filed = findings.loc[findings["followup"].notna()]
    if filed.empty:
        return text + "; none has a follow-up ticket in RT yet (`review follow-ups --apply`)."
    states = [
        f"#{number} {status}" + (f" for {age} days" if not _missing(age) else "")
        for number, status, age in filed.drop_duplicates("followup")[
            ["followup", "followup_status", "followup_age_days"]
        ].itertuples(index=False)
    ]
    without = len(findings) - len(filed)
    rest = f"; {without} without one" if without else ""
    return text + f"; follow-ups in RT: {', '.join(states)}{rest}."


def _checklist(checklist: pd.DataFrame, differences: pd.DataFrame) -> str:
    if checklist.empty:
        return ""
    counts = checklist["state"].value_counts()
    done, missing = int(counts.get("done", 0)), int(counts.get("missing", 0))
    text = f"Process checklist: {done} of {len(checklist)} steps done, {missing} missing"
    if len(differences):
        text += (
            f"; {len(differences)} difference{'s' if len(differences) != 1 else ''} from the "
            "findings, explained under the checklist"
        )
    return text + "."


# --------------------------------------------------------------------------- moments


def moments_table(
    moments: pd.DataFrame,
    events: pd.DataFrame,
    team: list[tuple[int, str]],
    config: Config,
    rt_url: str,
) -> Any:
    """The key moments (with the team's), each linked to its transaction in RT."""
    shown = with_team_moments(moments, events, team)
    total = len(shown)
    if shown.empty:
        return Note("No key moments: the history holds no transactions for this ticket.")
    cut = len(shown) > MOMENTS_SHOWN
    if cut:
        shown = pd.concat([shown.head(MOMENTS_SHOWN // 2), shown.tail(MOMENTS_SHOWN // 2)])
    frame = pd.DataFrame(
        {
            "when": [local_time(a, config) or "not in this ticket's history" for a in shown["at"]],
            "moment": shown["label"].to_numpy(),
            "who": shown["who"].to_numpy(),
            "transaction": shown["txn_id"].astype("int64").to_numpy(),
            "source": shown["source"].to_numpy(),
        }
    )
    links = {"transaction": rt_url + "#txn-{}"} if rt_url else None
    caption = None
    if cut:
        half = MOMENTS_SHOWN // 2
        caption = f"The first and last {half} of {total} key moments (reopens and hand-offs repeat)"
    return Table(frame, links, caption)


# --------------------------------------------------------------------------- action items


def action_items(findings: pd.DataFrame, followup_links: dict[str, str]) -> Any:
    """Each finding's action and its follow-up ticket in RT: owner, status, age."""
    if findings.empty:
        return Note("No action items: no close-out finding for this incident.")
    frame = pd.DataFrame(
        {
            "finding": findings["rule"].map(lambda r: RULES[r].title if r in RULES else r),
            "action": findings["action"],
            "action_owner": findings["action_owner"],
        }
    )
    if "followup" not in findings.columns:
        return Table(
            frame,
            caption="Follow-up tickets: not in this snapshot (the pull takes them from RT)",
        )
    filed = findings["followup"].notna()
    frame["followup"] = findings["followup"].astype("Int64")
    frame["owner_in_RT"] = findings["followup_owner"].where(filed, "")
    frame["RT_status"] = findings["followup_status"].where(filed, "no follow-up yet")
    frame["age_days"] = findings["followup_age_days"].astype("Int64")
    frame["overdue"] = findings["followup_overdue"]
    return Table(frame, followup_links)


# --------------------------------------------------------------------------- long logs


def communication_log(communication: pd.DataFrame, ticket_id: int) -> list[Any]:
    """The replies and comments; a long log is cut to its first and last LOG_ENDS, with
    counts of the rest, and a long message to its first TEXT_SHOWN characters (the whole
    log stays in the notebook's `review.communication`)."""
    if communication.empty:
        return [Note("No replies or comments.")]
    communication = _texts_cut(communication)
    if len(communication) <= 2 * LOG_ENDS + 5:
        return [Table(communication)]
    kinds = communication["what"].value_counts()
    counted = ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())
    left = len(communication) - 2 * LOG_ENDS
    return [
        Note(
            f"{len(communication):,} messages ({counted}) from {communication['when'].iloc[0]} "
            f"to {communication['when'].iloc[-1]}: the first and last {LOG_ENDS} are shown. "
            f"The other {left:,} are in the notebook: open it in JupyterLab "
            f"(`review lab {ticket_id}`) and show `review.communication`."
        ),
        Table(communication.head(LOG_ENDS), caption=f"The first {LOG_ENDS}"),
        Table(communication.tail(LOG_ENDS), caption=f"The last {LOG_ENDS}"),
    ]


def _texts_cut(communication: pd.DataFrame) -> pd.DataFrame:
    """Each text longer than TEXT_SHOWN cut there, saying how much more there is and where."""
    text = communication["text"].astype(str)
    more = text.str.len() - TEXT_SHOWN
    if not (more > 0).any():
        return communication
    cut = (
        text.str.slice(0, TEXT_SHOWN) + " [... "
        + more.map("{:,}".format) + " more characters: the whole message is in RT and in the "
        "notebook's review.communication]"
    )  # fmt: skip
    return communication.assign(text=text.where(more <= 0, cut))
