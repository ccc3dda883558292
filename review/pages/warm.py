"""Warm kernels: a render worker runs many notebooks, through papermill, on one Jupyter kernel.

Starting a kernel and importing pandas, matplotlib and this package is most of what a
review costs. A worker process therefore starts one kernel (the batch's `python3` spec and
environment), imports those once, and hands the kernel to papermill for each notebook
through a small papermill engine (`review-warm`: papermill's nbclient engine given the
running kernel's manager and client). Before each notebook the kernel is made to look new:
user globals and In/Out are dropped (`%reset -f`), the execution count restarts at 1, the
working directory is the one papermill was given, figures are closed and matplotlib's and
pandas' settings go back to what they were after the imports. After a notebook that failed,
or a kernel that died, the next notebook gets a fresh kernel; an interrupt shuts it down.

Set REVIEW_WARM_KERNELS=0 to give every notebook its own kernel again (papermill's default).
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import Any

WARM_ENV = "REVIEW_WARM_KERNELS"
ENGINE_NAME = "review-warm"
# What every template imports: loaded once per kernel instead of once per notebook.
_PRELOAD = "import pandas, matplotlib, matplotlib.pyplot\nfrom review.pages import figures, reports"
_HISTORY = "--HistoryManager.hist_file=:memory:"  # as nbclient starts its kernels
_START_TIMEOUT = 60.0

_worker_kernel: WarmKernel | None = None


def enabled() -> bool:
    """Warm kernels unless REVIEW_WARM_KERNELS is 0, false, no or off."""
    return os.environ.get(WARM_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


# --------------------------------------------------------------------------- in the kernel

_baseline: dict[str, Any] = {}


def kernel_baseline() -> None:
    """In the kernel, after the imports: remember matplotlib's and pandas' settings."""
    import matplotlib
    import pandas as pd

    _baseline["rc"] = dict(matplotlib.rcParams)
    _baseline["pandas"] = {key: _pandas_option(pd, key) for key in _pandas_keys()}


def kernel_clean(cwd: str) -> None:
    """In the kernel, before a notebook: the state a new kernel would have after the imports."""
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas as pd
    from IPython import get_ipython

    shell = get_ipython()
    hook = shell.displayhook
    full, hook.do_full_cache = hook.do_full_cache, False  # its flush runs a full gc (0.2 s)
    try:
        shell.reset(new_session=False)  # what `%reset -f` does: user globals, In/Out, _, __
    finally:
        hook.do_full_cache = full
    shell.execution_count = 1
    os.chdir(cwd)
    plt.close("all")
    rc = {k: v for k, v in _baseline["rc"].items() if matplotlib.rcParams[k] != v}
    rc.pop("backend", None)
    matplotlib.rcParams.update(rc)
    for key, value in _baseline["pandas"].items():
        if _pandas_option(pd, key) != value:
            pd.set_option(key, value)


def _pandas_keys() -> list[str]:
    from pandas._config.config import _registered_options  # type: ignore[attr-defined]

    return sorted(_registered_options)


def _pandas_option(pd: Any, key: str) -> Any:
    import warnings

    with warnings.catch_warnings():  # deprecated options warn when read
        warnings.simplefilter("ignore")
        return pd.get_option(key)


# --------------------------------------------------------------------------- in the worker


class KernelDied(RuntimeError):
    """The warm kernel did not answer a request (it died or hung)."""


class WarmKernel:
    """One kernel kept running between notebooks, with one client connected to it."""

    def __init__(self, kernel_name: str) -> None:
        self.kernel_name = kernel_name
        self.km: Any = None
        self.kc: Any = None

    @property
    def pid(self) -> int | None:
        """The kernel's process id (None when no kernel runs)."""
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def start(self) -> None:
        """Start a kernel, connect, import what the templates import, record the baseline."""
        from nbclient.util import run_sync

        run_sync(self._start)()

    async def _start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        await self.km.start_kernel(extra_arguments=[_HISTORY])  # this process's environment
        self.kc = self.km.client()
        self.kc.allow_stdin = False
        self.kc.start_channels()
        try:
            await self.kc.wait_for_ready(timeout=_START_TIMEOUT)
            await self._run(
                f"{_PRELOAD}\nimport review.pages.warm\nreview.pages.warm.kernel_baseline()"
            )
        except BaseException:
            await self._shutdown(now=True)
            raise

    async def _run(self, code: str) -> None:
        """Execute code in the kernel (out of the history) and wait for its reply."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        while True:
            try:
                reply = await self.kc.get_shell_msg(timeout=_START_TIMEOUT)
            except Exception:  # queue.Empty: no answer in time
                raise KernelDied(
                    f"the kernel did not answer within {_START_TIMEOUT:.0f}s"
                ) from None
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelDied(f"{content.get('ename')}: {content.get('evalue')}")

    def clean(self, cwd: str) -> None:
        """Make the kernel look new to the next notebook (starting it if needed)."""
        from nbclient.util import run_sync

        if self.km is None or not run_sync(self.km.is_alive)():
            self.shutdown(now=True)
            self.start()
        code = f"import review.pages.warm\nreview.pages.warm.kernel_clean({cwd!r})"
        run_sync(self._run)(code)

    def shutdown(self, now: bool = False) -> None:
        from nbclient.util import run_sync

        run_sync(self._shutdown)(now)

    async def _shutdown(self, now: bool) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            km, self.km = self.km, None
            try:
                if await km.is_alive():
                    await km.shutdown_kernel(now=now)
            except RuntimeError:  # already gone
                pass
            finally:
                await km.cleanup_resources()

    def execute(self, **papermill_arguments: Any) -> None:
        """papermill.execute_notebook on this kernel.

        After a failure (a cell raised, the kernel died, an interrupt) the kernel is shut
        down: the next notebook starts a fresh one.
        """
        import papermill as pm

        register_engine()
        try:
            pm.execute_notebook(engine_name=ENGINE_NAME, warm=self, **papermill_arguments)
        except BaseException:
            with suppress(Exception):  # the notebook's error is the one to report
                self.shutdown(now=True)
            raise


def register_engine() -> None:
    """Register `review-warm` with papermill (papermill's own way of adding an engine)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class WarmEngine(NBClientEngine):  # type: ignore[misc]
        """papermill's nbclient engine, on the warm kernel it is handed (`warm=`)."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            warm: WarmKernel | None = None,
            **kwargs: Any,
        ) -> Any:
            assert warm is not None
            warm.clean(os.getcwd())  # papermill has moved to the notebook's `cwd`
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            client = PapermillNotebookClient(
                nb_man,
                km=warm.km,
                **merge_kwargs(
                    kwargs,
                    timeout=execution_timeout,
                    startup_timeout=start_timeout,
                    kernel_name=kernel_name,
                    log=_papermill_logger(),
                    log_output=log_output,
                    stdout_file=stdout_file,
                    stderr_file=stderr_file,
                ),
            )
            client.kc = warm.kc  # connected already: nbclient neither starts nor stops it
            return client.execute()

    papermill_engines.register(ENGINE_NAME, WarmEngine)


def _papermill_logger() -> Any:
    from papermill.log import logger

    return logger


def worker_kernel() -> WarmKernel | None:
    """This worker's warm kernel, if `start_worker` made one."""
    return _worker_kernel


def start_worker(kernel_name: str) -> None:
    """In a render worker: run its notebooks on one warm kernel, started at the first job.

    The kernel is shut down when the worker exits (multiprocessing's finalizers run then,
    atexit handlers do not) or is told to stop (SIGTERM)."""
    import signal
    from multiprocessing import util

    global _worker_kernel
    kernel = WarmKernel(kernel_name)
    _worker_kernel = kernel
    util.Finalize(kernel, kernel.shutdown, kwargs={"now": True}, exitpriority=10)

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through WarmKernel.execute: kernel shut down

    signal.signal(signal.SIGTERM, terminate)
