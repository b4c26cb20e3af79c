"""What the live Python suites share: ``slipway serve`` on a free port with a temporary data folder
(tests/support/slipway_server.py, also used by the TeachableHub and browser suites), and the checkout's SDK.

The binary is ``.build/debug/slipway`` (after ``swift build``) or ``$SLIPWAY_BINARY``. The SDK is imported from the
checkout's ``python/`` folder.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The SDK tests exercise the checkout's python/slipway, not whatever copy pip installed earlier.
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from slipway_server import BINARY, running_server, secret  # noqa: E402  (re-exported for the suites)

__all__ = ["BINARY", "ROOT", "running_server", "secret"]


@pytest.fixture(scope="session")
def start_slipway():
    """``running_server`` as a fixture: ``with start_slipway("prefix-") as (process, url, admin_token): …``."""
    return running_server
