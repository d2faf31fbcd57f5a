"""Tests that need a package index: skipped, visibly, when none answers; failed in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache

import pytest


def index_problem(env: dict[str, str] | None = None) -> str | None:
    """Why pip cannot reach a package index, or None when it can."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "pip", "--timeout=10", "--retries=1"],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode == 0:
        return None
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return errors[-1] if errors else f"pip exited with {result.returncode}"


@cache
def _problem_here() -> str | None:
    return index_problem()


def require_index() -> None:
    """Skip the calling test when no package index answers, but fail it in CI (CI=true)."""
    problem = _problem_here()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must reach a package index, and pip could not: {problem}")
    pytest.skip(f"no package index reachable: {problem}")
