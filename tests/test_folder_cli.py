"""Folder banks through the command line: validate, build, stats, diff, schema, init, new,
split and join, and the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import DATA, ROOT

from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.cli import main
from deckgen.folder import topic_path_problem
from deckgen.hook import banks_among, folder_bank
from deckgen.model import DECK_FILE
from deckgen.schema import SCHEMA_FILES, json_schema

FOLDERS = DATA / "folders"
VALID = FOLDERS / "valid"
NESTED = FOLDERS / "invalid" / "nested-mistakes"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    """A copy of the valid folder bank, so that builds can write its lock."""
    return Path(shutil.copytree(VALID, tmp_path / "bank"))


def run(runner: CliRunner, *args: str | Path) -> Any:
    return runner.invoke(main, [str(a) for a in args], prog_name="deckgen")


class TestValidate:
    def test_valid_folder(self, runner: CliRunner) -> None:
        """A folder bank gets one summary line, named as given."""
        result = run(runner, "validate", VALID)
        assert (result.exit_code, result.stdout) == (
            0,
            f"{VALID}: valid, 5 questions in 3 topics\n",
        )

    def test_problems_name_their_files(self, runner: CliRunner) -> None:
        """Each problem is at its own file; the count covers the whole bank."""
        result = run(runner, "validate", NESTED)
        expected = NESTED.with_suffix(".expected").read_text().splitlines()
        lines = result.stderr.splitlines()
        assert result.exit_code == 1
        assert lines[:-1] == [line.replace("nested-mistakes/", f"{NESTED}/") for line in expected]
        assert lines[-1] == f"Error: {len(expected)} problems found"

    def test_json_and_github(self, runner: CliRunner) -> None:
        """Tools get the file of every problem: JSON 'file', GitHub 'file=' annotations."""
        result = run(runner, "validate", "--format", "json", NESTED, VALID)
        problems = json.loads(result.stdout)
        assert result.exit_code == 1
        assert {p["file"] for p in problems} >= {
            f"{NESTED}/basics.yaml",
            f"{NESTED}/advanced/routing.yaml",
        }
        duplicate = next(p for p in problems if p["code"] == "DG201")
        assert (duplicate["file"], duplicate["line"], duplicate["column"]) == (
            f"{NESTED}/basics.yaml",
            3,
            9,
        )
        github = run(runner, "validate", "--format", "github", NESTED)
        assert f"::error file={NESTED}/advanced/deep/broken.yaml,line=5,col=11," in github.stdout

    def test_a_folder_without_deck_yaml(self, runner: CliRunner, tmp_path: Path) -> None:
        """A folder that is not a bank is a usage error (exit 2) that says what is missing."""
        result = run(runner, "validate", tmp_path)
        assert result.exit_code == 2
        assert result.stderr.endswith(
            f"Error: Invalid value for 'SOURCES...': '{tmp_path}' is a directory without "
            "deck.yaml: a bank is a YAML file, or a folder with deck.yaml and one topic per "
            "other .yaml file\n"
        )


class TestBuild:
    def test_lock_inside_the_folder(self, runner: CliRunner, bank: Path, tmp_path: Path) -> None:
        """The lock is deck.lock in the folder; a locked build then passes."""
        out = tmp_path / "deck.apkg"
        result = run(runner, "build", bank, "-o", out)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[1] == f"Updated {bank / 'deck.lock'}: 5 added"
        lock = (bank / "deck.lock").read_text()
        assert lock.startswith("# Lock file for this folder's bank, written by `deckgen build`.")
        assert run(runner, "build", "--locked", bank, "-o", out).exit_code == 0

    def test_locked_names_the_folder_lock(
        self, runner: CliRunner, bank: Path, tmp_path: Path
    ) -> None:
        """A change in a nested topic file makes the locked build fail, naming deck.lock."""
        run(runner, "build", bank, "-o", tmp_path / "deck.apkg")
        routing = bank / "advanced" / "routing.yaml"
        routing.write_text(routing.read_text().replace("Route\n", "A route\n"))
        result = run(runner, "build", "--locked", bank, "-o", tmp_path / "deck.apkg")
        assert result.exit_code == 1
        assert f"{bank / 'deck.lock'} is out of date (changed: route-term)" in result.stderr

    def test_output_over_a_topic_file(self, runner: CliRunner, bank: Path) -> None:
        """The package may not replace one of the bank's files: a usage error."""
        result = run(runner, "build", bank, "-o", bank / "basics.yaml")
        assert result.exit_code == 2
        assert "the output and the source basics.yaml are the same file" in result.stderr
        assert (bank / "basics.yaml").read_text().startswith("# yaml-language-server")

    def test_nothing_written_on_problems(self, runner: CliRunner, tmp_path: Path) -> None:
        """An invalid folder writes neither package nor lock."""
        bad = Path(shutil.copytree(NESTED, tmp_path / "bad"))
        result = run(runner, "build", bad, "-o", tmp_path / "x.apkg")
        assert result.exit_code == 1
        assert result.stderr.endswith("Error: 10 problems found; nothing was written\n")
        assert not (bad / "deck.lock").exists()
        assert not (tmp_path / "x.apkg").exists()


