"""The automatic deployment context: where and with what a model was deployed (no network calls)."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from typing import Any, Dict, Optional

LIBRARIES = ("numpy", "pandas", "sklearn", "skl2onnx", "onnx", "onnxruntime", "onnxmltools", "xgboost", "lightgbm")


def automatic() -> Dict[str, Any]:
    """Python and library versions, the git commit and branch of the working directory, and the hostname."""
    context: Dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "libraries": _libraries(),
        "sdk": "slipway-sdk 0.1.0",
    }
    git = _git()
    if git:
        context["git"] = git
    try:
        context["hostname"] = socket.gethostname()
    except OSError:
        pass
    return context


def _libraries() -> Dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        module = sys.modules.get(name)
        if module is None:
            continue  # only what the process already imported: importing here would be slow and surprising
        version = getattr(module, "__version__", None)
        if version:
            versions["scikit-learn" if name == "sklearn" else name] = str(version)
    return versions


def _git() -> Optional[Dict[str, Any]]:
    def run(*arguments: str) -> Optional[str]:
        try:
            result = subprocess.run(
                ["git", *arguments], capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if not commit:
        return None
    info: Dict[str, Any] = {"commit": commit}
    branch = run("rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch != "HEAD":
        info["branch"] = branch
    status = run("status", "--porcelain", "--untracked-files=no")
    if status is not None:
        info["dirty"] = bool(status)
    return info


def merge(base: Dict[str, Any], extra: Dict[str, Any]) -> Dict[str, Any]:
    """``extra`` over ``base``, nested dicts merged."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result
