"""Drive parsed scenarios into a real RT 5 through REST2, as the acting users, back in time.

Every person in site.yaml gets an RT account with one shared password, so each
action is performed by logging in as whoever did it: RT then records the right
Creator and runs its own scrips (new -> open, EmailRecord, reopen on reply)
exactly as it would for that person. The server runs under libfaketime with a
frozen clock; before each action the replayer writes that action's instant to
the clock file, so RT stamps Created, Started, Resolved, Told and LastUpdated
itself. ``review metrics`` on a pull of the result must equal ``review metrics``
on the generator's snapshot of the same scenarios.

    python -m scenarios.replay initialdata SCENARIOS > site.pl
    python -m scenarios.replay replay SCENARIOS RTDIR [--port N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2

from review.errors import ScenarioError
from review.settings.config import source_dir
from scenarios.model import (
    Incident,
    ScenarioSet,
    Site,
    Step,
    business_clock,
    load_scenarios,
)

# A throwaway RT on loopback: every scenario person logs in with this password.
PASSWORD = "scenario-pw"
ROOT_PASSWORD = "password"  # RT's default for root
# A privileged account without ShowTicketComments, to show that a pull warns about it.
AUDITOR = "auditor"
RT_SETUP = "/usr/sbin/rt-setup-database-5"
SLA_CONFIG = "sla.pm"  # the site's %ServiceAgreements, in the RT's RT_SiteConfig.d
STAFF_RIGHTS = (
    "SeeQueue", "ShowTicket", "ShowTicketComments", "ShowOutgoingEmail", "CreateTicket",
    "ReplyToTicket", "CommentOnTicket", "ModifyTicket", "OwnTicket", "TakeTicket", "StealTicket",
    "ReassignTicket", "Watch", "WatchAsAdminCc", "SeeCustomField", "ModifyCustomField", "SeeGroup",
)  # fmt: skip
AUDITOR_RIGHTS = ("SeeQueue", "ShowTicket", "ShowOutgoingEmail", "SeeCustomField")
EVERYONE_RIGHTS = (
    "CreateTicket",
    "ReplyToTicket",
    "SeeQueue",
    "SeeCustomField",
    "ModifyCustomField",
)
REQUESTOR_RIGHTS = ("ShowTicket", "ReplyToTicket", "ModifyTicket")  # requestors may resolve
_LINK_FIELDS = {
    "refers_to": "AddRefersTo",
    "depends_on": "AddDependsOn",
    "parent": "AddMemberOf",
    "child": "AddMembers",
}


def _perl(value: Any) -> str:
    """A Perl literal for a string, list or dict (JSON-like data only)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_perl(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} => {_perl(v)}" for k, v in value.items()) + " }"


def initialdata(site: Site) -> str:
    """RT initialdata (Perl) for the site: queues, custom fields on every queue, people, rights."""
    queues = [name for name, _ in site.queues]
    sla_on = {"SLADisabled": 0} if site.sla.levels else {}  # RT creates queues with SLA off
    groups = [
        {"Name": "Staff", "Description": "Scenario staff"},
        {"Name": "Auditors", "Description": "May read tickets but not comments"},
    ]
    users: list[dict[str, Any]] = []
    for person in site.people:
        user: dict[str, Any] = {
            "Name": person.name,
            "EmailAddress": person.email,
            "Privileged": 1 if person.privileged else 0,
            "Password": PASSWORD,
        }
        if person.real_name:
            user["RealName"] = person.real_name
        if person.privileged:
            user["MemberOf"] = "Staff"
        users.append(user)
    users.append(
        {
            "Name": AUDITOR,
            "EmailAddress": "auditor@example.invalid",
            "Privileged": 1,
            "Password": PASSWORD,
            "MemberOf": "Auditors",
        }
    )
    fields = [
        {
            "Name": name,
            "Type": "FreeformSingle",
            "LookupType": "RT::Queue-RT::Ticket",
            "Queue": queues,
        }
        for name in site.custom_fields
    ]
    acl = [
        {"GroupDomain": "UserDefined", "GroupId": "Staff", "Right": STAFF_RIGHTS},
        {"GroupDomain": "UserDefined", "GroupId": "Auditors", "Right": AUDITOR_RIGHTS},
        {"GroupDomain": "SystemInternal", "GroupType": "Everyone", "Right": EVERYONE_RIGHTS},
        {"GroupDomain": "RT::System-Role", "GroupType": "Requestor", "Right": REQUESTOR_RIGHTS},
    ]
    lines = [
        "# RT initialdata written by scenarios.replay; load with rt-setup-database-5.",
        f"@Groups = ({', '.join(_perl(g) for g in groups)});",
        "@Queues = ("
        + ", ".join(_perl({"Name": n, "Description": d, **sla_on}) for n, d in site.queues)
        + ");",
        "@Users = (" + ",\n  ".join(_perl(u) for u in users) + ");",
        "@CustomFields = (" + ",\n  ".join(_perl(f) for f in fields) + ");",
        "@ACL = (" + ",\n  ".join(_perl(a) for a in acl) + ");",
        "1;",
    ]
    return "\n".join(lines) + "\n"


