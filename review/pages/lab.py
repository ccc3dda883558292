"""`review lab`: JupyterLab on a working copy under reports/, never on the templates.

The Tech Lead opens a review in JupyterLab to read it, rerun it, or try a variant.
The templates in ``notebooks/`` are committed without outputs and every render's
fingerprint reads them, so they must not be the notebook that gets run and saved:

- `review lab` opens the rendered notebook under ``reports/`` (or, when there is
  none yet, writes a fresh copy of the template there with the parameters filled
  in) and starts JupyterLab with ``reports/`` as its root, so ``notebooks/`` is not
  even in its file browser;
- the save hook (``pre_save``) keeps a template free of outputs when someone opens
  and runs it anyway with a plain ``jupyter lab`` (``keep_templates_clean``: a save
  that only adds outputs leaves the file byte for byte as it was, and a real edit is
  saved without outputs), and keeps what the team writes in a review notebook's
  ``written`` cells in the incident's review file (``keep_written``, see
  review.pages.written), which every render reads back: saving is all it takes.
  ``jupyter-config/rt-incident-review.json`` turns it on for the environment's Jupyter
  (installed with the package, or by `review lab`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from review.errors import ReviewError
from review.settings.config import checkout, templates_dir

HOOK = "review.pages.lab.pre_save"
HOOK_CONFIG = Path("jupyter-config") / "rt-incident-review.json"  # in a checkout
HOOK_CONFIG_DIR = Path("etc") / "jupyter" / "jupyter_server_config.d"
START_SECONDS = 90.0
# What JupyterLab's pages may load (its own server's default plus images and media): a review's
# written Markdown is untrusted, and JupyterLab's sanitizer keeps `![x](https://...)` and
# <img src="https://..."> as remote images, which phone home when the notebook is opened.
# Images and media come only from the server itself, data: (the figures) and blob: URLs.
CONTENT_SECURITY_POLICY = (
    "frame-ancestors 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:"
)
# What opening the browser needs, on top of the kernels' environment.
BROWSER_VARIABLES = frozenset(
    {"BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"}
)


def _templates() -> Path:
    return templates_dir()


# --------------------------------------------------------------------------- the save hook


def pre_save(model: dict[str, Any], path: str, contents_manager: Any, **_: Any) -> None:
    """Jupyter pre-save hook: templates saved clean, written sections kept (module docstring)."""
    keep_templates_clean(model, path, contents_manager)
    keep_written(model, path, contents_manager)


def keep_written(model: dict[str, Any], path: str, contents_manager: Any, **_: Any) -> None:
    """Jupyter pre-save hook: a review notebook's written cells go to its review file.

    Only notebooks a render (or `review lab`) prepared carry what this needs; others,
    and the templates, are left alone. A review file that cannot be read or written
    rejects the save with its one-line reason (JupyterLab shows it and keeps the text),
    so nothing is lost without a word.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    import getpass

    from review.pages import written

    os_path = Path(contents_manager._get_os_path(path))
    if os_path.resolve().is_relative_to(_templates().resolve()):
        return
    try:
        written.save_from_notebook(model["content"], os_path, getpass.getuser())
    except (ReviewError, OSError) as exc:
        from tornado.web import HTTPError

        # Jupyter saves anyway after any other error; this one rejects the save, so JupyterLab
        # shows the reason and keeps the text in the browser until the file is fixed.
        reason = str(exc) if isinstance(exc, ReviewError) else f"cannot write the review: {exc}"
        raise HTTPError(409, "%s", reason) from None


