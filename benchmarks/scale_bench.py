"""Benchmark: the whole derive of a large snapshot beside pyarrow's parse of the same files, and
a month added to a long snapshot; wall and CPU seconds and peak memory, each step in its own
process (peak memory is the step's largest resident set, its worker processes included).

    python benchmarks/scale_bench.py cold --per-month 25000 --months 4 12  # 100,000 then 300,000
    python benchmarks/scale_bench.py cold --per-month 25000 --months 12 --repeat 3  # least of 3
    python benchmarks/scale_bench.py month --per-month 8334 --months 60 120  # 5 and 10 years + 1 month
    python benchmarks/scale_bench.py budget --per-month 25000 --months 4    # where the CPU goes

`cold` times, on a snapshot of PER_MONTH x MONTHS synthetic tickets (benchmarks/synthetic.py,
about 25 transactions each, written once under --work and not timed):
  floor   pyarrow.json.read_json of tickets.jsonl and transactions.jsonl (the parse floor as
          issue 24 measures it: each file into one table)
  stream  the same parse streamed (pyarrow.json.open_json, Arrow's default 1 MiB blocks, each
          block dropped): no table of the whole file. On a box where a large table costs
          more than its bytes (memory faults) read_json grows faster than the files, and the
          streamed parse is the lower floor; the cold run is read against the lower of the two
  cold    the parse into the month-partitioned parquet cache, then events, state stretches
          and metrics of every part (the cold run as issue 24 measures it: load + events +
          metrics), from an empty cache, in worker processes as a run does (REVIEW_WORKERS)
  derive  everything every report reads (events, stretches, metrics, findings, checklist,
          recurrences, SLA, data problems, review data): `review.context.derive_into`, from
          an empty cache
`budget` runs the cold step in one process with one worker under a profile (CPU clock) and
prints where its CPU goes, beside the floor's (see BUDGET).
`month` derives, for scale, one month alone, cold; then, for each MONTHS, a snapshot of MONTHS
months cold and the same snapshot one month longer (the month before's tickets partly touched,
as a monthly pull finds them) with the cache the first left. Two lengths (`--months 60 120`)
show whether the month added grows with the history.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, now (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            pages = int((entry / "statm").read_text().split()[1])
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry.name)] = pages * os.sysconf("SC_PAGE_SIZE")
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in family) / 2**20


def step(kind: str, snapshot: Path, cache: Path) -> dict[str, float | str]:
    """Run one step in a fresh process; its wall and CPU seconds, peak memory (the most its
    processes held at once, sampled every 0.2 s, and the largest one process held), load."""
    before = load()
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "_step", kind, str(snapshot), str(cache)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    together = 0.0
    while child.poll() is None:
        together = max(together, tree_rss_mb(child.pid))
        time.sleep(0.2)
    out = child.stdout.read() if child.stdout else ""
    if child.returncode:
        raise SystemExit(f"step {kind} failed ({child.returncode})")
    wall = time.perf_counter() - began
    found = json.loads(out.strip().splitlines()[-1])
    found.update(
        wall=round(wall, 2), together_mb=round(together), load_before=before, load_after=load()
    )
    return found


def _child(kind: str, snapshot: Path, cache: Path) -> None:
    """The step itself (in its own process): prints what it measured as one JSON line."""
    os.environ["REVIEW_CACHE_DIR"] = str(cache)
    import pyarrow.json as pa_json

    from review import context
    from review.snapshot.load import open_catalog

    began, cpu = time.perf_counter(), time.process_time()  # imports are not timed
    extra: dict[str, object] = {}
    if kind == "floor":
        rows = sum(
            pa_json.read_json(snapshot / n).num_rows
            for n in ("tickets.jsonl", "transactions.jsonl")
        )
        extra["rows"] = rows
    elif kind == "stream":
        extra["rows"] = sum(
            block.num_rows
            for n in ("tickets.jsonl", "transactions.jsonl")
            for block in pa_json.open_json(snapshot / n)
        )
    elif kind == "cold":  # parse, then events and metrics, in one process as a run does
        import tempfile

        from review.derive import derive_parts
        from review.settings.config import load_config

        catalog = open_catalog(snapshot, cache)
        extra["parse s"] = round(time.perf_counter() - began, 2)
        extra["parts"] = len(catalog.parts)
        staging = Path(tempfile.mkdtemp(dir=cache))
        derive_parts(catalog, load_config(None), staging, cache / "metrics-parts",
                     events_and_metrics, ("events", "segments", "metrics"))  # fmt: skip
    else:
        segments = set(os.listdir(cache / "segments")) if (cache / "segments").is_dir() else set()
        store = cache / "derived-parts"
        parts = set(os.listdir(store)) if store.is_dir() else set()
        from review.settings.config import load_config

        config = load_config(None)
        context.derive_into(context.derived_dir(snapshot, config), snapshot, None, config)
        extra["segments parsed"] = len(set(os.listdir(cache / "segments")) - segments)
        extra["parts derived"] = len(set(os.listdir(store)) - parts)
    from review import workers

    workers.shutdown()  # the workers' time counts once they are ended
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - began, 2),
                "cpu": round(time.process_time() - cpu + children.ru_utime + children.ru_stime, 2),
                "peak_mb": round(max(me.ru_maxrss, children.ru_maxrss) / 1024),
                **extra,
            }
        )
    )


def events_and_metrics(snapshot: object, config: object, found: object) -> object:
    """What the `metrics` step derives of a part: the context's events, stretches and metrics
    (only the stages asked for are computed)."""
    from review.context import Context

    return Context(snapshot, config)  # type: ignore[arg-type]


def snapshot_of(
    work: Path,
    per_month: int,
    months: int,
    touch: bool = False,
    links: bool = False,
    bodies: int = 0,
) -> Path:
    import synthetic

    name = (
        f"synthetic-{per_month}x{months}{'-touched' if touch else ''}{'-linked' if links else ''}"
        f"{f'-bodies{bodies}' if bodies else ''}"
    )
    directory = work / name
    if not (directory / "manifest.json").is_file():
        began = time.perf_counter()
        synthetic.write(directory, per_month, months, touch, links, bodies)
        print(
            f"generated {directory} in {time.perf_counter() - began:.0f} s (not timed)", flush=True
        )
    return directory


def show(name: str, found: dict[str, float | str]) -> None:
    skip = ("seconds", "wall", "cpu", "peak_mb", "together_mb")
    rest = {k: v for k, v in found.items() if k not in skip}
    print(
        f"{name:<44} {found['seconds']:>8} s  cpu {found['cpu']:>8} s  peak {found['together_mb']:>6} MB"
        f" (one process {found['peak_mb']} MB)  {rest}", flush=True,
    )  # fmt: skip


def cold_run(
    work: Path, cache: Path, per_month: int, months: int, links: bool, bodies: int, repeat: int
) -> None:
    """The floor, the cold run and the whole derive of one snapshot, one after the other;
    with `repeat`, the floor and the cold run taken in turns that many times, each one's
    least wall and least CPU kept (a shared box's other work only ever adds)."""
    snapshot = snapshot_of(work, per_month, months, links=links, bodies=bodies)
    size = sum(f.stat().st_size for f in snapshot.iterdir()) / 1e9
    print(f"{per_month * months:,} tickets, {size:.2f} GB of JSON", flush=True)
    floors, streams, colds = [], [], []
    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        floors.append(step("floor", snapshot, cache))
        show("floor: pyarrow.json.read_json, both files", floors[-1])
        streams.append(step("stream", snapshot, cache))
        show("floor: the same, streamed (open_json)", streams[-1])
        colds.append(step("cold", snapshot, cache))
        show("cold run: parse, events, metrics (empty cache)", colds[-1])
    floor, stream, cold = least(floors), least(streams), least(colds)
    shutil.rmtree(cache, ignore_errors=True)
    whole = step("derive", snapshot, cache)
    show("whole derive: derive_into (empty cache)", whole)
    for name, found in (("cold run", cold), ("whole derive", whole)):
        for what, under in (("the floor", floor), ("the streamed floor", stream)):
            print(
                f"{name}: {found['seconds']} s = {float(found['seconds']) / float(under['seconds']):.2f} x "
                f"{what}; cpu {found['cpu']} s = {float(found['cpu']) / float(under['cpu']):.2f} x "
                f"{what}'s; peak {found['together_mb']} MB", flush=True,
            )  # fmt: skip


def least(runs: list[dict[str, float | str]]) -> dict[str, float | str]:
    """The first run, with the least wall and CPU seconds and peak of all the runs."""
    found = dict(runs[0])
    for name in ("seconds", "cpu", "together_mb"):
        found[name] = min(float(run[name]) for run in runs)
    return found


PARSE_STEPS = (  # (what, module file, function): where a cold run's CPU goes, from its profile
    ("Arrow's JSON parse (the floor's own work)", "parse.py", "parse_json"),
    ("the search for lines that are no object (only where one may be)", "parse.py", "_stray_line"),
    ("reading the blocks", "parse.py", "blocks"),
    ("flattening tickets and transactions", "parse.py", "flatten_tickets"),
    ("", "parse.py", "flatten_transactions"),
    ("message bodies filed by month", "segment.py", "_write_messages"),
    ("the parsed parts written", "cache.py", "write_frames<load.py"),
)
DERIVE_STEPS = (
    ("events", "timeline.py", "build_events"),
    ("state stretches", "timeline.py", "state_segments"),
    ("metrics", "__init__.py", "compute_metrics"),
    ("what the data cannot back", "quality.py", "lost_inputs"),
    ("the survey's tally of the parts", "derive.py", "tallies"),
    ("the derived parts written", "derive.py", "_write"),
)


def budget(snapshot: Path, cache: Path) -> None:
    """The cold run in this process, one worker, under a profile with a CPU clock: CPU
    seconds of the floor, of the parse and the derive, and of their steps."""
    import cProfile
    import pstats
    import tempfile

    import pyarrow.json as pa_json

    os.environ.update(REVIEW_CACHE_DIR=str(cache), REVIEW_WORKERS="1")
    from review.derive import derive_parts
    from review.settings.config import load_config
    from review.snapshot.load import open_catalog

    began = time.process_time()
    for name in ("tickets.jsonl", "transactions.jsonl"):
        pa_json.read_json(snapshot / name)
    floor = time.process_time() - began
    profile = cProfile.Profile(time.process_time)
    began = time.process_time()
    profile.enable()
    catalog = open_catalog(snapshot, cache)
    parsed = time.process_time()
    staging = Path(tempfile.mkdtemp(dir=cache))
    derive_parts(catalog, load_config(None), staging, cache / "metrics-parts",
                 events_and_metrics, ("events", "segments", "metrics"))  # fmt: skip
    profile.disable()
    done = time.process_time()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def spent(file: str, function: str) -> float:
        """CPU seconds in `function` of `file` (`function<caller.py`: only when called from
        that file)."""
        function, _, caller = function.partition("<")
        called = [k for k in stats if k[0].endswith("/" + file) and k[2] == function]
        if not caller:
            return float(sum(stats[k][3] for k in called))
        by = [v for k in called for c, v in stats[k][4].items() if c[0].endswith("/" + caller)]
        return float(sum(v[3] for v in by))

    rows = [("floor: pyarrow.json.read_json, both files", floor),
            ("cold run, one worker", done - began)]  # fmt: skip
    for stage, total, steps in (("parse", parsed - began, PARSE_STEPS),
                                ("derive: events, stretches, metrics", done - parsed,
                                 DERIVE_STEPS)):  # fmt: skip
        rows.append((f"  {stage}", total))
        found: dict[str, float] = {}
        for what, file, function in steps:
            what = what or list(found)[-1]  # a second function of the step above
            found[what] = found.get(what, 0.0) + spent(file, function)
        rows += [(f"    {what}", seconds) for what, seconds in found.items()]
        rows.append(
            ("    the rest (reading, checks, keys; threads' hashing)", total - sum(found.values()))
        )
    for what, seconds in rows:
        print(f"{what:<62} {seconds:7.2f} s CPU  {seconds / floor:5.2f} x the floor", flush=True)


def main() -> None:
    if sys.argv[1:2] == ["_step"]:
        _child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["cold", "month", "budget"])
    parser.add_argument("--per-month", type=int, default=25_000)
    parser.add_argument("--months", type=int, nargs="+", default=[12])
    parser.add_argument("--work", type=Path, default=HERE / "_work")
    parser.add_argument(
        "--links", action="store_true", help="tickets link to earlier ones (synthetic.write)"
    )
    parser.add_argument(
        "--bodies", type=int, default=0, help="characters in each message (synthetic.write)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="cold: floor and cold run in turns, least kept"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    print(f"{os.cpu_count()} cores; load average {load()}", flush=True)
    if args.mode == "budget":
        months = args.months[0]
        budget(
            snapshot_of(args.work, args.per_month, months, False, args.links, args.bodies), cache
        )
        return
    if args.mode == "cold":
        for months in args.months:
            cold_run(args.work, cache, args.per_month, months, args.links, args.bodies, args.repeat)
        return
    alone = snapshot_of(args.work, args.per_month, 1, links=args.links)
    single = args.work / "cache-one-month"
    shutil.rmtree(single, ignore_errors=True)
    show("one month alone, cold", step("derive", alone, single))
    for months in args.months:  # several lengths: does the month added grow with the history?
        decade = snapshot_of(args.work, args.per_month, months, links=args.links)
        longer = snapshot_of(args.work, args.per_month, months + 1, touch=True, links=args.links)
        shutil.rmtree(cache, ignore_errors=True)
        show(f"cold derive, {months} months", step("derive", decade, cache))
        show("the same, one month longer (cache kept)", step("derive", longer, cache))


if __name__ == "__main__":
    main()
