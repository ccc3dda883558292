"""Profile: the fixed look-back of a monthly run alone, where its CPU goes.

    python benchmarks/lookback_profile.py --work benchmarks/_work --snapshot synthetic-8334x121-touched

Derives SNAPSHOT (under WORK, with WORK/cache as the cache; `scale_bench.py month` leaves both)
once so that every part is cached, removes its derived directory, and derives it again in one
process (REVIEW_WORKERS=1) under cProfile with a CPU clock. With every part cached, what that
second derive spends is the look-back: what a month added costs besides its own parts (reading
what every part keeps, recurrences over every incident, the survey, the data problems, the
whole frames written). Prints its wall and CPU seconds and the kit's functions by cumulative
time; the profile is left in WORK/lookback.prof.

`--same-parts` keys the parts without the code's digest, so parts derived once serve the code
of later commits (compare commits on one cache; only valid while what a part keeps is the
same: a commit that changes a part's files needs a cold derive first).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=HERE / "_work")
    parser.add_argument("--snapshot", default="synthetic-8334x121-touched")
    parser.add_argument("--same-parts", action="store_true")
    parser.add_argument("--lines", type=int, default=30)
    args = parser.parse_args()
    os.environ["REVIEW_CACHE_DIR"] = str(args.work / "cache")
    os.environ["REVIEW_WORKERS"] = "1"
    from review import context
    from review.settings.config import load_config
    from review.snapshot import fingerprint

    if args.same_parts:
        fingerprint.package_digest = lambda: "same-parts"
    config = load_config(None)
    snapshot = args.work / args.snapshot
    derived = context.derived_dir(snapshot, config)
    context.derive_into(derived, snapshot, None, config)  # every part cached
    shutil.rmtree(derived)
    profile = cProfile.Profile(time.process_time)
    began, cpu = time.perf_counter(), time.process_time()
    profile.runcall(context.derive_into, derived, snapshot, None, config)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"look-back of {snapshot.name}: {wall:.2f} s wall, {cpu:.2f} s CPU (under cProfile)")
    profile.dump_stats(args.work / "lookback.prof")
    pstats.Stats(str(args.work / "lookback.prof")).sort_stats("cumulative").print_stats(
        "review/", args.lines
    )


if __name__ == "__main__":
    main()
