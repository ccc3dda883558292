"""Pull 1,000 closed tickets (~20 transactions each) from a real RT on loopback, three ways.

1. the kit's pull (ticket search with fields + bulk TransactionSQL, 100 per page, concurrent);
2. the kit's per-ticket fallback (``ticket/{id}/history`` per ticket);
3. the loop a user would write with python-rt alone: ``search`` then ``get_ticket`` and
   ``get_ticket_history`` per ticket;
plus the cost of pulling again into the kit's snapshot with nothing changed.

Seeding goes through REST2 (every write runs RT's scrips, ~0.1-0.2 s each), so the seeded
database is cached under benchmarks/_work/ and restored in a second on later runs.

    python benchmarks/pull_bench.py [--tickets 1000] [--workers 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import rt.rest2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review.rt.client import Connection, RTClient  # noqa: E402
from review.rt.pull import Window, pull  # noqa: E402
from review.settings.config import load_config  # noqa: E402
from scenarios.model import Person, Site  # noqa: E402
from scenarios.replay import PASSWORD, ROOT_PASSWORD, free_port, initialdata, rt_server  # noqa: E402

WORK = ROOT / "benchmarks" / "_work"
STAFF = [f"staff{i}" for i in range(8)]
CUSTOMERS = [f"cust{i}" for i in range(16)]
SITE = Site(
    rtname="example",
    queues=(("ops-help", "Operations help"), ("dev-web", "Web developers")),
    custom_fields=("Service", "Classification", "Root Cause", "Resolution Type"),
    people=tuple(
        [Person(n, f"{n}@example.edu", n.title(), True) for n in STAFF]
        + [Person(n, f"{n}@example.org", "", False) for n in CUSTOMERS]
    ),
)


def seed(base: str, count: int, workers: int) -> None:
    """Create ``count`` tickets, each walked through ~20 transactions and left resolved."""
    sessions = {
        name: httpx2.Client(auth=httpx2.BasicAuth(name, PASSWORD), timeout=120)
        for name in STAFF + CUSTOMERS
    }
    api = base + "/REST/2.0/"

    def call(who: str, method: str, path: str, body: dict[str, Any]) -> Any:
        response = sessions[who].request(method, api + path, json=body)
        response.raise_for_status()
        return response.json()

    def one(n: int) -> None:
        cust, lead, dev = CUSTOMERS[n % 16], STAFF[n % 8], STAFF[(n + 3) % 8]
        note = {"ContentType": "text/plain"}
        ticket = call(cust, "POST", "ticket", {
            "Queue": "ops-help", "Subject": f"Problem {n}", "Requestor": cust,
            "Cc": f"list{n % 5}@example.edu", "Content": "it broke", "ContentType": "text/plain",
            "CustomFields": {"Service": f"svc{n % 7}", "Classification": "Urgent - Outage"},
        })  # fmt: skip
        path = f"ticket/{ticket['id']}"
        call(lead, "POST", f"{path}/correspond", {**note, "Content": "looking"})
        call(lead, "POST", f"{path}/comment", {**note, "Content": "restarted"})
        call(lead, "PUT", path, {
            "Owner": lead, "Queue": "dev-web",
            "CustomFields": {"Root Cause": "disk", "Resolution Type": "Temporary"},
        })  # fmt: skip
        call(dev, "POST", f"{path}/correspond", {**note, "Content": "fixed, please check"})
        call(lead, "PUT", path, {"Status": "resolved"})
        call(cust, "POST", f"{path}/correspond", {**note, "Content": "still slow"})
        call(lead, "PUT", path, {"Status": "resolved"})

    done = 0
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(one, range(count)):
            done += 1
            if done % 50 == 0:
                rate = done / (time.monotonic() - started)
                print(f"  seeded {done}/{count} ({rate:.1f} tickets/s)", flush=True)
    for session in sessions.values():
        session.close()


def seeded_db(count: int, workers: int) -> tuple[Path, dict[str, str]]:
    """The cached seeded database (built on first use) and its metadata."""
    cache = WORK / f"seed-{count}"
    meta_file = cache / "seed.json"
    if meta_file.is_file():
        return cache / "rt.sqlite", json.loads(meta_file.read_text())
    build = WORK / f"build-{count}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    (build / "site.pl").write_text(initialdata(SITE))
    rt_server("init", build, build / "site.pl")
    port = free_port()
    rt_server("start", build, port)
    t0 = time.monotonic()
    since = datetime.now(UTC) - timedelta(minutes=1)
    try:
        print(f"seeding {count} tickets through REST2 (cached afterwards)...", flush=True)
        seed(f"http://127.0.0.1:{port}", count, workers)
    finally:
        rt_server("stop", build)
    meta = {
        "since": since.isoformat(),
        "until": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        "seconds": f"{time.monotonic() - t0:.0f}",
    }
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy2(build / "rt.sqlite", cache / "rt.sqlite")
    meta_file.write_text(json.dumps(meta))
    shutil.rmtree(build, ignore_errors=True)
    return cache / "rt.sqlite", meta


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by rt-server (its process group: master, live and reaped workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pid:  # process group id
            total += sum(int(f) for f in fields[11:13])  # utime, stime
            if int(proc.name) == pid:
                total += sum(int(f) for f in fields[13:15])  # cutime, cstime
    return total / ticks


def timed(label: str, fn: Callable[[], tuple[int, int]], pid: int) -> dict[str, Any]:
    """Wall time, requests, and CPU seconds on both sides (the box is shared: CPU is steadier)."""
    cpu0, own0, t0 = server_cpu(pid), time.process_time(), time.perf_counter()
    requests, tickets = fn()
    seconds = time.perf_counter() - t0
    rt_cpu, own = server_cpu(pid) - cpu0, time.process_time() - own0
    print(
        f"{label:<32} {seconds:7.2f} s wall {requests:6d} requests {rt_cpu:7.2f} s RT CPU "
        f"{own:6.2f} s client CPU {tickets:5d} tickets",
        flush=True,
    )
    return {"way": label, "seconds": round(seconds, 2), "requests": requests,
            "rt_cpu": round(rt_cpu, 2), "client_cpu": round(own, 2), "tickets": tickets}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3, help="parallel seeding sessions")
    args = parser.parse_args()
    db, meta = seeded_db(args.tickets, args.workers)
    run = Path(tempfile.mkdtemp(prefix="pull-bench-", dir=WORK))
    shutil.copytree(db.parent, run / "rt", dirs_exist_ok=True)
    port = free_port()
    rt_server("start", run / "rt", port)
    url = f"http://127.0.0.1:{port}/REST/2.0/"
    cfg = load_config()
    window = Window(
        datetime.fromisoformat(meta["since"]),
        datetime.fromisoformat(meta["until"]),
        ("ops-help", "dev-web"),
        cfg.statuses.inactive,
    )
    conn = Connection(url=url, user="root", password=ROOT_PASSWORD, timeout=120)

    def kit(history: str, snapshot: Path) -> Callable[[], tuple[int, int]]:
        def go() -> tuple[int, int]:
            with RTClient(conn) as client:
                report = pull(client, window, snapshot, history=history, progress=False)  # type: ignore[arg-type]
            return report.requests, report.tickets

        return go

    def naive() -> tuple[int, int]:
        client = rt.rest2.Rt(url, http_auth=("root", ROOT_PASSWORD), http_timeout=120)
        count = [0]
        client.session.event_hooks["request"].append(lambda _r: count.__setitem__(0, count[0] + 1))
        query = (
            "(Queue = 'ops-help' OR Queue = 'dev-web') AND (Status = 'resolved' OR Status = "
            f"'rejected') AND Resolved >= '{window.since:%Y-%m-%d %H:%M:%S}'"
        )
        tickets = list(client.search(raw_query=query))
        for item in tickets:
            client.get_ticket(item["id"])
            client.get_ticket_history(item["id"])
        client.session.close()
        return count[0], len(tickets)

    pid = int((run / "rt" / "rt.pid").read_text())
    try:
        results = [
            timed("kit pull (bulk)", kit("bulk", run / "snap-bulk"), pid),
            timed("kit pull (per-ticket fallback)", kit("per-ticket", run / "snap-pt"), pid),
            timed("python-rt loop", naive, pid),
            timed("kit re-pull, nothing changed", kit("auto", run / "snap-bulk"), pid),
        ]
    finally:
        rt_server("stop", run / "rt")
    out = WORK / "results.json"
    out.write_text(json.dumps({"seed": meta, "results": results}, indent=1))
    shutil.rmtree(run, ignore_errors=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
