"""The reusable GitHub Action (action.yml): its steps run here in scratch repositories."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from actionrunner import (
    ActionRun,
    StepFailed,
    base_env,
    evaluate,
    fake_gh,
    git,
    github_context,
    load_action,
    read_outputs,
    run_action,
)
from conftest import INVALID, ROOT, SMALL
from pipindex import require_index

BIN = Path(sys.executable).parent
ACTION = load_action(ROOT / "action.yml")
STEPS = ACTION["runs"]["steps"]
# deckgen is already installed here: the install step is replaced by this venv's bin.
INSTALLED = {"install": {"bin": str(BIN)}, "python": {"python-path": sys.executable}}

RunAction = Callable[..., ActionRun]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A scratch deck repository holding deckgen's bank and lock, committed and tagged v1.0.0."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("questions.yaml", "questions.lock", "deckgen.schema.json"):
        shutil.copy(ROOT / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "bank")
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def gh_log(tmp_path: Path) -> Path:
    """Where the fake `gh` writes each command line it was given."""
    return tmp_path / "gh.log"


@pytest.fixture
def run(tmp_path: Path, repo: Path) -> RunAction:
    """Run the action in ``repo`` for a push of ``ref``, with ``inputs``; gh is a fake."""
    fake_bin, gh_env = fake_gh(tmp_path)
    env = base_env(tmp_path, fake_bin) | gh_env

    def run_it(
        ref: str = "refs/heads/main",
        workspace: Path = repo,
        preset: dict[str, dict[str, str]] = INSTALLED,
        action_dir: Path = ROOT,
        **inputs: str,
    ) -> ActionRun:
        return run_action(
            action_dir,
            workspace=workspace,
            inputs={k.replace("_", "-"): v for k, v in inputs.items()},
            github=github_context(ref),
            env=env,
            preset=preset,
        )

    return run_it


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestMetadata:
    """action.yml itself."""

    def test_composite_with_bash_steps(self) -> None:
        """A composite action whose scripts all run with bash."""
        assert ACTION["runs"]["using"] == "composite"
        assert all(step.get("shell") == "bash" for step in STEPS if "run" in step)

    def test_expressions_only_in_env(self) -> None:
        """No `${{ }}` in a script: inputs reach scripts as variables, never as code."""
        assert [step["id"] for step in STEPS if "${{" in step.get("run", "")] == []

    def test_actions_pinned_to_versions(self) -> None:
        """Every action it calls is pinned to an exact version tag."""
        uses = [step["uses"] for step in STEPS if "uses" in step]
        names = [u.split("@")[0] for u in uses]
        assert names == ["actions/setup-python", "actions/upload-artifact"]
        assert all(u.split("@")[1].count(".") == 2 for u in uses), uses

    def test_inputs_and_outputs_are_described(self) -> None:
        """Every input and output says what it is; the packages are an output."""
        assert set(ACTION["inputs"]) == {
            *("sources", "python-version", "output-dir", "upload", "artifact-name", "release"),
            "token",
        }
        described = [*ACTION["inputs"].values(), *ACTION["outputs"].values()]
        assert all(spec["description"] for spec in described)
        assert ACTION["outputs"]["packages"]["value"] == "${{ steps.build.outputs.packages }}"


class TestExpressions:
    """The test runner's reading of GitHub expressions, which decides the steps that run."""

    CONTEXT: ClassVar = {
        "inputs": {"release": "true", "upload": "false"},
        "github": {"ref": "refs/tags/v1"},
    }

    @pytest.mark.parametrize(
        ("expression", "value"),
        [
            ("inputs.release == 'true'", True),
            ("inputs.upload == 'true'", False),
            ("inputs.release == 'TRUE' && startsWith(github.ref, 'refs/tags/')", True),
            ("!(inputs.upload == 'false') || contains(github.ref, 'heads')", False),
            ("inputs.missing", None),
            ("success()", True),
        ],
    )
    def test_evaluate(self, expression: str, value: object) -> None:
        """Comparisons ignore case, as GitHub's do; missing values are null."""
        assert evaluate(expression, self.CONTEXT) == value

    def test_outputs_file(self, tmp_path: Path) -> None:
        """GITHUB_OUTPUT's one-line and multi-line forms."""
        path = tmp_path / "out"
        path.write_text("a=1\nlist<<EOF\nx\ny=z\nEOF\nb=c=d\n")
        assert read_outputs(path) == {"a": "1", "list": "x\ny=z", "b": "c=d"}


