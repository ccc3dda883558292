"""The derived cache month by month (review.derive): the same frames as one pass over the whole
snapshot, and a later pull or an added month derives only what changed."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from review import context, derive
from review.settings.config import Config, load_config, with_registry
from review.snapshot import (
    DATA_FILES,
    TICKETS,
    fingerprint,
    load_snapshot,
    read_jsonl,
    read_manifest,
    write_snapshot,
)
from review.snapshot.cache import MESSAGES, Part, file_of
from review.snapshot.layout import month_of
from review.snapshot.load import open_catalog
from scenarios.generate import generate_snapshot
from tests import edited
from tests.edited import Rows, stamp

SAMPLE = Path(__file__).parent.parent / "data" / "sample"
GAPS = Path(__file__).parent / "fixtures" / "gaps"
FRAMES = (
    "events", "segments", "metrics", "findings", "checklist", "recurrences", "sla", "review_data",
    "lost",
)  # fmt: skip


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def gaps_config() -> Config:
    return with_registry(load_config(None), GAPS / "services.yaml")


def derived(path: Path, config: Config) -> context.Context:
    target = context.derive_into(context.derived_dir(path, config), path, None, config)
    found = context._read_derived(target, None, config)
    assert found is not None
    return found


def assert_same(whole: context.Context, parted: context.Context) -> None:
    """Each frame as one pass computes it, stored and read back as the derived cache was."""
    for name in FRAMES:
        expected: pd.DataFrame = getattr(whole, name).reset_index(drop=True)
        expected = pd.DataFrame(expected)
        expected.to_parquet(stored := Path(os.environ["REVIEW_CACHE_DIR"]) / "x.parquet")
        pd.testing.assert_frame_equal(getattr(parted, name), pd.read_parquet(stored), obj=name)
    assert parted.problems == whole.problems  # what the data holds as a whole, read once
    assert parted.unobservable == whole.unobservable


def parts_in(cache: Path) -> set[str]:
    store = cache / "derived-parts"
    return set(os.listdir(store)) if store.is_dir() else set()


def segments_in(cache: Path) -> set[str]:
    return set(os.listdir(cache / "segments"))


def with_texts(path: Path, target: Path) -> Path:
    """The snapshot with a text on every creation, reply and comment (the scenarios have none)."""
    tickets, transactions, queues, users = (read_jsonl(path / n) for n in DATA_FILES)
    for txn in transactions:
        if txn["Type"] in ("Create", "Correspond", "Comment"):
            txn["Data"] = f"said in {txn['id']}"
    manifest = read_manifest(path)
    return write_snapshot(
        target, tickets, transactions, queues, users, source="t", query="q",
        pulled_at=manifest["pulled_at"], coverage=manifest.get("coverage"),
    )  # fmt: skip


@pytest.mark.parametrize("which", ["sample", "gaps", "gaps with texts"])
def test_month_by_month_equals_one_pass(which: str, cache: Path, tmp_path: Path) -> None:
    if which == "sample":
        path, config = SAMPLE, load_config(None)
    else:  # open incidents, follow-ups linked across months, every rule firing
        path, config = generate_snapshot(GAPS / "scenarios", tmp_path / "gaps"), gaps_config()
        if which == "gaps with texts":  # what a review is about includes what was said
            path = with_texts(path, tmp_path / "texts")
    assert len(read_manifest(path)["parts"][TICKETS]) >= 1
    whole = context.Context(load_snapshot(path), config)
    parted = derived(path, config)
    assert_same(whole, parted)
    assert len(parted.metrics) == len(whole.metrics) > 0
    one = int(whole.metrics["ticket_id"].iloc[3])  # a review reads its incident's rows only
    review = context.open_context(
        path, config, tickets={one}, derived=context.derived_dir(path, config)
    )
    assert set(review.metrics["ticket_id"]) == {one}
    texts = review.snapshot.messages([one])
    assert set(texts["ticket_id"]) == {one}
    assert texts.set_index("txn_id")["data"].equals(
        load_snapshot(path).messages([one]).set_index("txn_id")["data"]
    )


def test_a_later_pull_derives_only_the_incidents_still_open(cache: Path, tmp_path: Path) -> None:
    config = gaps_config()
    first = generate_snapshot(GAPS / "scenarios", tmp_path / "first")
    later = generate_snapshot(
        GAPS / "scenarios", tmp_path / "later", pulled_at="2026-12-01T06:00:00Z"
    )
    derived(first, config)
    before = parts_in(cache)
    whole = context.Context(load_snapshot(later), config)
    parted = derived(later, config)
    assert_same(whole, parted)  # an open incident's figures run to the later pull's time
    assert len(parts_in(cache) - before) == 1  # the incidents still open, derived together
    still_open = whole.metrics.loc[whole.metrics["resolved_at"].isna(), "ticket_id"]
    assert len(still_open) > 0


def _until(rows: list[dict], transactions: list[dict], last: str) -> tuple[list, list]:
    """The tickets filed under months up to `last`, and their history."""
    kept = [t for t in rows if month_of(t) <= last]
    ids = {str(t["id"]) for t in kept}
    return kept, [x for x in transactions if x["ObjectId"] in ids]


def test_a_month_added_is_parsed_and_derived_alone(cache: Path, tmp_path: Path) -> None:
    tickets, transactions, queues, users = (read_jsonl(SAMPLE / n) for n in DATA_FILES)
    manifest = read_manifest(SAMPLE)
    common = {"source": "sample", "query": "q", "pulled_at": manifest["pulled_at"]}
    config = load_config(None)
    before = write_snapshot(
        tmp_path / "s", *_until(tickets, transactions, "2026-09"), queues, users, **common
    )
    derived(before, config)
    segments, parts = segments_in(cache), parts_in(cache)
    after = write_snapshot(tmp_path / "s", tickets, transactions, queues, users, **common)
    assert_same(context.Context(load_snapshot(after), config), derived(after, config))
    new = segments_in(cache) - segments
    months = {m.name for s in new for m in (cache / "segments" / s).iterdir() if m.is_dir()}
    assert months == {"2026-10"}  # August and September were not read again
    assert len(parts_in(cache) - parts) == 1  # nor derived again


def test_a_ticket_is_derived_again_when_a_ticket_it_links_to_changes(
    cache: Path, tmp_path: Path
) -> None:
    tickets, transactions, queues, users = (read_jsonl(SAMPLE / n) for n in DATA_FILES)
    common = {"source": "sample", "query": "q", "pulled_at": read_manifest(SAMPLE)["pulled_at"]}
    config = load_config(None)
    followup = next(t for t in tickets if t["id"] == 27)  # ticket 26 refers to it
    followup["LastUpdated"] = "2026-10-20T00:00:00Z"  # filed a month later than 26
    first = write_snapshot(tmp_path / "s", tickets, transactions, queues, users, **common)
    assert_same(context.Context(load_snapshot(first), config), derived(first, config))
    parts = parts_in(cache)
    followup["Status"] = "open"  # the follow-up is reopened; 26 itself is unchanged
    second = write_snapshot(tmp_path / "s", tickets, transactions, queues, users, **common)
    assert_same(context.Context(load_snapshot(second), config), derived(second, config))
    again = [
        set(pd.read_parquet(cache / "derived-parts" / p / "events.parquet")["ticket_id"])
        for p in parts_in(cache) - parts
    ]
    assert any(26 in ids for ids in again)  # September's part, for what 26 reads of 27
    assert not any(1 in ids for ids in again)  # not a part that links to neither


def _edited_sample(target: Path, edit: Callable[[Rows], None], pulled_at: str) -> Path:
    rows = {name: read_jsonl(SAMPLE / name) for name in DATA_FILES}
    edit(rows)
    return write_snapshot(
        target, *(rows[name] for name in DATA_FILES), source="sample", query="q",
        pulled_at=pulled_at,
    )  # fmt: skip


def test_impossible_data_is_derived_month_by_month_as_in_one_pass(
    cache: Path, tmp_path: Path
) -> None:
    def edit(rows: Rows) -> None:
        tickets = {t["id"]: t for t in rows["tickets.jsonl"]}
        tickets[60]["EffectiveId"] = {"id": "1", "type": "ticket"}  # October's, into August's
        tickets[61]["EffectiveId"] = {"id": "999", "type": "ticket"}  # into one not held
        tickets[2]["Created"] = "1994-05-01T00:00:00Z"  # before RT: left out
        edited.txn(rows, 106)["Created"] = "9999-01-01T00:00:00Z"  # ticket 1's reply
        edited.txn(rows, 129)["Created"] = "2026-08-01T00:00:00Z"  # before ticket 2... gone with it
        rows["queues.jsonl"] = [q for q in rows["queues.jsonl"] if q["Name"] != "dev-web"]

    path = _edited_sample(tmp_path / "s", edit, read_manifest(SAMPLE)["pulled_at"])
    config = load_config(None)
    whole = context.Context(load_snapshot(path), config)
    assert {"time-after-pull", "merged-away", "unknown-queue"} <= set(whole.lost["kind"])
    assert set(whole.lost.loc[whole.lost["kind"] == "merged-away", "ticket_id"]) == {61}
    assert 60 not in set(whole.metrics["ticket_id"]) and 2 not in set(whole.metrics["ticket_id"])
    assert_same(whole, derived(path, config))


def test_a_time_after_the_pull_is_judged_by_each_pulls_own_time(
    cache: Path, tmp_path: Path
) -> None:
    """A later pull of the same rows (no part changed) may find a time true that the first
    pull could not: the ticket is not left as the first derive found it."""
    config = load_config(None)
    late = stamp(106, "2026-11-15T00:00:00Z")  # ticket 1 (August, resolved): its first reply
    first = _edited_sample(tmp_path / "first", late, "2026-11-01T06:00:00Z")
    assert set(derived(first, config).lost["ticket_id"]) == {1}
    later = _edited_sample(tmp_path / "later", late, "2026-12-01T06:00:00Z")
    whole = context.Context(load_snapshot(later), config)
    # true now, the reply runs ahead of the transactions RT wrote after it (test_backwards_times)
    assert set(whole.lost["kind"]) == {"time-backwards"}
    assert_same(whole, derived(later, config))


def test_batches_in_worker_processes_give_the_same(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derive, "BATCH", 300)  # about one month of the sample a batch
    config = load_config(None)
    whole = context.Context(load_snapshot(SAMPLE), config)
    assert_same(whole, derived(SAMPLE, config))
    assert len(parts_in(cache)) >= 3


def test_batches_end_at_their_transactions_or_their_mail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch ends before BATCH transactions or MAIL_BATCH bytes of cached message text
    (long mails: memory), whichever comes first; a part is never split."""
    monkeypatch.setattr(derive, "BATCH", 100)
    monkeypatch.setattr(derive, "MAIL_BATCH", 1000)
    parts = []
    sizes = [(40, 100), (40, 100), (40, 900), (10, 200), (90, 0), (20, 0)]
    for number, (transactions, mail) in enumerate(sizes):
        directory = tmp_path / str(number)
        directory.mkdir()
        file_of(directory, MESSAGES).write_bytes(b"x" * mail)
        parts.append(Part(f"s/{number}", "2026-01", directory, 1, transactions))
    # 40 + 40; then 120 transactions: a new batch; 900 + 200 bytes: a new one; 10 + 90 = 100
    # transactions fit; 120 do not
    assert derive._batches(list(range(6)), parts) == [[0, 1], [2], [3, 4], [5]]


