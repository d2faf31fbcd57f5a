"""The pre-commit hook, run for real through `pre-commit try-repo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import INVALID, ROOT, SMALL


def test_hook_is_declared() -> None:
    """The repository declares a deckgen-validate hook for YAML files."""
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["entry"], hook["files"]) == (
        "deckgen-validate",
        "deckgen validate",
        r"\.ya?ml$",
    )


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="try-repo needs deckgen's git repository")
def test_try_repo(tmp_path: Path) -> None:
    """pre-commit installs deckgen from this repository and runs the hook on banks."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(SMALL, project / "good.yaml")
    shutil.copy(INVALID / "duplicate-key.yaml", project / "bad.yaml")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "deckgen-validate"]

    good = subprocess.run(
        [*command, "--files", "good.yaml"], cwd=project, env=env, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "deckgen validate" in good.stdout

    bad = subprocess.run(
        [*command, "--files", "bad.yaml"], cwd=project, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "bad.yaml:10:9: duplicate key 'answer' (first on line 9)" in bad.stdout
