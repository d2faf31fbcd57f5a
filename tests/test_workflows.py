"""The GitHub Actions workflows: linted with actionlint, and their build steps run here."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def steps(workflow: str) -> dict[str, dict[str, Any]]:
    """The steps of a workflow's only job, by id."""
    data = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())
    (job,) = data["jobs"].values()
    return {step["id"]: step for step in job["steps"] if "id" in step}


def run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> None:
    """Run a step's script with bash, as the runner does (-e, pipefail)."""
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
    )


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A tagged scratch repository holding the bank, its lock, and deckgen as .venv/bin."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("questions.yaml", "questions.lock", "deckgen.schema.json"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "deckgen").symlink_to(BIN / "deckgen")
    git(repo, "init", "-q")
    git(repo, "add", "questions.yaml", "questions.lock", "deckgen.schema.json")
    env = {"GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z"}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "bank"],
        cwd=repo,
        check=True,
        env=os.environ | env,
    )
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def runner_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the release job, with a `gh` that has no previous release."""
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    gh = fake_bin / "gh"
    gh.write_text("#!/bin/sh\necho 'release not found' >&2\nexit 1\n")
    gh.chmod(0o755)
    return {
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "TAG": "v1.0.0",
        "GH_TOKEN": "unused",
    }


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(workflow: Path) -> None:
    """actionlint finds nothing wrong with the workflow."""
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", str(workflow)], capture_output=True, text=True
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_workflows_exist() -> None:
    """There is a CI workflow and a release workflow."""
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "release.yml"]


def test_release_needs_write_permission_only_in_its_job() -> None:
    """The workflow defaults to read-only; only the release job may write contents."""
    data = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())
    assert data["permissions"] == {"contents": "read"}
    assert data["jobs"]["release"]["permissions"] == {"contents": "write"}


def test_actions_are_pinned() -> None:
    """Every action is used at an exact version, never a moving branch."""
    for workflow in WORKFLOWS:
        data = yaml.safe_load(workflow.read_text())
        for job in data["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    version = step["uses"].split("@")[1]
                    assert version.count(".") == 2, step["uses"]


def test_release_steps_build_a_reproducible_deck(
    checkout: Path, runner_env: dict[str, str], tmp_path: Path
) -> None:
    """The release's build, checksum and notes steps work, and rebuild the same bytes."""
    release = steps("release.yml")
    for step_id in ("build", "checksum", "notes"):
        run_step(release[step_id], checkout, runner_env)
    (apkg,) = (checkout / "dist").glob("*.apkg")
    digest = hashlib.sha256(apkg.read_bytes()).hexdigest()
    assert (checkout / "dist" / "SHA256SUMS").read_text() == f"{digest}  {apkg.name}\n"
    notes = (checkout / "notes.md").read_text()
    assert notes.startswith("First release.\n\nFastAPI Interview Questions: 73 notes")

    again = tmp_path / "again"
    shutil.copytree(checkout, again, symlinks=True)
    shutil.rmtree(again / "dist")
    run_step(release["build"], again, runner_env)
    assert hashlib.sha256((again / "dist" / apkg.name).read_bytes()).hexdigest() == digest


def test_ci_steps_pass_on_the_bank(checkout: Path, runner_env: dict[str, str]) -> None:
    """CI's validate and locked-build steps pass on the committed bank and lock."""
    ci = steps("ci.yml")
    run_step(ci["validate"], checkout, runner_env)
    run_step(ci["build"], checkout, runner_env)