def test_messages_filed_by_month_are_those_kept_as_in_memory(cache: Path, tmp_path: Path) -> None:
    """The bodies filed into each month's part (segment._write_messages, by position in
    Arrow) are the kept transactions' texts, the same as a read without a cache gives: rows
    left out (a ticket not in tickets.jsonl, an id that is not a number, a repeat) have none."""

    def edit(rows: Rows) -> None:
        history = rows["transactions.jsonl"]
        stray = dict(edited.txn(rows, 106), id="9001", ObjectId="999", Data="stray")
        broken = dict(edited.txn(rows, 106), id="x1", Data="not a number")
        # before and among the kept ones: their places are inside the stretch's positions
        rows["transactions.jsonl"] = [stray, broken, *history[:9], dict(history[3]), *history[9:]]

    path = _edited_sample(tmp_path / "s", edit, read_manifest(SAMPLE)["pulled_at"])
    held = load_snapshot(path).messages(None)
    filed = load_snapshot(path, cache).messages(None)
    order = ["ticket_id", "txn_id"]
    pd.testing.assert_frame_equal(
        filed.sort_values(order, ignore_index=True), held.sort_values(order, ignore_index=True)
    )
    assert len(filed) == len(read_jsonl(SAMPLE / "transactions.jsonl"))  # one text a txn
    assert not filed["data"].isin(["stray", "not a number"]).any()
    assert filed["txn_id"].is_unique