def followup_initialdata(scenario_dir: Path) -> str:
    """RT initialdata for site.yaml's `followups`: the follow-up queue and its accounts' rights
    on that queue only (loaded after the replay, so no incident's id moves)."""
    import yaml

    raw = yaml.safe_load((scenario_dir / "site.yaml").read_text("utf-8")).get("followups") or {}
    if not raw:
        return ""
    queue = raw["queue"]
    users = [
        {"Name": a["name"], "EmailAddress": a["email"], "Privileged": 1, "Password": PASSWORD}
        for a in raw.get("accounts", [])
    ]
    acl = [
        {"UserId": a["name"], "Queue": queue["name"], "Right": list(a["rights"])}
        for a in raw.get("accounts", [])
    ]
    queues = _perl({"Name": queue["name"], "Description": queue.get("description", "")})
    return (
        "# The follow-up queue of review follow-ups; written by scenarios.replay.\n"
        f"@Queues = ({queues});\n"
        "@Users = (" + ",\n  ".join(_perl(u) for u in users) + ");\n"
        "@ACL = (" + ",\n  ".join(_perl(a) for a in acl) + ");\n1;\n"
    )


def load_initialdata(rt_dir: Path, text: str) -> None:
    """Load RT initialdata into the (stopped) RT database in ``rt_dir``."""
    datafile = rt_dir / "followups.pl"
    datafile.write_text(text, "utf-8")
    env = {
        **os.environ,
        "RT_SITE_CONFIG": str(rt_dir / "RT_SiteConfig.pm"),
        "RT_SITE_CONFIG_DIR": str(rt_dir / "RT_SiteConfig.d"),
    }
    done = subprocess.run(
        [RT_SETUP, "--action", "insert", "--skip-create", "--datafile", str(datafile)],
        capture_output=True, text=True, check=False, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0 or "[error]" in done.stdout + done.stderr:
        raise ScenarioError(f"loading {datafile} failed: {(done.stdout + done.stderr)[-300:]}")


class Replayer:
    """Performs scenario actions against RT, one HTTP session per acting person."""

    def __init__(
        self,
        base_url: str,
        set_clock: Callable[[datetime], None],
        sla_at_create: Callable[[Incident], str] = lambda incident: "",
    ) -> None:
        self.api = base_url.rstrip("/") + "/REST/2.0/"
        self.sla_at_create = sla_at_create  # the level the intake names ("" = RT's default)
        self.set_clock = set_clock
        self.sessions: dict[str, httpx2.Client] = {}
        self.ticket_ids: dict[str, int] = {}
        self.writes = 0

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()

    def _session(self, name: str) -> httpx2.Client:
        if name not in self.sessions:
            self.sessions[name] = httpx2.Client(auth=httpx2.BasicAuth(name, PASSWORD), timeout=60.0)
        return self.sessions[name]

    def _call(self, who: str, method: str, path: str, body: dict[str, Any], where: Any) -> Any:
        self.writes += 1
        response = self._session(who).request(method, self.api + path, json=body)
        if response.status_code not in (200, 201):
            raise ScenarioError(
                f"RT refused {method} {path} by {who} (HTTP {response.status_code}): "
                f"{response.text[:200]}",
                *where,
            )
        answer = response.json()
        refused = [m for m in (answer if isinstance(answer, list) else []) if _is_refusal(str(m))]
        if refused:
            raise ScenarioError(f"RT refused {path} by {who}: {refused}", *where)
        return answer

    def run(self, scenarios: ScenarioSet) -> dict[str, int]:
        """Replay every incident in global time order; returns incident key -> ticket id."""
        for at, _, _, incident, step in scenarios.timeline():
            self.set_clock(at)
            if step is None:
                self.create(incident)
            else:
                self.step(incident, step)
        return self.ticket_ids

    def create(self, incident: Incident) -> None:
        where = (incident.source, incident.key)
        body: dict[str, Any] = {
            "Queue": incident.queue,
            "Subject": incident.subject,
            "Requestor": list(incident.requestors),
            "Content": incident.subject,
            "ContentType": "text/plain",
        }
        if incident.cc:
            body["Cc"] = list(incident.cc)
        if incident.admincc:
            body["AdminCc"] = list(incident.admincc)
        if incident.status != "new":
            body["Status"] = incident.status
        level = self.sla_at_create(incident)
        if level:
            body["SLA"] = level
        fields = {k: v for k, v in incident.fields.items() if v != ""}
        if fields:
            body["CustomFields"] = fields
        answer = self._call(incident.creator, "POST", "ticket", body, where)
        ticket_id = int(answer["id"])
        if ticket_id != incident.ticket_id:
            raise ScenarioError(
                f"RT gave ticket id {ticket_id}, the generator expects {incident.ticket_id}: "
                "replay into a fresh RT",
                *where,
            )
        self.ticket_ids[incident.key] = ticket_id

    def step(self, incident: Incident, step: Step) -> None:
        where = (incident.source, incident.key)
        path = f"ticket/{self.ticket_ids[incident.key]}"
        value = step.value
        if step.action in ("reply", "comment"):
            kind = "correspond" if step.action == "reply" else "comment"
            text = str(value) if value not in (None, "") else "(no text)"
            self._call(
                step.by,
                "POST",
                f"{path}/{kind}",
                {"Content": text, "ContentType": "text/plain"},
                where,
            )
            return
        body: dict[str, Any]
        if step.action == "owner":
            body = {"Owner": str(value)}
        elif step.action == "queue":
            body = {"Queue": str(value)}
        elif step.action == "set":
            body = {"CustomFields": {k: "" if v is None else str(v) for k, v in value.items()}}
        elif step.action == "status":
            body = {"Status": str(value)}
        elif step.action == "link":
            kind, target = next(iter(value.items()))
            if target not in self.ticket_ids:
                raise ScenarioError(f"link to {target!r} before it exists in RT", *where)
            body = {_LINK_FIELDS[kind]: self.ticket_ids[target]}
        elif step.action == "merge_into":
            body = {"MergeInto": self.ticket_ids[str(value)]}
        else:
            raise ScenarioError(f"unknown action {step.action!r}", *where)
        self._call(step.by, "PUT", path, body, where)


def _is_refusal(message: str) -> bool:
    lowered = message.lower()
    return any(
        word in lowered
        for word in ("permission denied", "could not", "couldn't", "invalid", "not allowed")
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rt_server(*args: str | int | Path) -> None:
    """Run scripts/rt-server with arguments; its failure message becomes a ScenarioError."""
    done = subprocess.run(
        ["bash", str(source_dir("scripts") / "rt-server"), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ScenarioError(f"scripts/rt-server {args[0]} failed: {done.stderr.strip()}")


def sla_site_config(scenarios: ScenarioSet) -> str:
    """RT_SiteConfig.d lines for site.yaml's service levels ("" without)."""
    from scenarios.rt_config import rt_site_config

    if not scenarios.site.sla.levels:
        return ""
    return rt_site_config(scenarios.site.sla, business_clock(scenarios))


def replay_into(scenario_dir: Path, rt_dir: Path, port: int | None = None) -> dict[str, int]:
    """Start the RT in ``rt_dir`` under a frozen fake clock, replay the scenarios, stop it."""
    scenarios = load_scenarios(scenario_dir)
    clock = rt_dir / "faketime"

    def set_clock(moment: datetime) -> None:
        clock.write_text(moment.strftime("%Y-%m-%d %H:%M:%S") + "\n")

    set_clock(scenarios.incidents[0].created if scenarios.incidents else datetime.now())
    sla = sla_site_config(scenarios)
    if sla:
        (rt_dir / "RT_SiteConfig.d" / SLA_CONFIG).write_text(sla, "utf-8")
    port = port or free_port()
    rt_server("start", rt_dir, port, clock)
    replayer = Replayer(f"http://127.0.0.1:{port}", set_clock, scenarios.site.sla_sent_at_create)
    try:
        ids = replayer.run(scenarios)
    finally:
        replayer.close()
        rt_server("stop", rt_dir)
    extra = followup_initialdata(scenario_dir)
    if extra:
        load_initialdata(rt_dir, extra)
    return ids


def main(argv: list[str] | None = None) -> None:
    """Command line: write initialdata for a scenario site, or replay scenarios into an RT."""
    parser = argparse.ArgumentParser(prog="python -m scenarios.replay")
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("initialdata", help="print RT initialdata for SCENARIOS/site.yaml")
    init.add_argument("scenarios", type=Path)
    rep = sub.add_parser("replay", help="replay SCENARIOS into the RT initialised in RTDIR")
    rep.add_argument("scenarios", type=Path)
    rep.add_argument("rt_dir", type=Path)
    rep.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "initialdata":
            sys.stdout.write(initialdata(load_scenarios(args.scenarios).site))
        else:
            ids = replay_into(args.scenarios, args.rt_dir.resolve(), args.port)
            print(json.dumps(ids))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
