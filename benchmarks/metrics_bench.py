"""Benchmark: load a large snapshot, build events, compute metrics; time and peak memory.

    python benchmarks/metrics_bench.py [--tickets 100000] [--work benchmarks/_work]

Writes a synthetic snapshot in RT's JSON shapes (about 25 transactions per ticket,
so 2.5 million for 100,000 tickets) once, then times, in this process:
cold load (JSON parse + validation + parquet cache write), events, metrics, the
close-out audit (findings, support table, checklist) and a warm load from the parquet cache. Peak memory is the process's max RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review.closeout.gaps import support_gaps
from review.context import Context
from review.settings.config import load_config
from review.snapshot import DATA_FILES, MANIFEST, file_sha256, load_snapshot

BASE = "https://rt.example.edu/REST/2.0/"
STAFF = [f"staff{i}" for i in range(40)]
QUEUES = {"3": "ops-help", "4": "dev-web", "5": "dev-identity", "6": "dev-storage"}


def ref(kind: str, ident: str) -> str:
    return f'{{"_url": "{BASE}{kind}/{ident}", "id": "{ident}", "type": "{kind}"}}'


def txn(tid: int, xid: int, at: datetime, creator: str, kind: str, field: str = "",
        old: str = "", new: str = "", data: str = "") -> str:  # fmt: skip
    return (
        f'{{"Created": "{at:%Y-%m-%dT%H:%M:%SZ}", "Creator": {ref("user", creator)}, "Data": {json.dumps(data)}, '
        f'"Field": "{field}", "NewValue": "{new}", "ObjectId": "{tid}", "ObjectType": "RT::Ticket", '
        f'"OldValue": "{old}", "Type": "{kind}", "_url": "{BASE}transaction/{xid}", "id": "{xid}", '
        f'"type": "transaction"}}\n'
    )


def write_synthetic(directory: Path, tickets: int, seed: int = 7) -> None:
    """~25 transactions per ticket: create, triage, comments, owner and queue moves, replies, resolve."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    xid = 1000
    with (
        (directory / "tickets.jsonl").open("w") as tf,
        (directory / "transactions.jsonl").open("w") as xf,
    ):
        for tid in range(1, tickets + 1):
            at = start + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
            created = at
            requestor = f"cust{rng.randrange(5000)}"
            owner = rng.choice(STAFF)
            queue = "3"
            rows = [("Create", requestor, "", "", "", ""), ("EmailRecord", "RT_System", "", "", "", "<m>"),
                    ("EmailRecord", "RT_System", "", "", "", "<m>")]  # fmt: skip
            steps: list[tuple[str, str, str, str, str, str]] = [
                ("Correspond", owner, "", "", "", "Looking"), ("EmailRecord", "RT_System", "", "", "", "<m>"),
                ("Status", "RT_System", "Status", "new", "open", ""), ("Set", owner, "Owner", "6", "30", ""),
                ("SetWatcher", owner, "Owner", "6", "30", ""), ("Comment", owner, "", "", "", "note"),
            ]  # fmt: skip
            if rng.random() < 0.5:
                new_queue = rng.choice(["4", "5", "6"])
                steps.append(("Set", owner, "Queue", queue, new_queue, ""))
                queue = new_queue
                steps += [
                    ("Set", "dev", "Owner", "30", "31", ""),
                    ("SetWatcher", "dev", "Owner", "30", "31", ""),
                ]
            for _ in range(rng.randrange(3, 6)):
                steps += [
                    ("Correspond", owner, "", "", "", "update"),
                    ("EmailRecord", "RT_System", "", "", "", "<m>"),
                ]
                steps.append(("Comment", owner, "", "", "", "note"))
            steps.append(("CustomField", owner, "7", "", "Permanent", ""))
            steps += [
                ("Status", owner, "Status", "open", "resolved", ""),
                ("EmailRecord", "RT_System", "", "", "", "<m>"),
            ]
            out = []
            for kind, creator, field, old, new, data in rows + steps:
                if kind not in ("EmailRecord", "SetWatcher", "Create") or creator != "RT_System":
                    at += timedelta(minutes=rng.randrange(1, 600))
                xid += 1
                out.append(txn(tid, xid, at, creator, kind, field, old, new, data))
            xf.writelines(out)
            ticket = {
                "id": tid, "Subject": f"Incident {tid}", "Status": "resolved", "Type": "ticket",
                "Queue": {"id": queue, "type": "queue"}, "Owner": {"id": owner, "type": "user"},
                "Creator": {"id": requestor, "type": "user"}, "EffectiveId": {"id": str(tid), "type": "ticket"},
                "Requestor": [{"id": requestor, "type": "user"}], "Cc": [], "AdminCc": [],
                "Created": f"{created:%Y-%m-%dT%H:%M:%SZ}", "Started": f"{created:%Y-%m-%dT%H:%M:%SZ}",
                "Resolved": f"{at:%Y-%m-%dT%H:%M:%SZ}", "LastUpdated": f"{at:%Y-%m-%dT%H:%M:%SZ}",
                "Due": "1970-01-01T00:00:00Z",
                "CustomFields": [{"id": "1", "name": "Service", "type": "customfield", "values": [f"svc{tid % 12}"]},
                                 {"id": "4", "name": "Classification", "type": "customfield", "values": ["Hand-off"]}],
                "_hyperlinks": [{"_url": f"{BASE}ticket/{tid}", "id": tid, "ref": "self", "type": "ticket"}],
            }  # fmt: skip
            tf.write(json.dumps(ticket) + "\n")
    with (directory / "queues.jsonl").open("w") as qf:
        qf.writelines(json.dumps({"id": int(q), "Name": n}) + "\n" for q, n in QUEUES.items())
    users = [{"id": 1, "Name": "RT_System"}, {"id": 6, "Name": "Nobody"}, {"id": 30, "Name": "staff"},
             {"id": 31, "Name": "dev"}]  # fmt: skip
    (directory / "users.jsonl").write_text("".join(json.dumps(u) + "\n" for u in users))
    counts = {n: sum(1 for _ in (directory / n).open()) for n in DATA_FILES}
    manifest = {"format": 1, "source": "synthetic", "query": "benchmark", "pulled_at": "2026-11-01T00:00:00Z",
                "counts": counts, "sha256": {n: file_sha256(directory / n) for n in DATA_FILES}}  # fmt: skip
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / "_work")
    args = parser.parse_args()
    snapshot_dir = args.work / f"synthetic-{args.tickets}"
    cache_dir = args.work / "cache"
    if not (snapshot_dir / MANIFEST).is_file():
        began = time.perf_counter()
        write_synthetic(snapshot_dir, args.tickets)
        print(
            f"generated {snapshot_dir} in {time.perf_counter() - began:.1f} s (not part of the timing)"
        )
    if cache_dir.exists():
        import shutil

        shutil.rmtree(cache_dir)
    config = load_config()
    timings: dict[str, float] = {}
    began = time.perf_counter()
    snapshot = load_snapshot(snapshot_dir, cache_dir=cache_dir)
    timings["load (parse JSON, validate, write parquet cache)"] = time.perf_counter() - began
    context = Context(snapshot, config)  # each stage computed on first use, once
    mark = time.perf_counter()
    events = context.events
    timings["build events"] = time.perf_counter() - mark
    mark = time.perf_counter()
    metrics = context.metrics
    timings["compute metrics (incl. state segments, business hours)"] = time.perf_counter() - mark
    total = time.perf_counter() - began
    mark = time.perf_counter()
    findings = context.findings
    timings["close-out findings (Context.findings: the audit, every rule)"] = (
        time.perf_counter() - mark
    )
    mark = time.perf_counter()
    support_gaps(findings, metrics, context.registry, config)
    timings["support-gap table (support_gaps)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    checklist = context.checklist
    timings["process checklist, every incident (on the same audit)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    load_snapshot(snapshot_dir, cache_dir=cache_dir)
    timings["warm load from the parquet cache"] = time.perf_counter() - mark
    print(f"tickets: {len(snapshot.tickets):,}  transactions: {len(snapshot.transactions):,}  "
          f"events: {len(events):,}  metric rows: {len(metrics):,}  findings: {len(findings):,}  "
          f"checklist rows: {len(checklist):,}")  # fmt: skip
    for name, seconds in timings.items():
        print(f"{name:<58} {seconds:7.2f} s")
    print(f"{'cold run: load + events + metrics':<58} {total:7.2f} s")
    print(f"{'peak memory (max RSS)':<58} {peak_mb():7.0f} MB")


if __name__ == "__main__":
    main()
