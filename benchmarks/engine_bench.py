"""Benchmark: the engine, on evidence. pandas with pyarrow (what the kit uses) beside DuckDB and
Polars (in-process columnar engines) on the same job: read one transactions.jsonl into columns,
then a step of the metrics (per ticket: staff replies, the first reply's time, the last
status change). Each engine in its own process; wall and CPU seconds and peak memory.

    pip install duckdb polars      # only for this comparison: not dependencies of the kit
    python benchmarks/engine_bench.py [--snapshot benchmarks/_work/synthetic-25000x4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pandas_pyarrow(path: Path) -> int:
    import pyarrow.json as pa_json

    table = pa_json.read_json(path)
    tx = table.select(["ObjectId", "Type", "Field", "Created", "Creator"]).flatten().to_pandas()
    tx["at"] = tx["Created"].astype("datetime64[s]")
    replies = tx.loc[(tx["Type"] == "Correspond") & (tx["Creator.id"] != "RT_System")]
    status = tx.loc[tx["Type"] == "Status"]
    out = (
        replies.groupby("ObjectId")
        .agg(replies=("at", "size"), first_reply=("at", "min"))
        .join(status.groupby("ObjectId")["at"].max().rename("last_status"), how="outer")
    )
    return len(out)


def duckdb_engine(path: Path) -> int:
    import duckdb

    found = duckdb.sql(
        f"""
        with tx as (
            select ObjectId, Type, Creator.id as creator, cast(Created as timestamp) as moment
            from read_json('{path}', format = 'newline_delimited')
        )
        select coalesce(r.ObjectId, s.ObjectId), r.replies, r.first_reply, s.last_status
        from (select ObjectId, count(*) as replies, min(moment) as first_reply from tx
              where Type = 'Correspond' and creator <> 'RT_System' group by ObjectId) r
        full outer join (select ObjectId, max(moment) as last_status from tx
              where Type = 'Status' group by ObjectId) s using (ObjectId)
        """
    ).fetchall()
    return len(found)


def polars_engine(path: Path) -> int:
    import polars as pl

    tx = pl.scan_ndjson(path).select(
        pl.col("ObjectId"),
        pl.col("Type"),
        pl.col("Creator").struct.field("id").alias("creator"),
        pl.col("Created").str.to_datetime("%Y-%m-%dT%H:%M:%SZ").alias("at"),
    )
    replies = (
        tx.filter((pl.col("Type") == "Correspond") & (pl.col("creator") != "RT_System"))
        .group_by("ObjectId")
        .agg(pl.len().alias("replies"), pl.col("at").min().alias("first_reply"))
    )
    status = (
        tx.filter(pl.col("Type") == "Status")
        .group_by("ObjectId")
        .agg(pl.col("at").max().alias("last_status"))
    )
    return replies.join(status, on="ObjectId", how="full").collect().height


ENGINES = {"pandas+pyarrow": pandas_pyarrow, "duckdb": duckdb_engine, "polars": polars_engine}


def main() -> None:
    if sys.argv[1:2] == ["_run"]:
        engine, path = ENGINES[sys.argv[2]], Path(sys.argv[3])
        began, cpu = time.perf_counter(), time.process_time()
        rows = engine(path)
        me = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({"seconds": round(time.perf_counter() - began, 2),
                          "cpu": round(time.process_time() - cpu, 2),
                          "peak_mb": round(me.ru_maxrss / 1024), "tickets": rows}))  # fmt: skip
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--snapshot", type=Path, default=HERE / "_work" / "synthetic-25000x4")
    args = parser.parse_args()
    path = args.snapshot / "transactions.jsonl"
    print(f"{path}: {path.stat().st_size / 1e9:.2f} GB; load average {os.getloadavg()[0]:.1f}")
    for name in ENGINES:
        out = subprocess.run(
            [sys.executable, __file__, "_run", name, str(path)], capture_output=True, text=True
        )
        if out.returncode:
            print(f"{name:<16} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        found = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:<16} {found['seconds']:>7} s  cpu {found['cpu']:>7} s  peak {found['peak_mb']:>6} MB"
              f"  ({found['tickets']:,} tickets)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