class TestStatsAndDiff:
    def test_stats(self, runner: CliRunner) -> None:
        """stats counts the whole folder."""
        counts = json.loads(run(runner, "stats", "--json", VALID).stdout)
        assert (counts["notes"], counts["cards"], counts["media"]["sounds"]) == (5, 7, 1)
        assert [t["name"] for t in counts["topics"]] == ["Routing", "Basics", "Clozes"]

    def test_diff_either_side(self, runner: CliRunner, bank: Path, tmp_path: Path) -> None:
        """A folder compares with its own package as no change, on either side, and an edit
        in one topic file shows as that note changed."""
        package = build(bank, output=tmp_path / "deck.apkg", now=1_700_000_000).path
        for old, new in ((package, bank), (bank, package)):
            result = run(runner, "diff", old, new)
            assert result.exit_code == 0, result.output
            assert "0 added, 0 changed, 0 retired, 0 removed." in result.stdout
        basics = bank / "basics.yaml"
        basics.write_text(basics.read_text().replace("separate files", "files of their own"))
        result = run(runner, "diff", package, bank)
        assert "0 added, 1 changed, 0 retired, 0 removed." in result.stdout
        assert "- `what-is-a-folder-bank`: What is a folder bank?" in result.stdout


class TestSchema:
    @pytest.mark.parametrize("kind", ["bank", "deck", "topic"])
    def test_committed_schemas_are_current(self, runner: CliRunner, kind: str) -> None:
        """Each committed schema file is what `deckgen schema --for` prints today."""
        printed = json.loads(run(runner, "schema", "--for", kind).stdout)
        committed = json.loads((ROOT / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))
        assert printed == committed == json_schema(kind)
        jsonschema.Draft202012Validator.check_schema(committed)

    def test_folder_files_pass_their_schemas(self) -> None:
        """deck.yaml passes the deck schema and every topic file the topic schema; each
        names its schema on its first line (for editors)."""
        deck = jsonschema.Draft202012Validator(json_schema("deck"))
        topic = jsonschema.Draft202012Validator(json_schema("topic"))
        for path in load_deck(VALID).sources:
            validator = deck if path.name == "deck.yaml" else topic
            validator.validate(yaml.safe_load(path.read_text()))
        first = (VALID / "advanced" / "routing.yaml").read_text().splitlines()[0]
        schema = first.split("$schema=")[1]
        assert (VALID / "advanced" / schema).resolve() == ROOT / SCHEMA_FILES["topic"]

    @pytest.mark.parametrize(
        ("kind", "document"),
        [
            ("deck", {"deck": {"name": "D", "id": 12345}, "topics": []}),
            ("deck", {"deck": {"name": "D", "id": 12345}, "topics": ["a.yaml", "a.yaml"]}),
            ("deck", {"deck": {"name": "D", "id": 12345}, "questions": []}),
            ("deck", {"topics": ["a.yaml"]}),
            ("topic", {"name": "T"}),
            ("topic", {"name": "T", "questions": [{"id": "a", "question": "Q?"}]}),
            ("topic", {"deck": {"name": "D", "id": 12345}, "name": "T", "questions": []}),
        ],
    )
    def test_shapes_they_reject(self, kind: str, document: dict[str, Any]) -> None:
        """Missing, unknown or repeated entries fail the schema, as they fail validation."""
        assert not jsonschema.Draft202012Validator(json_schema(kind)).is_valid(document)

    @pytest.mark.parametrize(
        "value",
        [
            "a.yaml",
            "a/b.yaml",
            "./a.yaml",
            "a//b.yaml",
            "/a.yaml",
            "a/../b.yaml",
            ".g/a.yaml",
            "a.yml",
            "deck.yaml",
            "sub/deck.yaml",
            "a\\b.yaml",
            "a b.yaml",
        ],
    )
    def test_topic_path_pattern_agrees_with_the_validator(self, value: str) -> None:
        """The schema's pattern for topic files accepts exactly what the validator does."""
        pattern = DECK_FILE[1].pattern
        assert pattern is not None
        assert (re.search(pattern, value) is not None) == (topic_path_problem(value) is None)


