"""Benchmark: the engine, on evidence. pandas with pyarrow (what the kit uses) beside DuckDB and
Polars (in-process columnar engines) on the same job: read one transactions.jsonl into columns,
then a step of the metrics (per ticket: staff replies, the first reply's time, the last
status change). Each engine in its own process; wall and CPU seconds and peak memory.

    pip install duckdb polars      # only for this comparison: not dependencies of the kit
    python benchmarks/engine_bench.py [--snapshot benchmarks/_work/synthetic-25000x4]
    python benchmarks/engine_bench.py --snapshot S --cache C   # the kit's parquet cache of S

With --cache, the same step reads the transactions of every month's part from the kit's
parquet cache of the snapshot under C (made by `scale_bench.py`, or any `review` run with
REVIEW_CACHE_DIR=C): what a site beyond one machine, or an analyst, would point an engine at.

    python benchmarks/engine_bench.py --parse --snapshot S     # the parse alone, as the kit needs it

With --parse, the parse alone, the way the kit parses (review.snapshot.parse): 64 MB blocks of
transactions.jsonl, one thread, into the kit's columns, CPU seconds per block. pyarrow does it
with the kit's checks (UTF-8; the search for lines that are no JSON object, which the kit makes
only where one may be, is timed apart); DuckDB as it reads by default takes what the kit
must refuse (a number, an object or a list where text is expected: it writes it as text; a
trailing comma; NaN), so it is also timed made as strict (each value read as JSON, its type
checked, its text unescaped), with the byte scans for what it would still let through.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def _files(listing: Path) -> list[str]:
    return listing.read_text().split("\n")


def pandas_parts(listing: Path) -> int:
    """The kit's way: one month's part at a time, only the columns the step reads."""
    import pandas as pd

    found = []
    for path in _files(listing):
        tx = pd.read_parquet(path, columns=["ticket_id", "type", "created", "creator"])
        replies = tx.loc[(tx["type"] == "Correspond") & (tx["creator"] != "RT_System")]
        status = tx.loc[tx["type"] == "Status"]
        found.append(
            replies.groupby("ticket_id")
            .agg(replies=("created", "size"), first_reply=("created", "min"))
            .join(status.groupby("ticket_id")["created"].max().rename("last_status"), how="outer")
        )
    return len(pd.concat(found))


def duckdb_parts(listing: Path) -> int:
    import duckdb

    files = ", ".join(f"'{f}'" for f in _files(listing))
    found = duckdb.sql(
        f"""
        with tx as (select ticket_id, type, creator, created from read_parquet([{files}]))
        select coalesce(r.ticket_id, s.ticket_id), r.replies, r.first_reply, s.last_status
        from (select ticket_id, count(*) as replies, min(created) as first_reply from tx
              where type = 'Correspond' and creator <> 'RT_System' group by ticket_id) r
        full outer join (select ticket_id, max(created) as last_status from tx
              where type = 'Status' group by ticket_id) s using (ticket_id)
        """
    ).fetchall()
    return len(found)


def polars_parts(listing: Path) -> int:
    import polars as pl

    tx = pl.scan_parquet(_files(listing)).select("ticket_id", "type", "creator", "created")
    replies = (
        tx.filter((pl.col("type") == "Correspond") & (pl.col("creator") != "RT_System"))
        .group_by("ticket_id")
        .agg(pl.len().alias("replies"), pl.col("created").min().alias("first_reply"))
    )
    status = (
        tx.filter(pl.col("type") == "Status")
        .group_by("ticket_id")
        .agg(pl.col("created").max().alias("last_status"))
    )
    return replies.join(status, on="ticket_id", how="full").collect().height


ON_CACHE = {"pandas+pyarrow": pandas_parts, "duckdb": duckdb_parts, "polars": polars_parts}


# --------------------------------------------------------------------------- --parse

_TEXT = ["id", "ObjectType", "ObjectId", "Type", "Field", "OldValue", "NewValue", "Created", "Data"]


def parse_blocks(path: Path, blocks: int = 3) -> None:
    """CPU seconds per 64 MB block of `path`, one thread, each way (see the docstring)."""
    import tempfile

    sys.path.insert(0, str(HERE.parent))
    import pyarrow as pa
    import pyarrow.json as pa_json

    from review.snapshot import parse

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    options = pa_json.ParseOptions(
        explicit_schema=parse.SCHEMAS["transactions.jsonl"],
        unexpected_field_behavior="ignore",
        newlines_in_values=False,
    )
    chunks, at = [], 0
    with path.open("rb") as handle:
        for _ in range(blocks):
            data = handle.read(parse.BLOCK_BYTES)
            cut = data.rfind(b"\n") + 1
            chunks.append(bytearray(data[:cut]))
            at += cut
            handle.seek(at)
    scratch = Path(tempfile.mkdtemp(prefix="engine-bench-"))  # private (mkdtemp: 0700)
    ways: dict[str, Any] = {  # (lines that are no object: searched only where one may be)
        "pyarrow, as the kit parses (UTF-8 checked)": lambda data: parse.parse_json(
            memoryview(data), options
        ),
        "  + a search for lines that are no object": lambda data: parse._stray_line(
            memoryview(data)
        ),
    }
    try:
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 1")
        block = scratch / "block.jsonl"
        read = f"read_json('{block}', format = 'newline_delimited', columns = $c)"
        lenient = {k: "VARCHAR" for k in _TEXT} | {"Creator": "STRUCT(id VARCHAR)"}
        strict = {k: "JSON" for k in _TEXT} | {"Creator": "STRUCT(id JSON)"}

        def text(x: str) -> str:  # a JSON string's text; anything else an error
            return (
                f"""CASE WHEN {x} IS NULL THEN NULL WHEN NOT starts_with({x}, '"') """
                f"""THEN error('not text') WHEN contains({x}, '\\') THEN {x}->>'$' """
                f"""ELSE {x}[2:-1] END"""
            )

        checked = ", ".join([*(f"{text(k)} AS {k}" for k in _TEXT), text("Creator.id")])

        def written(data: bytearray) -> None:
            block.write_bytes(data)

        ways["duckdb, lenient (writes 5, {} or [1] as text)"] = lambda data: (
            written(data),
            con.sql(f"SELECT * FROM {read}", params={"c": lenient}).to_arrow_table(),
        )
        ways["duckdb, values read as JSON (not yet checked)"] = lambda data: (
            written(data),
            con.sql(f"SELECT * FROM {read}", params={"c": strict}).to_arrow_table(),
        )
        ways["duckdb, as strict (JSON values checked, unescaped)"] = lambda data: (
            written(data),
            con.sql(f"SELECT {checked} FROM {read}", params={"c": strict}).to_arrow_table(),
        )
        ways["  + its scans for trailing commas (find)"] = lambda data: (
            data.find(b",}"),
            data.find(b",]"),
        )
        ways["  + its scan for NaN and Infinity (regex)"] = lambda data: re.search(
            rb"[:,\[][ \t\r]*[-+]?(?i:nan|inf)", data
        )
    except ImportError:
        print("duckdb is not installed: only pyarrow timed (pip install duckdb)")
    try:
        for what, way in ways.items():
            began = time.process_time()
            for data in chunks:
                way(data)
            cpu = (time.process_time() - began) / len(chunks)
            print(f"{what:<52} {cpu:6.3f} s CPU a block", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def part_files(snapshot: Path, cache: Path) -> Path:
    """A file listing the transactions file of every month's part of the snapshot's cache."""
    sys.path.insert(0, str(HERE.parent))
    from review.snapshot.load import open_catalog

    catalog = open_catalog(snapshot, cache)
    listing = cache / "engine-bench-parts.txt"
    listing.write_text("\n".join(str(p.path("transactions")) for p in catalog.parts))
    return listing


def main() -> None:
    if sys.argv[1:2] == ["_run"]:
        on_cache = sys.argv[4:5] == ["cache"]
        engine, path = (ON_CACHE if on_cache else ENGINES)[sys.argv[2]], Path(sys.argv[3])
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
    parser.add_argument("--cache", type=Path, help="read the kit's parquet cache under this")
    parser.add_argument("--parse", action="store_true", help="the parse alone, block by block")
    args = parser.parse_args()
    path = args.snapshot / "transactions.jsonl"
    print(f"{path}: {path.stat().st_size / 1e9:.2f} GB; load average {os.getloadavg()[0]:.1f}")
    if args.parse:
        parse_blocks(path)
        return
    extra = []
    if args.cache is not None:
        path, extra = part_files(args.snapshot, args.cache), ["cache"]
        files = _files(path)
        size = sum(Path(f).stat().st_size for f in files) / 1e9
        print(f"its parquet cache: {len(files)} month parts, {size:.2f} GB of transactions")
    for name in ENGINES:
        out = subprocess.run(
            [sys.executable, __file__, "_run", name, str(path), *extra],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            print(f"{name:<16} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        found = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:<16} {found['seconds']:>7} s  cpu {found['cpu']:>7} s  peak {found['peak_mb']:>6} MB"
              f"  ({found['tickets']:,} tickets)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
