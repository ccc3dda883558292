"""Large-history benchmark (a benchmark, not a test): one incident with 50,000 transactions.

An incident whose ticket collected tens of thousands of replies and comments (a noisy
monitoring integration, a long outage with everyone on Cc) must still render fast to a
page people can read. The page summarises the history (the first and last messages, the
counts, the rest in the notebook), so its size does not grow with the history.

The snapshot is the bundled sample with ticket 10 (opened 2026-08-10 13:30Z, resolved
2026-08-11 19:30Z) given `--transactions` more transactions between its first reply and
its resolution: three comments by staff for each reply (by staff or the requestor), so
the history's own key moments stay what they were. It is written under benchmarks/_work/
(ignored by git), with its own cache directory.

Measured, each `--repeat` times, as a user runs it (a subprocess, wall-clock):
  cold    `review render 10 --html --force` with an empty cache (reads the JSON, derives)
  warm    the same again (the snapshot's parquet and derived caches are there)
and the sizes of the page (HTML) and the notebook, next to the same review of the sample
(`sample_warm_s`: the sample's review of ticket 10, warm, for the same machine and load).

    python benchmarks/large_history_bench.py [--transactions 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "_work" / "large-history"
TICKET = 10


def build(transactions: int) -> Path:
    """The sample snapshot with `transactions` more on ticket 10 (see the module docstring)."""
    from datetime import UTC, datetime, timedelta

    from review.settings.config import sample_snapshot
    from review.snapshot import DATA_FILES, read_jsonl, write_snapshot

    sample = sample_snapshot()
    tickets, history, queues, users = (read_jsonl(sample / name) for name in DATA_FILES)
    manifest = json.loads((sample / "manifest.json").read_text())
    first = max(int(t["id"]) for t in history) + 1
    start = datetime(2026, 8, 10, 14, 0, tzinfo=UTC)  # after the first reply (13:50Z)
    span = datetime(2026, 8, 11, 19, 0, tzinfo=UTC) - start  # before the resolution (19:30Z)
    url = "https://rt.example.edu/REST/2.0/"
    for n in range(transactions):
        reply = n % 4 == 0
        who = ("fay" if n % 8 == 0 else "walt") if reply else ("walt", "ivan", "dave")[n % 3]
        at = start + timedelta(seconds=span.total_seconds() * n / transactions)
        history.append(
            {
                "Created": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Creator": {"_url": f"{url}user/{who}", "id": who, "type": "user"},
                "Data": f"Update {n}: still looking at the SAML assertions (log line {n * 7}).",
                "Field": "",
                "NewValue": "",
                "ObjectId": str(TICKET),
                "ObjectType": "RT::Ticket",
                "OldValue": "",
                "Type": "Correspond" if reply else "Comment",
                "_url": f"{url}transaction/{first + n}",
                "id": str(first + n),
                "type": "transaction",
            }
        )
    target = WORK / f"snapshot-{transactions}"
    if target.exists():
        shutil.rmtree(target)
    return write_snapshot(
        target,
        tickets,
        history,
        queues,
        users,
        source=str(manifest.get("source", "")),
        query=str(manifest.get("query", "")),
        pulled_at=str(manifest["pulled_at"]),
        coverage=manifest.get("coverage"),
    )


def render(snapshot: Path, out: Path, cache: Path) -> float:
    """`review render 10 --html --force` as a user runs it: wall-clock seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REVIEW_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "review", "render", str(TICKET), "--html", "--force"]
    command += ["--snapshot", str(snapshot), "--out", str(out), "--jobs", "1"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"render failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def sizes(out: Path) -> tuple[int, int]:
    page = next(out.glob(f"*/incident-{TICKET}.html"))
    return page.stat().st_size, page.with_suffix(".ipynb").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from review.settings.config import sample_snapshot

    started = time.perf_counter()
    snapshot = build(args.transactions)
    print(f"snapshot with {args.transactions:,} more transactions on ticket {TICKET}: "
          f"{time.perf_counter() - started:.1f} s to write")  # fmt: skip
    results: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(args.repeat):
        cache = WORK / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        out = WORK / "reports"
        shutil.rmtree(out, ignore_errors=True)
        results["cold"].append(render(snapshot, out, cache))
        results["warm"].append(render(snapshot, out, cache))
    page, notebook = sizes(WORK / "reports")
    small = WORK / "reports-sample"
    shutil.rmtree(small, ignore_errors=True)
    shutil.rmtree(WORK / "cache-sample", ignore_errors=True)
    render(sample_snapshot(), small, WORK / "cache-sample")  # caches filled
    sample_s = render(sample_snapshot(), small, WORK / "cache-sample")
    sample_page, sample_notebook = sizes(small)
    summary = {
        "transactions_added": args.transactions,
        "cold_s": [round(s, 1) for s in results["cold"]],
        "warm_s": [round(s, 1) for s in results["warm"]],
        "cold_median_s": round(statistics.median(results["cold"]), 1),
        "warm_median_s": round(statistics.median(results["warm"]), 1),
        "sample_warm_s": round(sample_s, 1),
        "page_bytes": page,
        "notebook_bytes": notebook,
        "sample_page_bytes": sample_page,
        "sample_notebook_bytes": sample_notebook,
        "cpus": os.cpu_count(),
        "load": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