def test_a_cached_part_needs_its_files(cache: Path) -> None:
    config = load_config(None)
    first = derived(SAMPLE, config)
    for directory in (cache / "segments").iterdir():  # a cache someone pruned by hand
        for month in directory.iterdir():
            if month.is_dir():
                (month / "messages.parquet").unlink()
    shutil.rmtree(context.derived_dir(SAMPLE, config))
    again = derived(SAMPLE, config)  # the month parts are parsed again, not read half
    pd.testing.assert_frame_equal(first.metrics, again.metrics)
    assert len(load_snapshot(SAMPLE, cache).messages(None)) == len(
        load_snapshot(SAMPLE).messages(None)
    )


@pytest.mark.parametrize(
    "times",
    [
        ["2026-01-01T00:00:01Z", None, "1969-12-31T23:59:59Z"],
        ["2026-01-01T00:00:01Z", "2026-01-01T00:00:01.5Z"],  # a fraction: pandas writes it
        [],
    ],
)
def test_digests_read_times_as_pandas_writes_them(times: list[str | None]) -> None:
    """Digests hash text; Arrow writes the times (fast), exactly as pandas would."""
    frame = pd.DataFrame(
        {"at": pd.to_datetime(pd.Series(times, dtype="object"), utc=True, format="ISO8601"),
         "n": range(len(times))}
    )  # fmt: skip
    pd.testing.assert_frame_equal(fingerprint.as_text(frame), frame.astype("string"))


