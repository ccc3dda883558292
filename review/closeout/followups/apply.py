"""Carrying out the plan in RT, and checking afterwards that RT shows what was written."""

from __future__ import annotations

from typing import Any

from review.closeout.followups.keys import note_subject
from review.closeout.followups.plan import Plan, Step
from review.closeout.followups.queue import fetch_followups, followup_frame, notes, tagged
from review.closeout.followups.wanted import Wanted
from review.errors import RTAuthError, RTError
from review.rt.client import RTClient


def _refused(answer: Any) -> list[str]:
    """RT's messages that refuse a change (it answers 200 with them)."""
    messages = answer if isinstance(answer, list) else []
    return [
        str(m)
        for m in messages
        if any(w in str(m).lower() for w in ("permission denied", "couldn't", "could not"))
    ]


def apply_step(client: RTClient, step: Step, queue: str, log: list[str]) -> int:
    """Carry out one create or update; returns the follow-up's ticket id.

    An update's comment is posted first, marked (keys.note_subject) and looked for before
    posting, then the links and subject it goes with: a run stopped anywhere in between (or
    a write not answered) is finished by the re-run, whose plan is the same until the links
    and subject are written, and which finds the comment by its marker. A refusal raises
    RTAuthError naming the right the account lacks.
    """
    rt = _Followup(client, queue, log)
    if step.verb == "create":
        assert step.wanted is not None
        other = tagged(client, queue, step.key)
        if other is not None:  # filed by another run since the plan was made: not again
            step.followup_id = other
            log.append(
                f"skipped {step.key}: #{other} carries its tag already (filed by another run "
                "since this one's plan)"
            )
            return other
        step.followup_id = rt.create(step.key, step.wanted)
        links = step.wanted.incidents
    else:
        assert step.followup_id is not None
        links = step.link
    number = step.followup_id
    unseen = bool(step.comment) and not rt.comment_once(number, step.comment, step.note)
    if links:
        rt.link(number, links)
    if step.subject is not None:
        rt.retitle(number, step.subject)
    if unseen:  # said once the links and subject are written, so the plan asks no comment again
        raise RTAuthError(
            f"{rt.where} took the comment on follow-up #{number} but does not show it to this "
            f"account: grant it ShowTicketComments on queue '{queue}' (without it, a run "
            "stopped between a comment and its links would post the comment again); run again "
            "then, for the rest of the plan"
        )
    return number


