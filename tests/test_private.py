"""What other local users may read of what the kit writes, under a umask of 022 (most
systems' default): the modes of every file and folder are checked by hand.

Before, snapshots, caches, records and pages followed the umask: 0644 files in 0755
folders, readable by every local user, internal comments and requestors' addresses
included."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from review import private
from review.cli import main
from tests import fault_server
from tests.fault_server import FakeRT

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A session started with umask 022 (conftest puts the test's own umask back)."""
    os.environ.pop(private.UMASK_ENV, None)
    os.umask(0o022)
    yield


def modes(root: Path) -> dict[str, int]:
    """Every file and folder under `root` (itself included) -> its permission bits."""
    found = {".": root.stat().st_mode & 0o777}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = path.lstat().st_mode & 0o777
    return found


def kinds(root: Path) -> dict[str, set[int]]:
    """The modes of the folders and of the files under `root`."""
    table = modes(root)
    split: dict[str, set[int]] = {"folders": set(), "files": set()}
    for name, mode in table.items():
        split["folders" if (root / name).is_dir() else "files"].add(mode)
    return split


def review(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_restrict_adds_077_and_worker_processes_inherit_it(umask_022: None, tmp_path: Path) -> None:
    private.restrict()
    private.restrict()  # a second call keeps the first umask as the starting one
    assert private.started_umask() == 0o022
    now = os.umask(0o077)
    os.umask(now)
    assert now == 0o077
    made = tmp_path / "by-a-worker"
    code = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('ticket text')"
    subprocess.run([sys.executable, "-c", code, str(made)], check=True)
    assert made.stat().st_mode & 0o777 == 0o600


def test_settle_shares_pages_and_folders_never_the_records(umask_022: None, tmp_path: Path) -> None:
    """Only what a render writes: the reports folder, its month folders and reviews/, their
    pages and review files; dot-files private either way; anything else as it was."""
    out = tmp_path / "reports"
    for folder in ("2026-10", "reviews", ".hidden", "other"):
        (out / folder).mkdir(parents=True)
    for name in ("index.html", "2026-10/incident-5.html", "reviews/incident-5.json",
                 ".mail-state.json", "2026-10/.incident-5.html.abc123", ".hidden/x",
                 "other/y.html", "notes.txt"):  # fmt: skip
        (out / name).write_text("x")
    untouched = {".hidden/x": 0o644, "other": 0o755, "other/y.html": 0o644, "notes.txt": 0o644}
    private.restrict()
    private.settle(out, shared=True)
    assert modes(out) == {
        ".": 0o755, "2026-10": 0o755, "reviews": 0o755, "index.html": 0o644,
        "2026-10/incident-5.html": 0o644, "reviews/incident-5.json": 0o644,
        ".mail-state.json": 0o600, "2026-10/.incident-5.html.abc123": 0o600, ".hidden": 0o700,
        **untouched,
    }  # fmt: skip
    private.settle(out, shared=False)
    assert modes(out) == {
        ".": 0o700, "2026-10": 0o700, "reviews": 0o700, "index.html": 0o600,
        "2026-10/incident-5.html": 0o600, "reviews/incident-5.json": 0o600,
        ".mail-state.json": 0o600, "2026-10/.incident-5.html.abc123": 0o600, ".hidden": 0o700,
        **untouched,
    }  # fmt: skip
    (out / "index.html").chmod(0o444)  # made read-only by its owner: kept so
    private.settle(out, shared=True)
    assert modes(out)["index.html"] == 0o444


def test_a_pull_and_the_caches_it_feeds_are_private(
    umask_022: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`review pull` from a fake RT, then `review metrics` on it (worker processes parse the
    month parts into the snapshot cache), all under umask 022."""
    server, thread = fault_server.start()
    server.rt = FakeRT(SAMPLE, per_page=40)
    monkeypatch.setenv("RT_URL", server.url)
    monkeypatch.setenv("RT_USER", "u")
    monkeypatch.setenv("RT_PASSWORD", "pw")
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("REVIEW_WORKERS", "2")
    snapshot = tmp_path / "data" / "interim" / "rt"
    try:
        pulled = review("pull", "--since", "2026-07-01", "--until", "2026-12-01", "--snapshot",
                        str(snapshot))  # fmt: skip
    finally:
        fault_server.stop(server, thread)
    assert pulled == 0
    assert kinds(tmp_path / "data") == {"folders": {0o700}, "files": {0o600}}
    assert len(modes(snapshot)) > 5
    assert review("metrics", "--snapshot", str(snapshot), "--output", str(tmp_path / "m.csv")) == 0
    assert kinds(tmp_path / "cache") == {"folders": {0o700}, "files": {0o600}}
    assert len(modes(tmp_path / "cache")) > 5
    assert (tmp_path / "m.csv").stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_pages_are_private_unless_the_site_shares_them(
    umask_022: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One review rendered (a worker process writes it, renamed into place) with its HTML,
    under umask 022: private; with `[paths] share_reports = true`, the next render gives the
    pages and folders 0644 and 0755, the records beside them stay 0600."""
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "reports"
    args = ["render", "10", "--html", "--out", str(out)]
    assert review(*args) == 0
    pages = {"2026-08/incident-10.ipynb", "2026-08/incident-10.html", "index.html"}
    assert {name for name in modes(out) if not Path(name).name.startswith(".")} >= pages
    assert kinds(out) == {"folders": {0o700}, "files": {0o600}}
    assert kinds(tmp_path / "cache") == {"folders": {0o700}, "files": {0o600}}

    config = tmp_path / "review.toml"
    config.write_text("[paths]\nshare_reports = true\n")
    assert review(*args, "--config", str(config)) == 0
    found = modes(out)
    assert {found[name] for name in pages} == {0o644}
    assert {found[name] for name in (".", "2026-08")} == {0o755}
    records = {name: mode for name, mode in found.items() if Path(name).name.startswith(".")}
    assert ".render-state.json" in records and set(records.values()) == {0o600}