@pytest.mark.parametrize("tickets", [[], read_jsonl(SAMPLE / "tickets.jsonl")[:3]])
def test_a_snapshot_without_history_derives_as_one_pass(
    tickets: list[dict[str, object]], cache: Path, tmp_path: Path
) -> None:
    """A quiet window (or every row left out), or tickets without their transactions: the
    derived frames are typed as one pass gives them (the library reads the tickets' status)
    and each month has its (empty) messages (what a review is about reads them)."""
    path = write_snapshot(
        tmp_path / "quiet", tickets, [], read_jsonl(SAMPLE / "queues.jsonl"),
        read_jsonl(SAMPLE / "users.jsonl"), source="t", query="q",
        pulled_at="2026-11-01T06:00:00Z",
    )  # fmt: skip
    config = load_config(None)
    whole = context.Context(load_snapshot(path), config)
    parted = derived(path, config)
    assert_same(whole, parted)
    for name in derive.TICKET_FRAMES:
        found, expected = getattr(parted.snapshot, name), getattr(whole.snapshot, name)
        assert len(found) == len(expected)
        assert dict(found.dtypes) == dict(expected.dtypes), name
    assert list(parted.snapshot.tickets.columns)[:3] == ["ticket_id", "subject", "status"]
    assert parted.snapshot.messages().empty
    assert len(parted.review_data) == len(tickets)  # each review's data, from no messages


