"""A report mailed to several people is mailed to each once: after a send the SMTP server
partly refused, the re-run mails only those it refused (a real aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_mail import rendered
from tests.test_remind import Refusing, run, smtp

__all__ = ["rendered", "smtp"]  # fixtures


@pytest.mark.slow
def test_a_partly_refused_report_is_mailed_again_only_to_those_refused(
    smtp: tuple[Refusing, int], rendered: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    inbox, port = smtp
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    config = tmp_path / "review.toml"
    config.write_text(
        f'[mail]\nhost = "127.0.0.1"\nport = {port}\nfrom = "ops-reports@example.edu"\n'
    )
    args = ["support-report", "--out", str(out), "--config", str(config),
            "--mail-to", "ops@example.edu", "--mail-to", "lead@example.edu"]  # fmt: skip
    inbox.refuse = {"lead@example.edu"}

    code, _, err = run(args, capsys)
    assert code == 1
    assert err[-1] == (
        f"error: the SMTP server 127.0.0.1:{port} refused lead@example.edu; the others got "
        f"it; the rendered report stays in {out / 'support-gaps.html'}"
    )
    assert inbox.received() == {"ops@example.edu": 1}
    state = json.loads((out / ".mail-state.json").read_text())
    assert state["support-gaps.html"]["to"] == ["ops@example.edu"]

    inbox.refuse = set()
    assert run(args, capsys)[0] == 0  # the mailbox is back: only lead gets it now
    assert inbox.received() == {"ops@example.edu": 1, "lead@example.edu": 1}
    assert inbox.envelopes[-1].rcpt_tos == ["lead@example.edu"]

    assert run(args, capsys)[0] == 0  # nothing new: nobody is mailed again
    assert len(inbox.envelopes) == 2