def keep_templates_clean(model: dict[str, Any], path: str, contents_manager: Any, **_: Any) -> None:
    """Jupyter pre-save hook: a template in notebooks/ is saved without outputs.

    Outputs, execution counts and run metadata are dropped; the notebook metadata
    stays what the file on disk has. When the code and text are unchanged, the
    saved file is the file on disk, byte for byte. Other notebooks are untouched.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    import nbformat

    os_path = Path(contents_manager._get_os_path(path)).resolve()
    if not os_path.is_relative_to(_templates().resolve()):
        return
    content: dict[str, Any] = model["content"]
    disk: dict[str, Any] | None = None
    if os_path.is_file():
        disk = json.loads(os_path.read_text("utf-8"))
    for cell in content.get("cells", []):
        metadata = cell.get("metadata", {})
        for key in ("execution", "scrolled", "collapsed", "papermill"):
            metadata.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    if disk is None:
        content.get("metadata", {}).pop("papermill", None)
        return
    content["metadata"] = disk.get("metadata", {})
    content["nbformat"], content["nbformat_minor"] = disk["nbformat"], disk["nbformat_minor"]
    if _same_cells(content, disk):
        reads: Any = nbformat.reads
        model["content"] = reads(os_path.read_text("utf-8"), as_version=nbformat.NO_CONVERT)


def _same_cells(content: dict[str, Any], disk: dict[str, Any]) -> bool:
    def cells(node: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [
            (
                str(c.get("cell_type")),
                "".join(c.get("source", "")),
                json.dumps(c.get("metadata", {}), sort_keys=True),
            )
            for c in node.get("cells", [])
        ]

    return cells(content) == cells(disk)


def install_save_hook(prefix: Path | None = None) -> Path | None:
    """Turn the save hook on for the Jupyter of this environment (`prefix`: sys.prefix).

    Returns the config file written, or None when it is already there as it should be
    or the environment cannot be written to (then the hook is off there: `review lab`
    passes it itself). A file from an older version (another hook) is replaced.
    """
    target = (prefix or Path(sys.prefix)) / HOOK_CONFIG_DIR / HOOK_CONFIG.name
    root = checkout()  # an installed wheel put the file there itself (setup.py data_files)
    if root is None:
        return None
    try:
        if target.read_bytes() == (root / HOOK_CONFIG).read_bytes():
            return None
    except OSError:
        pass
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / HOOK_CONFIG, target)
    except OSError:
        return None
    return target


# --------------------------------------------------------------------------- working copies


def working_copy(job: Any) -> tuple[Path, bool]:
    """The notebook to open for a render job: (path, whether it was made just now).

    The rendered notebook when there is one; otherwise a copy of the job's template
    with its parameters filled in (as papermill would), written where the render
    puts the notebook, for JupyterLab to run. Either way it holds the team's written
    sections and what the save hook needs to keep them (a notebook rendered before
    the kit kept written sections gets them now).
    """
    import nbformat

    from review.pages import written
    from review.pages.render import KERNEL_NAME, with_written
    from review.pages.render.files import read_notebook

    output: Path = job.output
    fresh = not output.is_file()
    if not fresh:
        node = read_notebook(output)  # one line when broken by hand: fix it or move it aside
        if job.written is None or written.META in node.metadata:
            return output, False
    else:
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        node = load_notebook_node(str(job.template))
        # not `derived`: that names one render batch's cache; JupyterLab finds or derives its own
        parameters = {k: v for k, v in job.parameters.items() if k != "derived"}
        node = parameterize_notebook(node, parameters, kernel_name=KERNEL_NAME, language="python")
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            writes: Any = nbformat.writes
            stream.write(writes(node) + "\n")
        with_written(job, Path(temp))
        os.replace(temp, output)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return output, fresh


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def lab_command(root: Path, open_path: str, port: int, browser: bool) -> list[str]:
    """The venv's JupyterLab on `root`, on loopback, opening `open_path` (relative to root).

    No token here: any local user reads a command line (`ps`); `start` hands it over in
    an owner-only file. Its pages load no remote image (CONTENT_SECURITY_POLICY).
    """
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.answer_yes=True",
        "--log-level=WARN",
        f"--FileContentsManager.pre_save_hook={HOOK}",
        "--ServerApp.tornado_settings="
        + json.dumps({"headers": {"Content-Security-Policy": CONTENT_SECURITY_POLICY}}),
    ]
    if open_path:
        command.append(f"--ServerApp.default_url=/lab/tree/{open_path}")
    if not browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # a container or CI; the server listens on loopback only
    return command


def lab_url(port: int, open_path: str, token: str) -> str:
    where = f"/lab/tree/{open_path}" if open_path else "/lab"
    return f"http://127.0.0.1:{port}{where}?token={token}"


def start(root: Path, open_path: str, port: int | None = None, browser: bool = False) -> Any:
    """Start JupyterLab and wait until it answers; returns (process, url).

    The token goes to JupyterLab in a file only this user may read (JUPYTER_TOKEN_FILE,
    in a private directory), never on its command line or in an environment variable
    its kernels inherit, and the file is removed as soon as the server answers with it.
    """
    from review.pages.render import kernel_environment

    install_save_hook()
    port = port or free_port()
    token = secrets.token_hex(24)
    private = Path(tempfile.mkdtemp(prefix="review-lab-"))  # mode 0700
    try:
        token_file = private / "token"
        handle = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(token)
        env = kernel_environment()  # the kernels get no credentials, as in a render
        env.update({k: v for k, v in os.environ.items() if k in BROWSER_VARIABLES})
        env["JUPYTER_TOKEN_FILE"] = str(token_file)  # a JUPYTER_TOKEN would win: not passed
        process = subprocess.Popen(
            lab_command(root.resolve(), open_path, port, browser), env=env, cwd=root
        )
        _wait_until_up(process, port, token)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return process, lab_url(port, open_path, token)


def _wait_until_up(process: Any, port: int, token: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    status = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"}
    )
    while True:
        if process.poll() is not None:
            raise ReviewError(
                f"JupyterLab did not start (exit status {process.returncode}); "
                "its messages are above"
            )
        try:
            with urllib.request.urlopen(status, timeout=2):
                return
        except urllib.error.HTTPError as exc:
            if exc.code != 403:
                raise ReviewError(f"JupyterLab answered HTTP {exc.code} on port {port}") from None
            process.terminate()
            raise ReviewError(
                "JupyterLab did not take the token `review lab` gave it: remove token settings "
                "(IdentityProvider.token, ServerApp.token, JUPYTER_TOKEN) from your Jupyter "
                "config and run again"
            ) from None
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                process.terminate()
                raise ReviewError(
                    f"JupyterLab did not answer on port {port} within {START_SECONDS:.0f} s"
                ) from None
            time.sleep(0.3)


def stop(process: Any) -> None:
    """Stop a JupyterLab started by `start` (and its kernels)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
