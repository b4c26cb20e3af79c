"""Starting ``slipway serve`` for the live test suites (tests/python, tests/teachablehub, tests/browser).

The binary is ``.build/debug/slipway`` (after ``swift build``) or ``$SLIPWAY_BINARY``. Plain standard library plus
pytest, so that every suite's virtual environment can import it (add this folder to ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets as _secrets
import string
import subprocess
import tempfile
import threading
import time
from typing import Dict, Iterator, Optional, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("SLIPWAY_BINARY", ROOT / ".build" / "debug" / "slipway"))
ALPHABET = string.ascii_letters + string.digits


def secret(length: int) -> str:
    """A random string of letters and digits."""
    return "".join(_secrets.choice(ALPHABET) for _ in range(length))


@contextlib.contextmanager
def running_server(
    prefix: str,
    extra_environment: Optional[Dict[str, str]] = None,
    data_dir: Optional[str] = None,
    admin_token: Optional[str] = None,
) -> Iterator[Tuple[subprocess.Popen, str, str]]:
    """Starts ``slipway serve --port 0`` with a fresh data folder (or ``data_dir``, to restart on the same data), a
    known administrator token and ``extra_environment`` (``SLIPWAY_*`` settings); yields
    ``(process, url, admin_token)`` and stops the server gracefully afterwards."""
    if not BINARY.exists():
        pytest.fail(f"{BINARY} does not exist: run `swift build` first (or set SLIPWAY_BINARY)")
    admin_token = admin_token or f"slw_u_{secret(12)}_{secret(32)}"
    with contextlib.ExitStack() as stack:
        data = data_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
        environment = dict(os.environ, SLIPWAY_ADMIN_TOKEN=admin_token, SLIPWAY_LOG_LEVEL="warning")
        environment.update(extra_environment or {})
        process = subprocess.Popen(
            [str(BINARY), "serve", "--port", "0", "--data-dir", data],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = None
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if "ready on http://" in line:
                url = line.split("ready on ")[1].split()[0]
                break
        if url is None:
            process.kill()
            pytest.fail(f"slipway serve did not start: {process.stderr.read() if process.stderr else ''}")
        # Keep draining the pipes so the server never blocks on a full pipe.
        for stream in (process.stdout, process.stderr):
            threading.Thread(target=stream.read, daemon=True).start()
        try:
            yield process, url, admin_token
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
