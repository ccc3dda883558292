"""`review pull` says what it is waiting for: each retry on stderr, sooner out when refused.

On a terminal the retry shows on the progress line, rewritten in place; elsewhere (cron)
each retry is one line. The fault server (tests/fault_server.py) plays RT going down.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from review.cli import main
from tests import fault_server
from tests.fault_server import FakeRT, FaultServer, answer

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
ROOT = SAMPLE.parent.parent
PULL = ["pull", "--since", "2026-07-01", "--until", "2026-12-01"]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    fault, thread = fault_server.start()
    fault.rt = FakeRT(SAMPLE, per_page=50)
    yield fault
    fault_server.stop(fault, thread)


@pytest.fixture
def rt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_USER", "u")
    monkeypatch.setenv("RT_PASSWORD", "pw")


@pytest.mark.usefixtures("rt_env")
def test_each_retry_is_one_line_on_stderr_then_the_pull_completes(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr("review.rt.client.RETRY_DELAYS", (0.01, 0.02, 0.04))
    monkeypatch.setenv("RT_URL", server.url)
    server.script = [answer(503, {}), answer(503, {})]
    main([*PULL, "--snapshot", str(tmp_path / "s")])
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == [
        f"pull: RT at {server.url} answered HTTP 503; retry 1 of 3 in 0.01 s",
        f"pull: RT at {server.url} answered HTTP 503; retry 2 of 3 in 0.02 s",
    ]
    assert lines[-1].startswith("full pull: 61 tickets, 1038 transactions")


@pytest.mark.usefixtures("rt_env")
def test_a_refused_connection_is_said_at_each_retry_and_ends_on_the_short_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("review.rt.client.REFUSED_DELAYS", (0.01, 0.02))
    with socket.socket() as probe:  # bound, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/REST/2.0/"
    monkeypatch.setenv("RT_URL", url)
    with pytest.raises(SystemExit) as exited:
        main([*PULL, "--snapshot", str(tmp_path / "s")])
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"pull: RT at {url} could not be reached (ConnectError); retry 1 of 2 in 0.01 s",
        f"pull: RT at {url} could not be reached (ConnectError); retry 2 of 2 in 0.02 s",
        f"error: RT at {url} could not be reached (ConnectError) after 3 tries: check RT_URL "
        "and that RT is running",
    ]
    assert not (tmp_path / "s").exists()


def test_on_a_terminal_the_retry_shows_on_the_progress_line(
    server: FaultServer, tmp_path: Path
) -> None:
    """A real `review pull` on a 100-column pseudo-terminal, RT answering 503 twice (1 s + 2 s
    waits)."""
    server.script = [answer(503, {}), answer(503, {})]
    env = {**os.environ, "RT_URL": server.url, "RT_USER": "u", "RT_PASSWORD": "pw",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "review", *PULL, "--snapshot", str(tmp_path / "s")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    text = seen.decode("utf-8", "replace")
    assert "\rpull (RT answered HTTP 503; retry 1 of 7 in 1 s):" in text
    assert "\rpull (RT answered HTTP 503; retry 2 of 7 in 2 s):" in text
    # one line rewritten in place: no retry is a line of its own
    assert "\r" in text and "pull: RT at" not in text
    assert text.rstrip().splitlines()[-1].lstrip("\r").startswith("full pull: 61 tickets")
