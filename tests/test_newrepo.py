"""`deckgen new`: the repository it writes, pushed through its hook, workflows and action."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from actionrunner import base_env, fake_gh, git, github_context, run_action
from click.testing import CliRunner
from conftest import ROOT, ImportPackage
from test_workflows import action_step, actionlint, assert_pinned

from deckgen import REPOSITORY
from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.cli import main
from deckgen.newrepo import TEMPLATES, target_files

BIN = Path(sys.executable).parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
ACTION = f"{REPOSITORY.removeprefix('https://github.com/')}@v{VERSION}"
INSTALLED = {"install": {"bin": str(BIN)}, "python": {"python-path": sys.executable}}
FILES = [
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "README.md",
    "deckgen.schema.json",
    "questions.lock",
    "questions.yaml",
]


def new(*args: str) -> tuple[int, str]:
    """Run `deckgen new` with ``args``; return its exit code and all it printed."""
    result = CliRunner().invoke(main, ["new", *args], prog_name="deckgen")
    return result.exit_code, result.output


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def deck_repo(tmp_path: Path) -> Path:
    """A repository made by `deckgen new`, committed on main."""
    root = tmp_path / "python-deck"
    code, output = new(str(root), "--name", "Python Interview Questions")
    assert code == 0, output
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "deckgen new")
    return root


class TestFiles:
    """What `deckgen new` writes."""

    def test_every_file(self, tmp_path: Path) -> None:
        """The bank, its lock, the schema, README, .gitignore, hook config and workflows."""
        code, output = new(str(tmp_path / "python-deck"))
        assert code == 0
        assert output.startswith(f"Created {tmp_path / 'python-deck'}: Python Deck, 8 files\n")
        assert files_under(tmp_path / "python-deck") == FILES
        assert sorted(target_files()) == FILES

    def test_the_bank_builds_with_its_lock(self, tmp_path: Path) -> None:
        """The lock was built from the bank: a locked build passes and changes nothing."""
        root = tmp_path / "deck"
        new(str(root))
        lock = (root / "questions.lock").read_text()
        result = build(root / "questions.yaml", output=tmp_path / "deck.apkg", locked=True, now=1)
        assert (result.deck.name, result.deck.question_count, result.lock_written) == (
            "Deck",
            5,
            False,
        )
        assert (root / "questions.lock").read_text() == lock

    def test_fresh_deck_ids(self, tmp_path: Path) -> None:
        """Each new repository draws its own deck id."""
        ids = set()
        for name in ("one", "two"):
            new(str(tmp_path / name))
            ids.add(load_deck(tmp_path / name / "questions.yaml").id)
        assert len(ids) == 2

    @pytest.mark.parametrize(
        ("folder", "name", "expected"),
        [
            ("rust_cards", None, "Rust Cards"),
            ("deck", "C++: Tips & Tricks", "C++: Tips & Tricks"),
            ("deck", "yes", "yes"),
        ],
    )
    def test_deck_name(self, tmp_path: Path, folder: str, name: str | None, expected: str) -> None:
        """--name is the deck's name, quoted in YAML when it must be; else from the folder."""
        new(str(tmp_path / folder), *(["--name", name] if name else []))
        assert load_deck(tmp_path / folder / "questions.yaml").name == expected
        assert (tmp_path / folder / "README.md").read_text().startswith(f"# {expected}\n")

    def test_readme_for_the_decks_users(self, deck_repo: Path) -> None:
        """The README says how to import and update the deck, and how releases are made."""
        readme = (deck_repo / "README.md").read_text()
        assert readme.startswith("# Python Interview Questions\n")
        for text in (
            "`python-interview-questions.apkg` from the latest release",
            "File → Import",
            "AnkiDroid",
            "## Update to a new release",
            "tag:python-interview-questions::retired",
            f"pipx install git+{REPOSITORY}@v{VERSION}",
            "git tag v1.0.0 && git push origin v1.0.0",
        ):
            assert text in readme
        assert re.search(r"@[A-Z_]+@", readme) is None

    def test_hook_and_action_at_this_version(self, deck_repo: Path) -> None:
        """The hook and the action come from deckgen's repository at this version's tag."""
        config = yaml.safe_load((deck_repo / ".pre-commit-config.yaml").read_text())
        assert config == {
            "repos": [
                {"repo": REPOSITORY, "rev": f"v{VERSION}", "hooks": [{"id": "deckgen-validate"}]}
            ]
        }
        for workflow in ("ci.yml", "release.yml"):
            _, step = action_step(deck_repo / ".github/workflows" / workflow, ACTION.split("@")[0])
            assert step["uses"] == ACTION

    def test_gitignore_keeps_build_output_out(self, deck_repo: Path) -> None:
        """After a build, git sees nothing new: packages are release files, not sources."""
        subprocess.run([BIN / "deckgen", "build", "questions.yaml"], cwd=deck_repo, check=True)
        assert (deck_repo / "dist/python-interview-questions.apkg").is_file()
        assert git(deck_repo, "status", "--porcelain") == ""


