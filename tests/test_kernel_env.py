"""Kernels get an allow-list of the environment: no credential, under any name, reaches one.

A real render batch (worker processes, papermill, warm or cold kernels) runs a notebook
that prints its kernel's environment; every secret the calling shell holds must be absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from review.pages import render as rendering

pytestmark = pytest.mark.slow  # runs notebooks, kernels, JupyterLab or a browser

SECRET = "s3cr3t-value-that-must-not-leak"
# The shell of someone who also works with clouds, forges and RT: none of these is the kit's.
CREDENTIALS = {
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_SESSION_TOKEN": SECRET,
    "GITHUB_PAT": SECRET,
    "GH_ENTERPRISE_TOKEN": SECRET,
    "AZURE_CLIENT_SECRET_VALUE": SECRET,
    "GOOGLE_APPLICATION_CREDENTIALS": f"/home/alice/{SECRET}.json",
    "OPENAI_KEY": SECRET,
    "DATABASE_URL": f"postgres://alice:{SECRET}@db.example.edu/ops",
    "HTTPS_PROXY": f"http://alice:{SECRET}@proxy.example.edu:3128",
    "SSH_AUTH_SOCK": f"/tmp/ssh-{SECRET}/agent.1",
    "KRB5CCNAME": f"FILE:/tmp/krb5cc_{SECRET}",
    "RT_TOKEN": SECRET,
    "RT_USER": "alice",
    "RT_PASSWORD": SECRET,
    "RT_URL": f"https://alice:{SECRET}@rt.example.edu/",
    "SMTP_PASSWORD": SECRET,
    "JUPYTER_TOKEN": SECRET,
    "JUPYTERHUB_API_TOKEN": SECRET,
    "JPY_API_TOKEN": SECRET,
    "MY_TEAM_CONN": SECRET,  # a name no list of patterns would guess
}
# What a kernel needs and gets: the basics, locale and time zone, the kit's own settings,
# what Jupyter and matplotlib read.
NEEDED = {
    "LANG": "C.UTF-8",
    "LC_TIME": "C.UTF-8",
    "TZ": "UTC",
    "MPLCONFIGDIR": "/tmp/review-test-mpl",
    "JUPYTER_PLATFORM_DIRS": "1",
    "REVIEW_CONFIG": "",  # the documented defaults
    "PYTHONHASHSEED": "0",
}


def _notebook(path: Path) -> Path:
    book = new_notebook(
        cells=[new_code_cell("import json, os\nprint(json.dumps(dict(os.environ)))")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(book, path)
    return path


@pytest.mark.parametrize("warm_kernels", ["1", "0"], ids=["warm", "cold"])
def test_no_credential_reaches_a_kernel_in_a_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_kernels: str
) -> None:
    for name, value in {**CREDENTIALS, **NEEDED}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SOME_UNRELATED_SETTING", "x")  # not needed, so not given
    monkeypatch.setenv("REVIEW_WARM_KERNELS", warm_kernels)
    out = tmp_path / "out"
    job = rendering.Job(
        name="environment", template=_notebook(tmp_path / "env.ipynb"),
        output=out / "env.ipynb", parameters={}, fingerprint="env", html=False,
    )  # fmt: skip
    result = rendering.run_batch([job], out, workers=1, progress=False)
    assert result.ok, result.failures
    cell = nbformat.read(out / "env.ipynb", as_version=4).cells[0]
    env = json.loads("".join(o["text"] for o in cell.outputs if o.get("name") == "stdout"))

    assert not sorted(set(CREDENTIALS) & set(env))
    assert not [name for name, value in env.items() if SECRET in value]
    assert "SOME_UNRELATED_SETTING" not in env
    for name, value in NEEDED.items():
        assert env.get(name) == value, name
    assert env["HOME"] and env["PATH"]
