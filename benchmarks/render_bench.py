"""Rendering benchmark (a benchmark, not a test): what a review costs next to a bare notebook.

In one run:
  floor        papermill executing a notebook that only imports pandas and matplotlib
  incident     papermill executing the incident review template for one incident
  batch-1      a batch of N incident reviews, 1 worker, a new kernel per notebook
  batch-2      the same batch, 2 workers (forced: nothing skipped)
  warm-1       the same batch on warm kernels (review.pages.warm), 1 worker
  warm-2       the same batch on warm kernels, 2 workers
  unchanged    the batch again with nothing changed (everything skipped)
  demo-cold    `review demo --force` on the bundled sample, REVIEW_WARM_KERNELS=0
  demo-warm    `review demo --force` on the bundled sample, warm kernels (the default)

Targets (issue 5): incident <= 1.5 x floor; batch-2 at least 1.7 x faster than batch-1;
unchanged < 5% of batch-1. Issue 9: warm-1 per review <= 0.5 x floor; warm-2 at least
1.7 x faster than warm-1; demo-warm at least 3 x faster than demo-cold.

The snapshot is generated here from N synthetic scenario incidents (2 hours to 10 days,
some handed off), under benchmarks/_work/ (ignored by git).

    python benchmarks/render_bench.py [--count 100] [--repeat 3] [--html] [--no-cold]
        [--demo-repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "_work"

SITE = """rtname: bench
queues:
  - {name: ops-help, description: ops}
  - {name: dev-web, description: web developers}
custom_fields: [Service, Service Owner, Business Owner, Classification, Resolution Type,
  Validated By, Root Cause]
staff:
  - {name: dave, email: dave@example.edu, real_name: Dave Ops}
  - {name: wendy, email: wendy@example.edu, real_name: Wendy Web}
customers:
  - {name: ann, email: ann@example.org}
