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

from deckgen.hook import is_bank

WORKFLOW = """\
name: CI
on: [push]
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - run: echo hello
"""
COMPOSE = """\
services:
  web:
    image: nginx
    # deck: not a key of the root
"""
PRE_COMMIT_CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: nothing
        name: nothing
        entry: "true"
        language: system
"""


def test_hook_is_declared() -> None:
    """The repository declares a deckgen-validate hook that looks at YAML files."""
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["entry"], hook["files"]) == (
        "deckgen-validate",
        "python -m deckgen.hook",
        r"\.ya?ml$",
    )


@pytest.mark.parametrize(
    ("text", "bank"),
    [
        ("deck:\n  name: x\n", True),
        ("topics: []\n", True),  # no deck key: still a bank, and validate says what is missing
        ("\ufeff# comment\ndeck :\n", True),
        ("---\n'topics': []\n", True),
        (WORKFLOW, False),
        (COMPOSE, False),
        (PRE_COMMIT_CONFIG, False),
        ("x: |\n  deck: inside a block\n", False),
        ("decks: []\n", False),
    ],
)
def test_banks_are_told_by_content(tmp_path: Path, text: str, bank: bool) -> None:
    """A root key `deck` or `topics` makes a bank; other YAML is not one."""
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    assert is_bank(path) is bank


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


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="try-repo needs deckgen's git repository")
def test_hook_checks_only_banks(tmp_path: Path) -> None:
    """In a repository with other YAML files, the hook validates the banks and nothing else."""
    project = tmp_path / "project"
    files = {
        ".github/workflows/ci.yml": WORKFLOW,
        ".pre-commit-config.yaml": PRE_COMMIT_CONFIG,
        "docker-compose.yml": COMPOSE,
        "decks/python.yaml": SMALL.read_text(),
    }
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "deckgen-validate"]
    command += ["--all-files", "--verbose"]

    good = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    checked = [line for line in good.stdout.splitlines() if ": valid, " in line]
    assert checked == ["decks/python.yaml: valid, 3 questions in 2 topics"]

    # A broken bank under another name is found and reported, still alone.
    (project / "decks/python.yaml").unlink()
    shutil.copy(INVALID / "duplicate-key.yaml", project / "decks/rust.yml")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    bad = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    reported = [line for line in bad.stdout.splitlines() if line.startswith(("decks/", "."))]
    assert reported == ["decks/rust.yml:10:9: duplicate key 'answer' (first on line 9)"]
