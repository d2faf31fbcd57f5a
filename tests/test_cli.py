"""Tests for deckgen.cli, through click's CliRunner and as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import INVALID, SMALL

from deckgen.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


class TestValidate:
    def test_valid_source(self, runner: CliRunner) -> None:
        """A valid bank prints a one-line summary on stdout and exits 0."""
        result = runner.invoke(main, ["validate", str(SMALL)])
        assert (result.exit_code, result.stdout, result.stderr) == (
            0,
            f"{SMALL}: valid, 3 questions in 2 topics\n",
            "",
        )

    def test_invalid_source(self, runner: CliRunner) -> None:
        """Each problem is one FILE:LINE:COL line on stderr, then a count; exit 1."""
        source = INVALID / "missing-keys.yaml"
        result = runner.invoke(main, ["validate", str(source)])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == (
            f"{source}:2:3: 'deck' is missing required key 'id'\n"
            f"{source}:6:9: question is missing required key 'answer'\n"
            f"{source}:8:9: question is missing required key 'id'\n"
            f"{source}:10:5: topic is missing required key 'name'\n"
            "Error: 4 problems found\n"
        )

    def test_several_sources(self, runner: CliRunner) -> None:
        """Every source is checked even after one fails; the file is named as given."""
        bad = INVALID / "duplicate-key.yaml"
        result = runner.invoke(main, ["validate", str(bad), str(SMALL)])
        assert result.exit_code == 1
        assert result.stdout == f"{SMALL}: valid, 3 questions in 2 topics\n"
        assert result.stderr == (
            f"{bad}:10:9: duplicate key 'answer' (first on line 9)\nError: 1 problem found\n"
        )

    @pytest.mark.parametrize("source", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
    def test_no_traceback_for_any_invalid_source(self, runner: CliRunner, source: Path) -> None:
        """Every invalid fixture exits 1 with located messages and no exception."""
        result = runner.invoke(main, ["validate", str(source)])
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr.startswith(f"{source}:")
        assert "Traceback" not in result.output

    def test_missing_file_is_a_usage_error(self, runner: CliRunner, tmp_path: Path) -> None:
        """A source that does not exist is a usage error: exit 2."""
        result = runner.invoke(main, ["validate", str(tmp_path / "nope.yaml")])
        assert result.exit_code == 2
        assert "does not exist" in result.stderr

    def test_no_source_is_a_usage_error(self, runner: CliRunner) -> None:
        """At least one source is required."""
        assert runner.invoke(main, ["validate"]).exit_code == 2


class TestBuild:
    def test_builds_to_output(self, runner: CliRunner, tmp_path: Path) -> None:
        """A valid bank is written where -o says, with a summary line."""
        out = tmp_path / "deck.apkg"
        result = runner.invoke(main, ["build", str(SMALL), "-o", str(out)])
        assert result.exit_code == 0, result.output
        size = out.stat().st_size
        assert result.stdout == f"Wrote {out}: 3 notes, 3 cards, 2 topics, {size / 1024:.1f} KiB\n"

    def test_default_output_is_dist_slug(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without -o the package goes to dist/<deck-name-slug>.apkg."""
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(main, ["build", str(SMALL)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "dist" / "interview-python-basics.apkg").is_file()

    def test_invalid_source_writes_nothing(self, runner: CliRunner, tmp_path: Path) -> None:
        """On any problem the build exits 1 and leaves an existing output untouched."""
        out = tmp_path / "deck.apkg"
        out.write_bytes(b"previous release")
        source = INVALID / "blank-answer.yaml"
        result = runner.invoke(main, ["build", str(source), "-o", str(out)])
        assert result.exit_code == 1
        assert result.stderr.endswith("Error: 3 problems found; nothing was written\n")
        assert out.read_bytes() == b"previous release"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]

    def test_source_date_epoch_sets_note_mod(self, runner: CliRunner, tmp_path: Path) -> None:
        """SOURCE_DATE_EPOCH becomes every note's modification time."""
        import sqlite3
        import zipfile

        out = tmp_path / "deck.apkg"
        env = {"SOURCE_DATE_EPOCH": "1700000000"}
        assert runner.invoke(main, ["build", str(SMALL), "-o", str(out)], env=env).exit_code == 0
        with zipfile.ZipFile(out) as z:
            (tmp_path / "c.anki2").write_bytes(z.read("collection.anki2"))
        with sqlite3.connect(tmp_path / "c.anki2") as db:
            assert db.execute("select distinct mod from notes").fetchall() == [(1700000000,)]

    def test_bad_source_date_epoch(self, runner: CliRunner, tmp_path: Path) -> None:
        """A SOURCE_DATE_EPOCH that is not a number is reported, not a traceback."""
        out = tmp_path / "deck.apkg"
        env = {"SOURCE_DATE_EPOCH": "yesterday"}
        result = runner.invoke(main, ["build", str(SMALL), "-o", str(out)], env=env)
        assert (result.exit_code, result.stderr) == (
            1,
            "Error: SOURCE_DATE_EPOCH must be a whole number of seconds, not 'yesterday'\n",
        )
        assert not out.exists()

    def test_output_is_a_folder(self, runner: CliRunner, tmp_path: Path) -> None:
        """An output path that is a folder is a usage error."""
        assert runner.invoke(main, ["build", str(SMALL), "-o", str(tmp_path)]).exit_code == 2


class TestHelp:
    @pytest.mark.parametrize("command", [[], ["validate"], ["build"]])
    def test_every_command_has_help_with_example(
        self, runner: CliRunner, command: list[str]
    ) -> None:
        """Every command documents itself; subcommands show an example."""
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0
        assert result.stdout.startswith("Usage: ")
        if command:
            assert "Example:" in result.stdout

    def test_help_does_not_import_heavy_modules(self) -> None:
        """`deckgen --help` loads neither genanki, Markdown, Pygments nor PyYAML."""
        code = (
            "import sys\n"
            "from deckgen.cli import main\n"
            "try:\n"
            "    main(['--help'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "heavy = {'genanki', 'markdown_it', 'pygments', 'yaml'} & set(sys.modules)\n"
            "print(sorted(heavy))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.splitlines()[-1] == "[]"

    def test_python_dash_m(self) -> None:
        """`python -m deckgen` is the same command."""
        result = subprocess.run(
            [sys.executable, "-m", "deckgen", "validate", str(SMALL)],
            capture_output=True,
            text=True,
        )
        assert (result.returncode, result.stdout) == (
            0,
            f"{SMALL}: valid, 3 questions in 2 topics\n",
        )