class TestInitAndNew:
    def test_init_folder(self, runner: CliRunner, tmp_path: Path) -> None:
        """`deckgen init --folder` writes a starter bank in many files that builds."""
        path = tmp_path / "python"
        result = run(runner, "init", "--folder", path)
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in path.iterdir()) == [
            "deck.yaml",
            "deckgen-deck.schema.json",
            "deckgen-topic.schema.json",
            "http.yaml",
            "python-basics.yaml",
        ]
        deck = build(path, output=tmp_path / "x.apkg", now=1_700_000_000).deck
        assert [t.name for t in deck.topics] == ["Python Basics", "HTTP"]
        assert (path / "deck.lock").exists()

    def test_init_folder_default_and_refusal(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The folder defaults to questions/; a second run overwrites nothing."""
        monkeypatch.chdir(tmp_path)
        assert run(runner, "init", "--folder").exit_code == 0
        before = {p: p.read_bytes() for p in Path("questions").iterdir()}
        again = run(runner, "init", "--folder")
        assert (again.exit_code, again.stderr) == (
            1,
            f"Error: {Path('questions') / 'deck.yaml'} already exists; nothing was written\n",
        )
        assert {p: p.read_bytes() for p in Path("questions").iterdir()} == before

    def test_init_a_folder_without_the_option(self, runner: CliRunner, tmp_path: Path) -> None:
        """A folder given as PATH without --folder is a usage error."""
        result = run(runner, "init", tmp_path)
        assert result.exit_code == 2
        assert "did you mean --folder?" in result.stderr

    def test_new_folder(self, runner: CliRunner, tmp_path: Path) -> None:
        """`deckgen new --folder` keeps the bank in questions/, with its lock, and the
        templates name the folder."""
        root = tmp_path / "deck"
        result = run(runner, "new", "--folder", root, "--name", "Folder Deck")
        assert result.exit_code == 0, result.output
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        assert files == [
            ".github/workflows/ci.yml",
            ".github/workflows/release.yml",
            ".gitignore",
            ".pre-commit-config.yaml",
            "README.md",
            "questions/deck.lock",
            "questions/deck.yaml",
            "questions/deckgen-deck.schema.json",
            "questions/deckgen-topic.schema.json",
            "questions/http.yaml",
            "questions/python-basics.yaml",
        ]
        built = build(root / "questions", output=tmp_path / "x.apkg", locked=True, now=1)
        assert (built.deck.name, built.lock_written) == ("Folder Deck", False)
        for workflow in ("ci.yml", "release.yml"):
            text = (root / ".github/workflows" / workflow).read_text()
            assert "sources: questions\n" in text
        readme = (root / "README.md").read_text()
        assert "The questions live in [`questions/`](questions)" in readme
        assert "$ deckgen validate questions     # every problem" in readme
        assert "$ git add questions && git commit" in readme
        assert re.search(r"@[A-Z_]+@", readme) is None


class TestSplitAndJoin:
    def test_split_then_join(self, runner: CliRunner, tmp_path: Path) -> None:
        """The commands say what they wrote; the round trip gives the bank back."""
        shutil.copy(ROOT / "questions.yaml", tmp_path / "questions.yaml")
        shutil.copy(ROOT / "questions.lock", tmp_path / "questions.lock")
        result = run(runner, "split", tmp_path / "questions.yaml", tmp_path / "bank")
        assert (result.exit_code, result.stdout) == (
            0,
            f"Wrote {tmp_path / 'bank'}: 9 topic files and deck.yaml\n"
            f"Wrote {tmp_path / 'bank' / 'deck.lock'}: every note keeps its modification time\n",
        )
        result = run(runner, "join", tmp_path / "bank", tmp_path / "out" / "all.yaml")
        assert result.stdout == (
            f"Wrote {tmp_path / 'out' / 'all.yaml'}: 9 topics\n"
            f"Wrote {tmp_path / 'out' / 'all.lock'}: every note keeps its modification time\n"
        )
        assert (tmp_path / "out" / "all.yaml").read_text() == (ROOT / "questions.yaml").read_text()

    def test_refusal_is_an_error(self, runner: CliRunner, tmp_path: Path) -> None:
        """A folder in the way: exit 1 with the reason."""
        (tmp_path / "bank").mkdir()
        (tmp_path / "bank" / "x").write_text("")
        result = run(runner, "split", ROOT / "questions.yaml", tmp_path / "bank")
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: {tmp_path / 'bank'} exists and is not an empty folder; nothing was written\n",
        )

    @pytest.mark.parametrize("command", ["split", "join"])
    def test_help_with_example(self, runner: CliRunner, command: str) -> None:
        """Both commands document themselves with an example."""
        result = run(runner, command, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.stdout


class TestHook:
    def test_a_change_anywhere_validates_the_folder(self, tmp_path: Path) -> None:
        """deck.yaml, a nested topic file or another YAML file of a folder bank all mean the
        folder, once; dot-folders in it and YAML outside it do not."""
        bank = Path(shutil.copytree(VALID, tmp_path / "bank"))
        (tmp_path / "other.yaml").write_text("services: {}\n")
        files = [
            f"{bank}/advanced/routing.yaml",
            f"{bank}/deck.yaml",
            f"{bank}/notes.yml",
            f"{bank}/.github/workflows/ci.yaml",
            f"{tmp_path}/other.yaml",
        ]
        assert banks_among(files) == [str(bank)]

    def test_a_bank_file_named_deck_yaml(self, tmp_path: Path) -> None:
        """A deck.yaml with its topics written in it is a bank in one file, checked alone."""
        shutil.copy(DATA / "valid" / "small.yaml", tmp_path / "deck.yaml")
        (tmp_path / "notes.yaml").write_text("name: not a topic\n")
        assert folder_bank(tmp_path / "deck.yaml") is None
        assert banks_among([str(tmp_path / "deck.yaml"), str(tmp_path / "notes.yaml")]) == [
            str(tmp_path / "deck.yaml")
        ]

    @pytest.mark.parametrize(
        "deck",
        [
            "deck: {name: D, id: 2059400350}\n",
            "deck: {name: D, id: 2059400350}\ntopics: [a.yaml]\n",
            "topics:\n  - a.yaml\n",
            "deck: [unclosed\n",
        ],
    )
    def test_deck_files(self, tmp_path: Path, deck: str) -> None:
        """deck.yaml with no topics, topic files listed, or broken, makes a folder bank."""
        (tmp_path / "deck.yaml").write_text(deck)
        (tmp_path / "a.yaml").write_text("name: A\n")
        assert folder_bank(tmp_path / "a.yaml") == tmp_path

    def test_topic_file_outside_a_folder_bank(self, tmp_path: Path) -> None:
        """A topic file with no deck.yaml above it is not a bank: left alone."""
        (tmp_path / "a.yaml").write_text("name: A\nquestions: []\n")
        assert banks_among([str(tmp_path / "a.yaml")]) == []

    @pytest.mark.skipif(
        not (ROOT / ".git").exists(), reason="try-repo needs deckgen's git repository"
    )
    def test_try_repo_on_a_folder_bank(self, tmp_path: Path) -> None:
        """Through pre-commit: staging one topic file validates the whole folder, and a
        problem in another of its files fails the commit."""
        project = tmp_path / "project"
        shutil.copytree(VALID, project / "decks" / "folder")
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        subprocess.run(["git", "add", "."], cwd=project, check=True)
        env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
        command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "deckgen-validate"]
        command += ["--verbose", "--files", "decks/folder/basics.yaml"]
        good = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "decks/folder: valid, 5 questions in 3 topics" in good.stdout

        cloze = project / "decks" / "folder" / "zz" / "cloze.yaml"
        cloze.write_text(cloze.read_text().replace("{{c2::folder}}", "{{c2::folder"))
        bad = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert bad.returncode == 1
        assert "decks/folder/zz/cloze.yaml:5:66: this cloze is never closed with '}}'" in (
            bad.stdout
        )