class TestBuild:
    """A push to a branch: validate, build, checksums, upload; no release."""

    def test_branch_push(self, run: RunAction, repo: Path, gh_log: Path) -> None:
        """The package is built with the lock and uploaded with its checksum."""
        result = run()
        assert result.ran == ["check", "validate", "build", "checksums"]
        package = "dist/fastapi-interview-questions.apkg"
        assert result.outputs == {"packages": package, "checksums": "dist/SHA256SUMS"}
        sums = (repo / "dist/SHA256SUMS").read_text()
        assert sums == f"{digest(repo / package)}  fastapi-interview-questions.apkg\n"
        assert result.used["actions/setup-python"] == {
            "python-version": "3.12",
            "update-environment": "false",
        }
        assert result.used["actions/upload-artifact"] == {
            "name": "deck",
            "path": f"{package}\ndist/SHA256SUMS\n",
            "if-no-files-found": "error",
        }
        assert not gh_log.exists()
        assert git(repo, "status", "--porcelain") == "?? dist/\n"

    def test_commit_time_makes_the_build_reproducible(
        self, run: RunAction, repo: Path, tmp_path: Path
    ) -> None:
        """The same commit builds the same bytes in another folder, at another time."""
        run(upload="false")
        first = digest(repo / "dist/fastapi-interview-questions.apkg")
        again = tmp_path / "again"
        shutil.copytree(repo, again)
        shutil.rmtree(again / "dist")
        run(workspace=again, upload="false")
        assert digest(again / "dist/fastapi-interview-questions.apkg") == first

    def test_several_banks_from_a_glob(self, run: RunAction, repo: Path) -> None:
        """Each bank matched is built into the output folder; the checksums cover them all."""
        (repo / "decks").mkdir()
        shutil.copy(SMALL, repo / "decks/python.yaml")
        subprocess.run([BIN / "deckgen", "build", "decks/python.yaml"], cwd=repo, check=True)
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "second bank")
        result = run(sources="questions.yaml\n  decks/*.yaml", output_dir="out/")
        packages = ["out/fastapi-interview-questions.apkg", "out/interview-python-basics.apkg"]
        assert result.outputs["packages"].splitlines() == packages
        sums = (repo / "out/SHA256SUMS").read_text().splitlines()
        assert [line.split("  ")[1] for line in sums] == [p.split("/")[1] for p in packages]

    def test_folder_banks(self, run: RunAction, repo: Path) -> None:
        """A source may be a folder bank: it is validated, built with its deck.lock, and
        the same deck split into a folder builds the same package as its file."""
        subprocess.run(
            [BIN / "deckgen", "split", "questions.yaml", "decks/fastapi"], cwd=repo, check=True
        )
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "the bank in many files")
        result = run(sources="decks/*/", output_dir="folder/", upload="false")
        assert result.outputs["packages"] == "folder/fastapi-interview-questions.apkg"
        run(sources="questions.yaml", output_dir="file/", upload="false")
        package = "fastapi-interview-questions.apkg"
        assert digest(repo / "folder" / package) == digest(repo / "file" / package)

    def test_folder_bank_problems_become_annotations(self, run: RunAction, repo: Path) -> None:
        """A problem in a topic file of a folder bank is an annotation on that file's line."""
        shutil.copytree(ROOT / "tests/data/folders/invalid/nested-mistakes", repo / "bank")
        with pytest.raises(StepFailed) as failed:
            run(sources="bank")
        assert failed.value.step == "validate"
        assert "::error file=bank/basics.yaml,line=3,col=9," in failed.value.stdout

    def test_invalid_bank_becomes_annotations(self, run: RunAction, repo: Path) -> None:
        """A problem in the bank stops the run at validate, as an annotation on its line."""
        shutil.copy(INVALID / "duplicate-key.yaml", repo / "questions.yaml")
        with pytest.raises(StepFailed) as failed:
            run()
        assert failed.value.step == "validate"
        assert failed.value.stdout.startswith("::error file=questions.yaml,line=10,col=9,")
        assert not (repo / "dist").exists()

    def test_stale_lock_fails(self, run: RunAction, repo: Path) -> None:
        """A bank edited without its lock fails the locked build, and nothing is written."""
        text = (repo / "questions.yaml").read_text()
        (repo / "questions.yaml").write_text(
            text.replace("What sets FastAPI apart", "What makes FastAPI different")
        )
        with pytest.raises(StepFailed) as failed:
            run()
        assert failed.value.step == "build"
        assert "questions.lock" in failed.value.stderr
        assert not (repo / "dist/fastapi-interview-questions.apkg").exists()

    def test_two_banks_one_package(self, run: RunAction, repo: Path) -> None:
        """Two banks of the same deck name would overwrite each other's package: an error."""
        shutil.copy(repo / "questions.yaml", repo / "copy.yaml")
        shutil.copy(repo / "questions.lock", repo / "copy.lock")
        with pytest.raises(StepFailed) as failed:
            run(sources="questions.yaml copy.yaml")
        assert "two banks build the same package" in failed.value.stdout

    @pytest.mark.parametrize(
        ("inputs", "message"),
        [
            ({"sources": "missing.yaml"}, "no question bank matches 'missing.yaml'"),
            ({"sources": " \n"}, "sources is empty"),
            ({"upload": "yes"}, "upload must be true or false, not 'yes'"),
            ({"release": "true"}, "release: true publishes on a tag push"),
        ],
    )
    def test_bad_inputs(self, run: RunAction, inputs: dict[str, str], message: str) -> None:
        """Inputs that cannot work stop the run at its first step, with an error saying why."""
        with pytest.raises(StepFailed) as failed:
            run(**inputs)
        assert failed.value.step == "check"
        assert message in failed.value.stdout


