"""A real site unlike the sample, built in a real RT 5 (tests/fixtures/realsite-rt): its history
written under a fake clock so RT sets every date itself.

The site: queues 'Service Desk' (intake), 'Networks' (intake too, renamed 'Infra Networks' late
in November), 'App Dev' (developers) and 'Sécurité' (the analyst cannot see it), all on
lifecycle triage-flow (triage; investigating, waiting; resolved, cancelled), whose 'resolved' the
site renamed 'closed' on November 1st (lifecycle-october.pm, then lifecycle-november.pm); RT's
own $Timezone is Europe/Berlin and the staff have theirs. Fields: 'Affected service' (several
values), 'Severity' (Sev1, Sev2, Change), 'Fix' (Permanent, Stopgap), 'Cause' (disabled at the
end). TICKETS says what each ticket is; the tests hold the kit's numbers against it by hand.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2

from scenarios.replay import free_port, rt_server

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "realsite-rt"
FILES = ("site.pl", "lifecycle-october.pm", "lifecycle-november.pm")
TIMEZONE = "Set($Timezone, 'Europe/Berlin');\n1;\n"
PASSWORD = "password"

# id: what the ticket is (ids are given in creation order)
TICKETS = {
    1: "opened 2026-09-28 before the window, resolved 2026-10-02 in October's 'resolved'",
    2: "Sev1 in Service Desk, handed to App Dev, resolved",
    3: "Sev2 with two services, triaged by a status move out of 'triage', a requestor's reply",
    4: "reopened by its requestor",
    5: "opened in Networks (later 'Infra Networks'), handed to App Dev",
    6: "opened in Service Desk, moved to Sécurité, closed there",
    7: "merged into by 8",
    8: "merged into 7",
    9: "deleted",
    10: "cancelled (rejected)",
    11: "non-ASCII, opened by Zoë, a comment in App Dev the analyst may not read",
    12: "Created set after its Resolved in the database",
    13: "still being investigated",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Site:
    """Writes the site's history into an RT, one REST2 session per person."""

    def __init__(self, url: str, set_clock: Callable[[datetime], None]) -> None:
        self.api = url.rstrip("/") + "/REST/2.0/"
        self.set_clock = set_clock
        self.sessions: dict[str, httpx2.Client] = {}

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()

    def call(self, when: str, who: str, method: str, path: str, body: dict[str, Any]) -> Any:
        self.set_clock(at(when))
        if who not in self.sessions:
            self.sessions[who] = httpx2.Client(auth=httpx2.BasicAuth(who, PASSWORD), timeout=60)
        response = self.sessions[who].request(method, self.api + path, json=body)
        assert response.status_code in (200, 201), (path, body, response.text)
        answer = response.json()
        for message in answer if isinstance(answer, list) else []:
            assert not any(w in str(message).lower() for w in ("denied", "could not", "invalid")), (
                path,
                body,
                answer,
            )
        return answer

    def create(self, when: str, who: str, queue: str, subject: str, **fields: Any) -> int:
        body: dict[str, Any] = {
            "Queue": queue,
            "Subject": subject,
            "Requestor": ["zoe@example.invalid"],
            "Content": subject,
            "ContentType": "text/plain",
            "CustomFields": fields,
        }
        return int(self.call(when, who, "POST", "ticket", body)["id"])

    def put(self, when: str, who: str, ticket: int, **body: Any) -> None:
        self.call(when, who, "PUT", f"ticket/{ticket}", body)

    def say(self, when: str, who: str, ticket: int, kind: str, text: str) -> None:
        body = {"Content": text, "ContentType": "text/plain"}
        self.call(when, who, "POST", f"ticket/{ticket}/{kind}", body)


def october(site: Site) -> None:
    """Tickets 1-5, under October's lifecycle (closed as 'resolved')."""
    one = site.create("2026-09-28 10:00", "root", "Service Desk", "Printer queue stuck",
                      Severity="Sev2", **{"Affected service": ["Printing"]})  # fmt: skip
    site.put("2026-09-28 10:30", "alice", one, Owner="alice")
    site.put("2026-10-02 10:00", "alice", one, Status="resolved")
    two = site.create("2026-10-05 10:00", "root", "Service Desk", "Payroll run failed",
                      Severity="Sev1", **{"Affected service": ["Payroll"]})  # fmt: skip
    site.put("2026-10-05 10:30", "alice", two, Owner="alice")
    site.say("2026-10-05 11:00", "alice", two, "correspond", "Looking into it.")
    site.put("2026-10-05 12:00", "alice", two, Status="investigating")
    site.put("2026-10-05 14:00", "alice", two, Queue="App Dev")
    site.put("2026-10-06 10:00", "bob", two, Status="resolved",
             CustomFields={"Fix": "Permanent", "Cause": "disk full"})  # fmt: skip
    three = site.create("2026-10-12 09:00", "root", "Service Desk", "VPN and payroll slow",
                        Severity="Sev2", **{"Affected service": ["Payroll", "VPN"]})  # fmt: skip
    site.put("2026-10-12 09:45", "bob", three, Status="investigating")
    site.say("2026-10-12 10:00", "zoe", three, "correspond", "Still slow here.")
    site.say("2026-10-12 12:00", "alice", three, "correspond", "Fixed the route.")
    site.put("2026-10-12 13:00", "bob", three, Status="resolved", CustomFields={"Fix": "Stopgap"})
    four = site.create("2026-10-20 08:00", "root", "Service Desk", "Wiki login loop",
                       Severity="Sev2", **{"Affected service": ["Wiki"]})  # fmt: skip
    site.put("2026-10-20 08:15", "alice", four, Owner="alice")
    site.put("2026-10-20 09:00", "alice", four, Status="resolved")
    site.put("2026-10-21 09:00", "zoe", four, Status="investigating")
    site.put("2026-10-21 11:00", "alice", four, Status="resolved")
    five = site.create("2026-10-28 10:00", "root", "Networks", "Core switch flapping",
                       Severity="Sev1", **{"Affected service": ["Network"]})  # fmt: skip
    site.put("2026-10-28 10:20", "bob", five, Owner="bob")
    site.put("2026-10-28 11:00", "bob", five, Queue="App Dev")
    site.put("2026-10-29 11:00", "bob", five, Status="resolved")


