"""`render --out` on a read-only filesystem is one line, not a traceback."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from review.cli import main

pytestmark = pytest.mark.slow  # runs notebooks, kernels, JupyterLab or a browser


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A read-only bind mount (needs root and mount(8); skipped elsewhere)."""
    source, target = tmp_path / "source", tmp_path / "ro"
    source.mkdir()
    target.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root")
    for args in (["--bind", source, target], ["-o", "remount,bind,ro", target]):
        if subprocess.run(["mount", *map(str, args)], capture_output=True).returncode:
            subprocess.run(["umount", str(target)], capture_output=True)
            pytest.skip("mount is not allowed here")
    yield target
    subprocess.run(["umount", str(target)], check=True)


@pytest.mark.parametrize("below", ["", "reports"])
def test_render_to_a_read_only_filesystem_is_one_line(
    read_only: Path, below: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = read_only / below
    with pytest.raises(SystemExit) as caught:
        main(["render", "2", "--out", str(out)])
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: cannot write to {out}: ") and "Read-only file system" in err