def test_a_linked_tickets_digest_is_kept_beside_its_part(cache: Path, tmp_path: Path) -> None:
    """What a part reads of the tickets it links to is known by their digests: made from the
    rows of tickets not linked to before, kept beside their part and read back at later runs."""
    config = gaps_config()
    path = generate_snapshot(GAPS / "scenarios", tmp_path / "gaps")  # links across months
    catalog = open_catalog(path, cache)
    light = catalog.snapshot(frames=derive.LIGHT)
    ids = [set(found.tolist()) for found in catalog.ticket_ids]
    run = derive._Run(catalog, config, light, "", ids)
    linked = set(run.pairs["target"]) & run.kept
    assert len(linked) == 4
    whole = load_snapshot(path)  # the linked tickets' rows as one snapshot, no history
    rows = {
        name: getattr(whole, name).loc[getattr(whole, name)["ticket_id"].isin(linked)]
        for name in derive.TICKET_FRAMES
    }
    one_pass = fingerprint.ticket_digests(
        dataclasses.replace(whole, transactions=whole.transactions.iloc[0:0], **rows)
    )
    assert run.targets == dict(one_pass)
    (kept,) = cache.glob(f"segments/*/*/{derive.DIGESTS}")  # the part holding them
    assert set(pd.read_parquet(kept)["ticket_id"]) == linked
    pd.read_parquet(kept).iloc[:2].to_parquet(kept)  # two known: the others made again
    assert derive._Run(catalog, config, light, "", ids).targets == run.targets
    assert set(pd.read_parquet(kept)["ticket_id"]) == linked
    kept.write_bytes(b"not parquet")  # damaged: made again, the same
    assert derive._Run(catalog, config, light, "", ids).targets == run.targets
    assert pd.read_parquet(kept).shape == (4, 2)


def test_a_batch_read_part_after_part_holds_each_tickets_rows_as_file_order(
    cache: Path,
) -> None:
    """A derive reads its batch's parts one after the other, unsorted: every per-ticket frame
    then holds the same rows, and each ticket's in the same order, as the file-order read (a
    ticket's rows are all in its part), only the tickets come part by part."""
    catalog = open_catalog(SAMPLE, cache)
    assert len(catalog.parts) >= 3
    chosen = list(range(len(catalog.parts)))[::-1]  # later months first: the order differs
    ordered = catalog.snapshot(parts=chosen)
    as_read = catalog.snapshot(parts=chosen, in_file_order=False)
    for name in ("tickets", "transactions", "watchers", "custom_fields", "links"):
        mine, theirs = getattr(as_read, name), getattr(ordered, name)
        first = catalog.ticket_ids[chosen[0]]
        assert mine["ticket_id"].iloc[: (mine["ticket_id"].isin(first)).sum()].isin(first).all()
        by_ticket = theirs.sort_values("ticket_id", kind="stable", ignore_index=True)
        pd.testing.assert_frame_equal(
            mine.sort_values("ticket_id", kind="stable", ignore_index=True), by_ticket, obj=name
        )
    assert not as_read.tickets["ticket_id"].equals(ordered.tickets["ticket_id"])


def test_a_cache_another_run_completed_meanwhile_stays_for_its_readers(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs started at once both derive; the first renames its cache in and reads it. The
    second found it missing when it began, and before, removed the complete one to put its own
    in its place: the first run's read died with a traceback (FileNotFoundError: links.parquet,
    seen with two `review publish` from two reports folders). The complete one stays."""
    config = load_config(None)
    target = context.derived_dir(SAMPLE, config)
    context.derive_into(target, SAMPLE, None, config)
    other = tmp_path / "other-run"
    shutil.copytree(target, other)
    shutil.rmtree(target)
    placed: list[int] = []
    real = context.derive_parts

    def meanwhile(*args: object, **kwargs: object) -> object:
        shutil.copytree(other, target)  # the other run's cache, renamed in while this derives
        placed.append(target.stat().st_ino)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(context, "derive_parts", meanwhile)
    assert context.derive_into(target, SAMPLE, None, config) == target
    assert placed == [target.stat().st_ino]  # the very directory its readers opened
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no staging left
    assert sorted(os.listdir(target)) == sorted(os.listdir(other))
