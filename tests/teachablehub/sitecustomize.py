"""Lets TeachableHub's SDK import on Python 3.10+, unchanged.

The SDK pins ``uplink==0.9.3``, written for Python 3.9 and older: it reads ABCs such as ``collections.Mapping``
(moved to ``collections.abc`` and removed from ``collections`` in 3.10) and decorates with ``asyncio.coroutine``
(removed in 3.11). Python imports ``sitecustomize`` at start-up, so this file in the virtual environment's
site-packages (``setup-venv.sh`` puts it there) restores both names before uplink is imported. It changes nothing
else and is harmless for other packages.
"""

import asyncio
import collections
import collections.abc
import types

for _name in collections.abc.__all__:
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

if not hasattr(asyncio, "coroutine"):
    asyncio.coroutine = types.coroutine