class _Followup:
    """The writes to one follow-up in RT, each logged, each refusal one error naming the right
    the account lacks on the follow-up queue; a server error (5xx) is not a refusal."""

    def __init__(self, client: RTClient, queue: str, log: list[str]) -> None:
        self.client, self.queue, self.log = client, queue, log
        self.where = f"RT at {client.conn.url}"

    def failed(self, code: int, what: str, after: str = "") -> None:
        """RT (or a proxy before it) failed a write with a 5xx: no right is missing, and the
        write may have been done all the same. A re-run finds follow-ups by their tags and
        links (`after` says otherwise, for a comment)."""
        if code >= 500:
            raise RTError(
                f"{self.where} answered HTTP {code} to {what}; it may have been done all the "
                "same: "
                + (
                    after
                    or "run again once RT is well (the re-run finds what was done, by the "
                    "follow-ups' tags and links, and does only the rest)"
                )
            )

    def create(self, key: str, w: Wanted) -> int:
        body: dict[str, Any] = {
            "Queue": self.queue,
            "Subject": w.subject,
            "Content": w.body,
            "ContentType": "text/plain",
        }
        if w.owner:
            body["Owner"] = w.owner
            body["Requestor"] = [w.owner]
        code, answer = self.client.send("POST", "ticket", body)
        self.failed(code, f"the create of follow-up {key}")
        if code == 403:
            raise RTAuthError(
                f"{self.where} refused to create a ticket in queue '{self.queue}' (403): the "
                "queue does not exist or the account lacks CreateTicket on it ([followups] queue)"
            )
        if code != 201 or not isinstance(answer, dict) or "id" not in answer:
            raise RTError(f"{self.where} did not create the follow-up {key} (HTTP {code})")
        number = int(answer["id"])
        self.log.append(f"created #{number} {key}")
        if self.client.status(f"ticket/{number}") != 200:
            raise RTAuthError(
                f"{self.where} does not show follow-up #{number} to this account: it needs "
                f"ShowTicket on queue '{self.queue}', or every run files it again"
            )
        return number

    def link(self, number: int, links: tuple[int, ...]) -> None:
        code, answer = self.client.send("PUT", f"ticket/{number}", {"AddRefersTo": list(links)})
        self.failed(code, f"the RefersTo link from follow-up #{number}")
        refused = _refused(answer)
        if code != 200 or refused:
            raise RTAuthError(
                f"{self.where} refused the RefersTo link from follow-up #{number} to "
                f"incident(s) {', '.join(map(str, links))}: the account needs ModifyTicket on "
                f"queue '{self.queue}' and, unless RT's $StrictLinkACL is 0, on the incidents' "
                f"queues too (RT said: {refused[0] if refused else f'HTTP {code}'})"
            )
        self.log.append(f"linked #{number} to {', '.join(f'#{i}' for i in links)}")

    def retitle(self, number: int, subject: str) -> None:
        code, answer = self.client.send("PUT", f"ticket/{number}", {"Subject": subject})
        self.failed(code, f"the new subject of follow-up #{number}")
        if code != 200 or _refused(answer):
            raise RTAuthError(
                f"{self.where} refused to change the subject of follow-up #{number}: the "
                f"account needs ModifyTicket on queue '{self.queue}'"
            )
        self.log.append(f"retitled #{number}")

    def comment_once(self, number: int, text: str, note: str) -> bool:
        """Post the comment unless the newest of the kit's comments on the follow-up carries
        its marker already (posted by a run that stopped before the links and subject).
        Returns whether RT shows it to this account afterwards."""
        if notes(self.client, number)[-1:] == [note]:
            self.log.append(f"comment on #{number} found in RT (posted by an earlier run)")
            return True
        code, _ = self.client.send(
            "POST",
            f"ticket/{number}/comment",
            {"Subject": note_subject(note), "Content": text, "ContentType": "text/plain"},
        )
        self.failed(
            code,
            f"a comment on follow-up #{number}",
            "run again once RT is well (the re-run finds the comment by its marker if RT took "
            "it, and does not post it twice)",
        )
        if code not in (200, 201):
            raise RTAuthError(
                f"{self.where} refused a comment on follow-up #{number} (HTTP {code}): the "
                f"account needs ModifyTicket (or CommentOnTicket) on queue '{self.queue}'"
            )
        self.log.append(f"commented on #{number}")
        return notes(self.client, number)[-1:] == [note]


def check_after(client: RTClient, plan: Plan, queue: str) -> list[str]:
    """Read the queue again: every follow-up written must be visible (else the next run would
    file it again) and owned as asked. Returns warnings; raises when one is invisible."""
    frame = followup_frame(fetch_followups(client, queue))
    owners = dict(
        (int(i), str(o)) for i, o in frame[["followup_id", "owner"]].itertuples(index=False)
    )
    written = [s for s in plan.steps if s.verb != "leave" and s.followup_id]
    hidden = [s.followup_id for s in written if s.followup_id not in owners]
    if hidden:
        raise RTAuthError(
            f"RT at {client.conn.url} does not show follow-up(s) "
            f"{', '.join(f'#{i}' for i in hidden)} to this account: it needs ShowTicket on "
            f"queue '{queue}', or every run files them again"
        )
    warnings = []
    first = frame.drop_duplicates("key").set_index("key")["followup_id"].astype(int).to_dict()
    for step in written:
        if step.verb == "create" and first.get(step.key, step.followup_id) != step.followup_id:
            warnings.append(
                f"follow-up #{step.followup_id} repeats #{first[step.key]} ({step.key}), filed "
                "by a run on another machine at the same moment: resolve "
                f"#{step.followup_id} as a duplicate (later runs leave it alone)"
            )
    for step in written:
        w = step.wanted
        if step.verb == "create" and w and w.owner:
            got = owners[int(step.followup_id or 0)]
            if got != w.owner:
                warnings.append(
                    f"follow-up #{step.followup_id} is owned by {got}, not {w.owner}: RT user "
                    f"'{w.owner}' does not exist or may not own tickets in '{queue}' (OwnTicket)"
                )
    return warnings