class TestRelease:
    """A pushed tag with release: true."""

    def test_first_release(self, run: RunAction, repo: Path, gh_log: Path) -> None:
        """Package, checksums and notes go to `gh release create` for the tag."""
        result = run("refs/tags/v1.0.0", release="true")
        assert result.ran == ["check", "validate", "build", "checksums", "notes", "publish"]
        notes_file = result.steps["notes"]["file"]
        notes = Path(notes_file).read_text()
        assert notes.startswith("First release.\n\nFastAPI Interview Questions: 73 notes")
        assert gh_log.read_text().splitlines() == [
            "release create v1.0.0 dist/fastapi-interview-questions.apkg dist/SHA256SUMS "
            f"--verify-tag --title v1.0.0 --notes-file {notes_file}"
        ]

    def test_notes_against_the_previous_release(
        self, run: RunAction, repo: Path, tmp_path: Path, gh_log: Path
    ) -> None:
        """The next tag's notes are `deckgen diff` against the previous release's package."""
        run("refs/tags/v1.0.0", release="true")
        released = tmp_path / "releases" / "v1.0.0"
        released.mkdir()
        shutil.copy(repo / "dist/fastapi-interview-questions.apkg", released)

        text = (repo / "questions.yaml").read_text()
        (repo / "questions.yaml").write_text(
            text.replace("What sets FastAPI apart", "What makes FastAPI different")
        )
        subprocess.run([BIN / "deckgen", "build", "questions.yaml"], cwd=repo, check=True)
        git(repo, "commit", "-q", "-am", "reword", date="2026-02-03T04:05:06Z")
        git(repo, "tag", "v1.1.0")
        result = run("refs/tags/v1.1.0", release="true")
        notes = Path(result.steps["notes"]["file"]).read_text()
        assert notes.startswith("## FastAPI Interview Questions\n\n0 added, 1 changed,")
        assert "- `what-is-fastapi`: What makes FastAPI different" in notes
        assert (
            gh_log.read_text()
            .splitlines()[1]
            .startswith("release download v1.0.0 --pattern *.apkg --dir ")
        )


def test_install_step_installs_pinned_deckgen(run: RunAction, tmp_path: Path) -> None:
    """The install step builds deckgen from the action's checkout with the pinned libraries."""
    require_index()
    checkout = tmp_path / "action"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(".venv", ".*_cache", "dist"))
    result = run(action_dir=checkout, preset={"python": INSTALLED["python"]}, upload="false")
    assert "deckgen, version" in result.logs["install"]
    venv_python = tmp_path / "runner-temp" / "deckgen-venv" / "bin" / "python"
    pins = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    )
    check = "import pygments, yaml; print(pygments.__version__, yaml.__version__)"
    versions = subprocess.run(
        [venv_python, "-c", check], capture_output=True, text=True, check=True
    ).stdout.split()
    assert versions == [pins["Pygments"], pins["PyYAML"]]
    assert result.outputs["packages"] == "dist/fastapi-interview-questions.apkg"