def november(site: Site) -> None:
    """Tickets 6-13, under November's lifecycle (closed as 'closed')."""
    six = site.create("2026-11-03 10:00", "root", "Service Desk", "Phishing wave",
                      Severity="Sev1", **{"Affected service": ["Mail"]})  # fmt: skip
    site.put("2026-11-03 10:10", "alice", six, Owner="alice")
    site.say("2026-11-03 10:20", "alice", six, "correspond", "Blocking the sender.")
    site.put("2026-11-03 10:30", "alice", six, Queue="Sécurité")
    site.put("2026-11-04 10:00", "bob", six, Status="closed")
    seven = site.create("2026-11-05 10:00", "root", "Service Desk", "VPN down",
                        Severity="Sev1", **{"Affected service": ["VPN"]})  # fmt: skip
    eight = site.create("2026-11-05 10:10", "root", "Service Desk", "VPN down too",
                        Severity="Sev1", **{"Affected service": ["VPN"]})  # fmt: skip
    site.put("2026-11-05 10:30", "alice", eight, MergeInto=seven)
    site.put("2026-11-05 10:40", "alice", seven, Owner="alice")
    site.put("2026-11-05 15:00", "alice", seven, Status="closed")
    nine = site.create("2026-11-10 09:00", "root", "Service Desk", "test ticket, ignore",
                       Severity="Change", **{"Affected service": ["Wiki"]})  # fmt: skip
    site.put("2026-11-10 09:30", "alice", nine, Status="deleted")
    ten = site.create("2026-11-12 10:00", "root", "Service Desk", "Not an incident",
                      Severity="Sev2", **{"Affected service": ["Printing"]})  # fmt: skip
    site.put("2026-11-12 10:30", "bob", ten, Status="cancelled")
    eleven = site.create("2026-11-16 10:00", "zoe", "Service Desk",
                         "Überweisung fehlgeschlagen — 支払い", Severity="Sev2",
                         **{"Affected service": ["Gehaltsabrechnung (Lohn)"]})  # fmt: skip
    site.put("2026-11-16 11:00", "alice", eleven, Owner="alice")
    site.say("2026-11-16 11:30", "alice", eleven, "correspond", "Grüße, wir prüfen das.")
    site.put("2026-11-16 12:00", "alice", eleven, Queue="App Dev")
    site.say("2026-11-17 12:00", "alice", eleven, "comment", "Bank API returns 500.")
    site.put("2026-11-18 12:00", "alice", eleven, Status="closed")
    twelve = site.create("2026-11-20 10:00", "root", "Service Desk", "Clock skew import",
                         Severity="Sev2", **{"Affected service": ["Wiki"]})  # fmt: skip
    site.put("2026-11-20 11:00", "alice", twelve, Status="closed")
    thirteen = site.create("2026-11-25 10:00", "root", "Service Desk", "Slow disks",
                           Severity="Sev2", **{"Affected service": ["Storage"]})  # fmt: skip
    site.put("2026-11-25 10:30", "alice", thirteen, Owner="alice")
    site.put("2026-11-25 11:00", "alice", thirteen, Status="investigating")
    site.call("2026-11-26 09:00", "root", "PUT", "queue/Networks", {"Name": "Infra Networks"})


def build(directory: Path) -> None:
    """The site's RT database in `directory`/rt.sqlite (the server stopped again)."""
    config = directory / "RT_SiteConfig.d"
    config.mkdir(parents=True)
    (config / "timezone.pm").write_text(TIMEZONE)
    shutil.copy2(FIXTURE / "lifecycle-october.pm", config / "lifecycle.pm")
    rt_server("init", directory, FIXTURE / "site.pl")
    clock = directory / "faketime"

    def set_clock(moment: datetime) -> None:
        clock.write_text(moment.strftime("%Y-%m-%d %H:%M:%S") + "\n")

    for phase, lifecycle in ((october, "october"), (november, "november")):
        shutil.copy2(FIXTURE / f"lifecycle-{lifecycle}.pm", config / "lifecycle.pm")
        set_clock(at("2026-09-28 09:00"))
        port = free_port()
        rt_server("start", directory, port, clock)
        site = Site(f"http://127.0.0.1:{port}", set_clock)
        try:
            phase(site)
        finally:
            site.close()
            rt_server("stop", directory)
    with sqlite3.connect(directory / "rt.sqlite") as db:
        db.execute("UPDATE Tickets SET Created = '2026-11-20 12:00:00' WHERE id = 12")
        db.execute("UPDATE CustomFields SET Disabled = 1 WHERE Name = 'Cause'")


def serve(database: Path, directory: Path) -> int:
    """Start a server on a copy of the built database, under November's lifecycle; its port."""
    config = directory / "RT_SiteConfig.d"
    config.mkdir(parents=True, exist_ok=True)
    (config / "timezone.pm").write_text(TIMEZONE)
    shutil.copy2(FIXTURE / "lifecycle-november.pm", config / "lifecycle.pm")
    shutil.copy2(database, directory / "rt.sqlite")
    port = free_port()
    rt_server("start", directory, port)
    return port