class TestRefusal:
    """`deckgen new` never overwrites anything."""

    @pytest.mark.parametrize("existing", ["README.md", ".github/workflows/ci.yml"])
    def test_an_existing_file_stops_everything(self, tmp_path: Path, existing: str) -> None:
        """One existing target: exit 1, it is named, and nothing at all is written."""
        root = tmp_path / "deck"
        (root / existing).parent.mkdir(parents=True)
        (root / existing).write_text("mine\n")
        code, output = new(str(root))
        assert code == 1
        assert output == (
            f"Error: {root} already has {existing}; nothing was written "
            "(deckgen new never overwrites a file)\n"
        )
        assert files_under(root) == [existing]
        assert (root / existing).read_text() == "mine\n"

    def test_other_files_may_be_there(self, tmp_path: Path) -> None:
        """An existing clone (a .git folder, a LICENSE) is fine, and left as it was."""
        root = tmp_path / "deck"
        git(tmp_path, "init", "-q", "deck")
        (root / "LICENSE").write_text("mine\n")
        assert new(str(root))[0] == 0
        assert (root / "LICENSE").read_text() == "mine\n"

    def test_an_unusable_name_writes_nothing(self, tmp_path: Path) -> None:
        """A deck name Anki would change is a located problem, and nothing is written."""
        code, output = new(str(tmp_path / "deck"), "--name", "Bad :: Name")
        assert code == 1
        assert f"{tmp_path / 'deck' / 'questions.yaml'}:5:9: deck name 'Bad :: Name'" in output
        assert output.endswith("Error: 1 problem found; nothing was written\n")
        assert not (tmp_path / "deck").exists()

    def test_a_file_in_the_way(self, tmp_path: Path) -> None:
        """DIRECTORY naming a file is a usage error."""
        (tmp_path / "deck").write_text("")
        assert new(str(tmp_path / "deck"))[0] == 2


class TestPushed:
    """The new repository, committed: its workflows, its hook and the action's steps."""

    @pytest.mark.parametrize("workflow", ["ci.yml", "release.yml"])
    def test_workflows_pass_actionlint(self, deck_repo: Path, workflow: str) -> None:
        """actionlint finds nothing wrong; every action is pinned to a version."""
        path = deck_repo / ".github/workflows" / workflow
        result = actionlint(path, cwd=deck_repo)
        assert (result.returncode, result.stdout) == (0, "")
        assert_pinned(path)

    def test_pre_commit_config_is_valid(self, deck_repo: Path) -> None:
        """pre-commit accepts the config as it is."""
        result = subprocess.run(
            [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
            cwd=deck_repo,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.skipif(not (ROOT / ".git").exists(), reason="try-repo needs deckgen's git repo")
    def test_hook_passes_on_the_bank_alone(self, deck_repo: Path, tmp_path: Path) -> None:
        """deckgen's hook (from this checkout) validates the bank and no other YAML file."""
        env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "deckgen-validate"),
                *("--all-files", "--verbose"),
            ],
            cwd=deck_repo,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        checked = [line for line in result.stdout.splitlines() if ": valid, " in line]
        assert checked == ["questions.yaml: valid, 5 questions in 2 topics"]

    def test_ci_and_release_through_the_action(
        self, deck_repo: Path, tmp_path: Path, import_package: ImportPackage
    ) -> None:
        """The workflows' action steps build the deck, and a tag releases it with checksums."""
        fake_bin, gh_env = fake_gh(tmp_path)
        env = base_env(tmp_path, fake_bin) | gh_env

        def run(workflow: str, ref: str) -> dict[str, str]:
            _, step = action_step(deck_repo / ".github/workflows" / workflow, ACTION.split("@")[0])
            return run_action(
                ROOT,
                workspace=deck_repo,
                inputs=step["with"],
                github=github_context(ref),
                env=env,
                preset=INSTALLED,
            ).outputs

        assert run("ci.yml", "refs/heads/main")["packages"] == (
            "dist/python-interview-questions.apkg"
        )
        git(deck_repo, "tag", "v1.0.0")
        outputs = run("release.yml", "refs/tags/v1.0.0")
        package = deck_repo / outputs["packages"]
        sums = (deck_repo / outputs["checksums"]).read_text()
        assert sums.endswith("  python-interview-questions.apkg\n")
        check = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=package.parent, capture_output=True, text=True
        )
        assert check.stdout == "python-interview-questions.apkg: OK\n"
        published = Path(gh_env["FAKE_GH_LOG"]).read_text()
        assert published.startswith(
            "release create v1.0.0 dist/python-interview-questions.apkg dist/SHA256SUMS "
        )
        assert len(import_package(package).new) == 5  # Anki takes the released package
        assert set(TEMPLATES) <= set(files_under(deck_repo))
