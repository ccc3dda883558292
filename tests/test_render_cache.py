"""The derived-cache handshake: one module builds every key, a relative --config gives the
same keys as an absolute one, the kernels read the parent's cache, a cache that cannot be
written is one line."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from review import context
from review.cli import main
from review.context import derived_dir
from review.errors import ReviewError
from review.pages import render as rendering
from review.settings.config import load_config
from review.snapshot import fingerprint
from tests.render_scenario import HOSTILE_TICKET, LONG_TICKET, make_snapshot

SITE = "[gaps]\nregistry_review_days = 200\n"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("scenario"))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file in the working directory, named relatively as a user types it."""
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site.toml").write_text(SITE)
    return tmp_path / "site.toml"


def run_cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_a_relative_config_gives_the_same_keys(snapshot: Path, site: Path) -> None:
    relative, absolute = load_config("site.toml"), load_config(site)
    assert relative.source != absolute.source  # as given: the keys must not see it
    assert relative.gaps.registry_review_days == 200
    assert fingerprint.config_digest(relative) == fingerprint.config_digest(absolute)
    assert derived_dir(snapshot, relative) == derived_dir(snapshot, absolute)
    assert fingerprint.config_digest(relative) != fingerprint.config_digest(load_config(None))
    one = rendering.load_inputs(snapshot, Path("site.toml"))
    other = rendering.load_inputs(snapshot, site)
    assert one.derived == other.derived and one.common == other.common


@pytest.mark.slow
def test_kernels_read_the_parents_cache_with_a_relative_config(
    snapshot: Path, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = site.parent / "reports"
    code = run_cli(
        "render", str(HOSTILE_TICKET), str(LONG_TICKET), "--snapshot", str(snapshot),
        "--config", "site.toml", "--out", str(out), "--jobs", "2",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    inputs = rendering.load_inputs(snapshot, site)
    assert (inputs.derived / "done").is_file()
    for ticket in (HOSTILE_TICKET, LONG_TICKET):
        node = nbformat.read(out / "2026-10" / f"incident-{ticket}.ipynb", as_version=4)
        parameters = node.metadata["papermill"]["parameters"]
        assert parameters["derived"] == str(inputs.derived)  # named explicitly
        assert parameters["config"] == str(site)  # the kernel gets it absolute
        streams = [
            o.get("text", "") for c in node.cells for o in c.get("outputs", []) if "name" in o
        ]
        assert not any("derived cache" in s for s in streams), streams  # no miss reported
    # the kernel's own key (absolute config) names the parent's cache too
    kernel_config = load_config(parameters["config"])
    assert derived_dir(Path(parameters["snapshot"]), kernel_config) == inputs.derived


def test_a_derived_cache_that_cannot_be_written_is_one_line(
    snapshot: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(blocked))
    code = run_cli(
        "render", str(HOSTILE_TICKET), "--snapshot", str(snapshot), "--out", str(tmp_path)
    )
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err == (
        f"warning: cannot write the snapshot cache {blocked} (Not a directory): read without "
        "it, slower and in more memory; give REVIEW_CACHE_DIR or [paths] cache a directory you "
        f"may write\nerror: cannot write the derived cache {blocked / 'derived'} (Not a "
        "directory): give REVIEW_CACHE_DIR or [paths] cache a directory you may write\n"
    )


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device"),
         "(No space left on device): free space there, or give REVIEW_CACHE_DIR"),
        (OSError(errno.EROFS, "Read-only file system"),
         "(Read-only file system): give REVIEW_CACHE_DIR"),
    ],
)  # fmt: skip
def test_a_full_or_read_only_cache_is_one_line_and_leaves_nothing_half_written(
    error: OSError, said: str, snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(context, "derive_parts", _raises(error))
    config = load_config(None)
    target = derived_dir(snapshot, config)
    with pytest.raises(ReviewError) as raised:
        context.derive_into(target, snapshot, None, config)
    assert f"cannot write the derived cache {target.parent} {said}" in str(raised.value)
    assert list(target.parent.iterdir()) == []  # no staging directory left behind


def test_another_fault_while_deriving_is_not_called_a_full_disk(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(context, "derive_parts", _raises(FileNotFoundError("a part's file")))
    config = load_config(None)
    with pytest.raises(FileNotFoundError):
        context.derive_into(derived_dir(snapshot, config), snapshot, None, config)


def _raises(error: Exception) -> Callable[..., Any]:
    def derive_parts(*args: object) -> Any:
        raise error

    return derive_parts


def test_render_and_derived_build_no_key_of_their_own() -> None:
    """One fact, one place: their keys and fingerprints come from review.snapshot.fingerprint."""
    root = Path(fingerprint.__file__).parent.parent
    for path in [*(root / "pages" / "render").glob("*.py"), root / "context.py"]:
        text, name = path.read_text(), path.name
        assert "hashlib" not in text and "repr(config)" not in text, name