"""


def write_scenarios(directory: Path, count: int) -> None:
    """`count` incidents from 2026-08-03, one every 14 hours, lasting 2 h to 10 days."""
    from datetime import UTC, datetime, timedelta

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(SITE)
    lines = ["incidents:"]
    start = datetime(2026, 8, 3, 13, 0, tzinfo=UTC)
    for n in range(count):
        opened = start + timedelta(hours=14 * n)
        length = timedelta(hours=2 + (n * 37) % 238)  # 2 hours .. 10 days
        handoff = n % 3 == 0

        def at(offset: timedelta, opened: datetime = opened) -> str:
            return (opened + offset).strftime("%Y-%m-%dT%H:%M:%SZ")

        steps = [
            f"      - {{at: {at(timedelta(minutes=20))}, by: dave, reply: 'Looking ({n}).'}}",
            f"      - {{at: {at(timedelta(minutes=25))}, by: dave, owner: dave}}",
        ]
        if handoff:
            steps += [
                f"      - {{at: {at(timedelta(hours=1))}, by: dave, queue: dev-web}}",
                f"      - {{at: {at(timedelta(hours=1, minutes=5))}, by: dave, owner: wendy}}",
            ]
        steps += [
            f"      - {{at: {at(length - timedelta(minutes=30))}, by: dave, comment: 'notes'}}",
            f"      - {{at: {at(length - timedelta(minutes=10))}, by: dave, "
            "set: {Resolution Type: Permanent, Root Cause: bench}}",
            f"      - {{at: {at(length)}, by: dave, status: resolved}}",
        ]
        lines += [
            f"  - key: bench-{n}",
            f"    subject: Benchmark incident {n}",
            f"    created: {at(timedelta(0))}",
            "    queue: ops-help",
            "    requestor: ann",
            "    fields: {Service: web-portal, Classification: Urgent - Degraded}",
            "    steps:",
            *steps,
        ]
    (directory / "incidents.yaml").write_text("\n".join(lines) + "\n")


def floor_notebook(path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    book = new_notebook(
        cells=[new_code_cell("import pandas\nimport matplotlib\nimport matplotlib.pyplot")],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(book, path)
    return path


def _cpu() -> float:
    """CPU seconds of this process and its finished descendants (workers, kernels)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, action, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    runs = []
    load = os.getloadavg()[0]
    cpu = _cpu()
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    value = statistics.median(runs)
    used = (_cpu() - cpu) / repeat
    shown = ", ".join(f"{r:.2f}" for r in runs)
    print(
        f"{label:<14} {value:8.2f} s   cpu {used:7.2f} s   load before {load:4.2f}   (runs: {shown})",
        flush=True,
    )
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of floor and incident")
    parser.add_argument("--html", action="store_true", help="also export HTML in the batches")
    parser.add_argument("--demo-repeat", type=int, default=1, help="runs of each demo")
    parser.add_argument(
        "--no-cold", action="store_true", help="skip the cold batches (a new kernel per notebook)"
    )
    args = parser.parse_args()

    os.environ.setdefault("REVIEW_CACHE_DIR", str(WORK / "cache"))
    from review.pages import render as rendering
    from review.pages import warm
    from review.pages.reports import PAGES
    from scenarios.generate import generate_snapshot

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    write_scenarios(WORK / "scenarios", args.count)
    snapshot = generate_snapshot(WORK / "scenarios", WORK / "snapshot")
    inputs = rendering.load_inputs(snapshot, None)  # also fills the parquet cache
    ids = sorted(int(t) for t in inputs.metrics_month.index)
    print(
        f"{len(ids)} incidents; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    env = rendering.kernel_environment()
    os.environ.update({k: v for k, v in env.items() if k in ("PYTHONPATH", "JUPYTER_PATH")})
    floor = floor_notebook(WORK / "floor.ipynb")

    def run_floor() -> None:
        rendering.execute_notebook(floor, WORK / "floor-out.ipynb", {})

    def run_incident() -> None:
        parameters = {"snapshot": str(snapshot), "ticket_id": ids[len(ids) // 2], "config": None}
        rendering.execute_notebook(
            rendering.template_path(PAGES["incident"].template),
            WORK / "incident-out.ipynb",
            parameters,
        )

    run_floor()  # warm the disk cache and the kernel spec lookup once
    results: dict[str, float] = {}
    results["floor"] = timed("floor", run_floor, args.repeat)
    results["incident"] = timed("incident", run_incident, args.repeat)
    results["html"] = timed(
        "html export",
        lambda: rendering.export_html(WORK / "incident-out.ipynb", WORK / "incident-out.html"),
        args.repeat,
    )

    out = WORK / "reports"
    jobs = rendering.incident_jobs(inputs, ids, out, args.html)

    def batch(workers: int, force: bool, warm_kernels: bool = False) -> None:
        os.environ[warm.WARM_ENV] = "1" if warm_kernels else "0"
        result = rendering.run_batch(jobs, out, workers=workers, force=force, progress=False)
        assert result.ok, [str(f) for f in result.failures]

    if not args.no_cold:
        results["batch-1"] = timed("batch-1", lambda: batch(1, True))
        results["batch-2"] = timed("batch-2", lambda: batch(2, True))
    results["warm-1"] = timed("warm-1", lambda: batch(1, True, warm_kernels=True))
    results["warm-2"] = timed("warm-2", lambda: batch(2, True, warm_kernels=True))
    results["unchanged"] = timed("unchanged", lambda: batch(2, False))

    def unchanged_command() -> None:  # what `review render --all` does when nothing changed
        again = rendering.load_inputs(snapshot, None)
        result = rendering.run_batch(
            rendering.incident_jobs(again, ids, out, args.html), out, workers=2, progress=False
        )
        assert len(result.skipped) == len(ids)

    results["unchanged+load"] = timed("unchanged+load", unchanged_command)

    def demo(warm_kernels: bool) -> None:  # the command as a user runs it, in a new process
        command = [str(Path(sys.executable).with_name("review")), "demo", "--force"]
        environment = {**os.environ, warm.WARM_ENV: "1" if warm_kernels else "0"}
        subprocess.run([*command, "--out", str(WORK / "demo")], env=environment, check=True)

    if args.demo_repeat > 0:  # --demo-repeat 0: no demo runs
        demo(True)  # fills the sample's derived cache once, so both runs below find it
        if not args.no_cold:
            results["demo-cold"] = timed("demo-cold", lambda: demo(False), args.demo_repeat)
        results["demo-warm"] = timed("demo-warm", lambda: demo(True), args.demo_repeat)

    print()
    print(
        f"incident / floor          {results['incident'] / results['floor']:5.2f}x   (target <= 1.5)"
    )
    per_review = results["warm-1"] / len(ids)
    print(
        f"warm per review, 1 worker {per_review:5.2f} s = {per_review / results['floor']:4.2f} x floor"
        "   (target <= 0.5)"
    )
    print(
        f"warm-1 / warm-2           {results['warm-1'] / results['warm-2']:5.2f}x   (target >= 1.7)"
    )
    if not args.no_cold:
        rerun = results["unchanged+load"] / results["batch-1"]
        print(
            f"batch-1 / batch-2         {results['batch-1'] / results['batch-2']:5.2f}x   (target >= 1.7)"
        )
        print(f"unchanged / batch-1       {rerun:6.2%}   (target < 5%)")
        print(f"cold per review, 1 worker {results['batch-1'] / len(ids):5.2f} s")
        print(f"batch-1 / warm-1          {results['batch-1'] / results['warm-1']:5.2f}x")
        print(
            f"demo-cold / demo-warm     {results['demo-cold'] / results['demo-warm']:5.2f}x"
            "   (target >= 3)"
        )
    print(f"load average after        {os.getloadavg()[0]:.2f}")
    (WORK / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
