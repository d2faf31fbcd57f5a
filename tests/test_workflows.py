"""deckgen's own workflows: linted with actionlint, and their use of the action run here."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from actionrunner import base_env, fake_gh, git, github_context, run_action
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
INSTALLED = {"install": {"bin": str(BIN)}, "python": {"python-path": sys.executable}}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def action_step(workflow: Path, uses: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job that calls the action ``uses``, and that step."""
    for job in load(workflow)["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").split("@")[0] == uses:
                return job, step
    raise AssertionError(f"{workflow.name} does not use {uses}")


def actionlint(*workflows: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """actionlint on ``workflows``; it also checks the inputs given to local actions."""
    return subprocess.run(
        [str(BIN / "actionlint"), "-no-color", *map(str, workflows)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def assert_pinned(workflow: Path) -> None:
    """Every action from another repository is used at an exact version, never a branch."""
    for job in load(workflow)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step and not step["uses"].startswith("./"):
                version = step["uses"].split("@")[1]
                assert version.count(".") == 2, step["uses"]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A scratch clone of deckgen's bank: the bank, its lock and schema, committed, tagged."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("questions.yaml", "questions.lock", "deckgen.schema.json"):
        shutil.copy(ROOT / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "bank")
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(workflow: Path) -> None:
    """actionlint finds nothing wrong with the workflow, nor with its use of the action."""
    result = actionlint(workflow)
    assert (result.returncode, result.stdout) == (0, "")


def test_workflows_exist() -> None:
    """There is a CI workflow and a release workflow."""
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "release.yml"]


def test_release_needs_write_permission_only_in_its_job() -> None:
    """The workflow defaults to read-only; only the release job may write contents."""
    data = load(ROOT / ".github/workflows/release.yml")
    assert data["permissions"] == {"contents": "read"}
    assert data["jobs"]["release"]["permissions"] == {"contents": "write"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned(workflow: Path) -> None:
    """Every action is used at an exact version, never a moving branch."""
    assert_pinned(workflow)


def test_ci_runs_the_test_suite() -> None:
    """CI keeps deckgen's own test job beside the deck job."""
    steps = load(ROOT / ".github/workflows/ci.yml")["jobs"]["test"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["make test"]


def test_ci_step_passes_on_the_bank(checkout: Path, tmp_path: Path) -> None:
    """CI's use of the action validates and builds the bank with the committed lock."""
    _, step = action_step(ROOT / ".github/workflows/ci.yml", "./")
    fake_bin, gh_env = fake_gh(tmp_path)
    result = run_action(
        ROOT,
        workspace=checkout,
        inputs=step["with"],
        github=github_context("refs/heads/main"),
        env=base_env(tmp_path, fake_bin) | gh_env,
        preset=INSTALLED,
    )
    assert result.ran == ["check", "validate", "build", "checksums"]
    assert (checkout / "dist/fastapi-interview-questions.apkg").is_file()


def test_release_step_publishes_a_reproducible_deck(checkout: Path, tmp_path: Path) -> None:
    """The release workflow's tag run publishes the package, its checksum and notes."""
    job, step = action_step(ROOT / ".github/workflows/release.yml", "./")
    assert job["steps"][0]["with"] == {"fetch-depth": 0}
    fake_bin, gh_env = fake_gh(tmp_path)

    def release(workspace: Path) -> str:
        run_action(
            ROOT,
            workspace=workspace,
            inputs=step["with"],
            github=github_context("refs/tags/v1.0.0"),
            env=base_env(tmp_path, fake_bin) | gh_env,
            preset=INSTALLED,
        )
        apkg = workspace / "dist/fastapi-interview-questions.apkg"
        return hashlib.sha256(apkg.read_bytes()).hexdigest()

    again = tmp_path / "again"
    shutil.copytree(checkout, again)
    digest = release(checkout)
    sums = (checkout / "dist/SHA256SUMS").read_text()
    assert sums == f"{digest}  fastapi-interview-questions.apkg\n"
    log = Path(gh_env["FAKE_GH_LOG"]).read_text()
    assert log.startswith("release create v1.0.0 dist/fastapi-interview-questions.apkg ")
    assert release(again) == digest
