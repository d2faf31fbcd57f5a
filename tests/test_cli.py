"""Tests for deckgen.cli, through click's CliRunner and as a real process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import INVALID, SMALL

from deckgen.checker import load_deck
from deckgen.cli import COMMANDS, main


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
    def test_builds_to_output(self, runner: CliRunner, small_copy: Path, tmp_path: Path) -> None:
        """A valid bank is written where -o says, and its lock is created beside it."""
        out = tmp_path / "deck.apkg"
        result = runner.invoke(main, ["build", str(small_copy), "-o", str(out)])
        assert result.exit_code == 0, result.output
        size = out.stat().st_size
        lock = small_copy.with_suffix(".lock")
        assert result.stdout == (
            f"Wrote {out}: 3 notes, 3 cards, 2 topics, {size / 1024:.1f} KiB\n"
            f"Updated {lock}: 3 added\n"
        )
        assert lock.is_file()

    def test_unchanged_rebuild_leaves_the_lock(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path
    ) -> None:
        """A second build of the same source does not rewrite the lock."""
        out = tmp_path / "deck.apkg"
        runner.invoke(main, ["build", str(small_copy), "-o", str(out)])
        lock = small_copy.with_suffix(".lock")
        before = lock.stat().st_mtime_ns, lock.read_bytes()
        result = runner.invoke(main, ["build", str(small_copy), "-o", str(out)])
        assert result.exit_code == 0
        assert "Updated" not in result.stdout
        assert (lock.stat().st_mtime_ns, lock.read_bytes()) == before

    def test_default_output_is_dist_slug(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without -o the package goes to dist/<deck-name-slug>.apkg."""
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(main, ["build", str(small_copy)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "dist" / "interview-python-basics.apkg").is_file()

    def test_invalid_source_writes_nothing(self, runner: CliRunner, tmp_path: Path) -> None:
        """On any problem the build exits 1 and leaves an existing output untouched."""
        out = tmp_path / "deck.apkg"
        out.write_bytes(b"previous release")
        source = tmp_path / "blank-answer.yaml"
        source.write_bytes((INVALID / "blank-answer.yaml").read_bytes())
        result = runner.invoke(main, ["build", str(source), "-o", str(out)])
        assert result.exit_code == 1
        assert result.stderr.endswith("Error: 3 problems found; nothing was written\n")
        assert out.read_bytes() == b"previous release"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["blank-answer.yaml", "deck.apkg"]

    def test_source_date_epoch_sets_new_notes_mod(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path
    ) -> None:
        """SOURCE_DATE_EPOCH becomes the modification time of new notes."""
        out = tmp_path / "deck.apkg"
        env = {"SOURCE_DATE_EPOCH": "1700000000"}
        result = runner.invoke(main, ["build", str(small_copy), "-o", str(out)], env=env)
        assert result.exit_code == 0
        with zipfile.ZipFile(out) as z:
            (tmp_path / "c.anki2").write_bytes(z.read("collection.anki2"))
        with closing(sqlite3.connect(tmp_path / "c.anki2")) as db:
            assert db.execute("select distinct mod from notes").fetchall() == [(1700000000,)]

    def test_bad_source_date_epoch(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path
    ) -> None:
        """A SOURCE_DATE_EPOCH that is not a number is reported, not a traceback."""
        out = tmp_path / "deck.apkg"
        env = {"SOURCE_DATE_EPOCH": "yesterday"}
        result = runner.invoke(main, ["build", str(small_copy), "-o", str(out)], env=env)
        assert (result.exit_code, result.stderr) == (
            1,
            "Error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, "
            "not 'yesterday'\n",
        )
        assert not out.exists()

    def test_locked_with_stale_lock_fails_and_writes_nothing(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path
    ) -> None:
        """--locked refuses a source that no longer matches its lock: exit 1, no output."""
        assert (
            runner.invoke(main, ["build", str(small_copy), "-o", str(tmp_path / "a")]).exit_code
            == 0
        )
        small_copy.write_text(small_copy.read_text().replace("Mention hashability.", "Hash it."))
        lock = small_copy.with_suffix(".lock")
        before = lock.read_bytes()
        out = tmp_path / "locked.apkg"
        result = runner.invoke(main, ["build", "--locked", str(small_copy), "-o", str(out)])
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: {lock} is out of date (changed: list-vs-tuple); run 'deckgen build' "
            "without --locked and commit the updated lock\n",
        )
        assert not out.exists()
        assert lock.read_bytes() == before

    def test_locked_without_lock_fails(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path
    ) -> None:
        """--locked needs a lock to exist."""
        out = tmp_path / "deck.apkg"
        result = runner.invoke(main, ["build", "--locked", str(small_copy), "-o", str(out)])
        assert result.exit_code == 1
        assert "does not exist; run 'deckgen build' without --locked" in result.stderr
        assert not out.exists()

    def test_removed_question_warns(
        self, runner: CliRunner, small_copy: Path, tmp_path: Path
    ) -> None:
        """A question id that left the source is named in a warning, once."""
        out = str(tmp_path / "deck.apkg")
        runner.invoke(main, ["build", str(small_copy), "-o", out])
        text = small_copy.read_text()
        start = text.index("      - id: for-else")
        small_copy.write_text(
            text[:start] + "      - id: other\n        question: Q?\n        answer: A.\n"
        )
        result = runner.invoke(main, ["build", str(small_copy), "-o", out])
        assert result.exit_code == 0
        assert result.stderr.startswith(
            "Warning: 1 question left the source: for-else. Anki cannot delete notes"
        )
        assert "retired: true" in result.stderr
        again = runner.invoke(main, ["build", str(small_copy), "-o", out])
        assert again.stderr == ""

    def test_output_is_a_folder(self, runner: CliRunner, small_copy: Path, tmp_path: Path) -> None:
        """An output path that is a folder is a usage error."""
        assert runner.invoke(main, ["build", str(small_copy), "-o", str(tmp_path)]).exit_code == 2


class TestDiff:
    def test_release_notes(self, runner: CliRunner, small_copy: Path, tmp_path: Path) -> None:
        """diff prints Markdown release notes on stdout."""
        new = tmp_path / "new.yaml"
        new.write_text(small_copy.read_text().replace("Mention hashability.", "Hash it."))
        result = runner.invoke(main, ["diff", str(small_copy), str(new)])
        assert result.exit_code == 0
        assert "### Changed\n\n- `list-vs-tuple`: How does a `list` differ" in result.stdout

    def test_invalid_side(self, runner: CliRunner, small_copy: Path) -> None:
        """An invalid source on either side reports its problems and exits 1."""
        bad = INVALID / "duplicate-key.yaml"
        result = runner.invoke(main, ["diff", str(small_copy), str(bad)])
        assert result.exit_code == 1
        assert "duplicate key 'answer'" in result.stderr


class TestHelp:
    @pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
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

    @pytest.mark.parametrize(
        ("args", "code"),
        [
            (["build", "{bank}"], 0),
            (["validate", str(INVALID / "duplicate-question-id.yaml")], 1),
            (["build", "--bogus"], 2),
        ],
    )
    def test_a_process_ends_with_its_code_and_all_its_output(
        self, small_copy: Path, tmp_path: Path, args: list[str], code: int
    ) -> None:
        """The program ends without the interpreter's teardown (cli._exit_now): the exit
        code and every line written to a pipe still come out, and the outputs are there."""
        args = [a.format(bank=small_copy) for a in args]
        command = [sys.executable, "-c", "from deckgen.cli import run; run()", *args]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == code
        if code == 0:
            lines = result.stdout.splitlines()
            assert [line.split()[0] for line in lines] == ["Wrote", "Updated"]
            assert result.stdout.endswith("3 added\n")
            assert (tmp_path / "dist").is_dir()
            assert small_copy.with_suffix(".lock").is_file()
        elif code == 1:
            assert "duplicate-question-id.yaml:" in result.stdout + result.stderr
        else:
            assert "No such option '--bogus'" in result.stderr


class TestFormats:
    def test_github_format(self, runner: CliRunner) -> None:
        """--format github prints one ::error annotation per problem, at its line; exit 1."""
        source = INVALID / "duplicate-key.yaml"
        result = runner.invoke(main, ["validate", "--format", "github", str(source)])
        assert (result.exit_code, result.stdout, result.stderr) == (
            1,
            f"::error file={source},line=10,col=9,title=DG101 duplicate-key"
            "::duplicate key 'answer' (first on line 9)\n",
            "",
        )

    def test_json_format(self, runner: CliRunner) -> None:
        """--format json prints one parseable document listing every problem."""
        bad = INVALID / "missing-keys.yaml"
        result = runner.invoke(main, ["validate", "--format", "json", str(bad), str(SMALL)])
        assert result.exit_code == 1
        problems = json.loads(result.stdout)
        assert [(p["line"], p["code"]) for p in problems] == [
            (2, "DG103"),
            (6, "DG103"),
            (8, "DG103"),
            (10, "DG103"),
        ]

    def test_json_format_valid(self, runner: CliRunner) -> None:
        """A valid source gives an empty list and exit 0."""
        result = runner.invoke(main, ["validate", "--format", "json", str(SMALL)])
        assert (result.exit_code, json.loads(result.stdout)) == (0, [])

    def test_unknown_format_is_a_usage_error(self, runner: CliRunner) -> None:
        """An unknown format exits 2."""
        result = runner.invoke(main, ["validate", "--format", "xml", str(SMALL)])
        assert result.exit_code == 2


class TestInit:
    def test_starter_bank_builds(
        self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`deckgen init` in an empty folder writes a bank that validates and builds."""
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(main, ["init"])
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "deckgen.schema.json",
            "questions.yaml",
        ]
        assert runner.invoke(main, ["validate", "questions.yaml"]).exit_code == 0
        built = runner.invoke(main, ["build", "questions.yaml"])
        assert built.exit_code == 0, built.output
        assert (tmp_path / "dist" / "my-interview-questions.apkg").is_file()

    def test_fresh_deck_ids(self, runner: CliRunner, tmp_path: Path) -> None:
        """Two starter banks get different deck ids."""
        for name in ("a.yaml", "b.yaml"):
            assert runner.invoke(main, ["init", str(tmp_path / name)]).exit_code == 0
        ids = {load_deck(tmp_path / name).id for name in ("a.yaml", "b.yaml")}
        assert len(ids) == 2

    def test_never_overwrites(self, runner: CliRunner, tmp_path: Path) -> None:
        """An existing file is left alone and the command fails."""
        path = tmp_path / "questions.yaml"
        path.write_text("mine")
        result = runner.invoke(main, ["init", str(path)])
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: {path} already exists; it was left as it was\n",
        )
        assert path.read_text() == "mine"


class TestStatsAndSchema:
    def test_stats_text(self, runner: CliRunner) -> None:
        """stats counts notes, cards and questions per topic."""
        result = runner.invoke(main, ["stats", str(SMALL)])
        assert result.exit_code == 0
        assert result.stdout.startswith("Interview::Python Basics: 3 notes, 3 cards, 2 topics\n")
        assert "  Data Types        2  interview-python-basics::data-types\n" in result.stdout

    def test_stats_json(self, runner: CliRunner) -> None:
        """stats --json gives the same counts as JSON."""
        result = runner.invoke(main, ["stats", "--json", str(SMALL)])
        counts = json.loads(result.stdout)
        assert (counts["notes"], counts["cards"], counts["retired"]) == (3, 3, 0)
        assert [t["questions"] for t in counts["topics"]] == [2, 1]
        assert counts["tags"]["python"] == 3

    def test_schema(self, runner: CliRunner) -> None:
        """schema prints the JSON Schema."""
        result = runner.invoke(main, ["schema"])
        assert json.loads(result.stdout)["title"] == "deckgen question bank"


class TestTerminal:
    def test_no_color(self, runner: CliRunner) -> None:
        """NO_COLOR keeps escape codes out even when colour is forced on a terminal."""
        coloured = runner.invoke(main, ["validate", str(SMALL)], color=True)
        plain = runner.invoke(main, ["validate", str(SMALL)], color=True, env={"NO_COLOR": "1"})
        assert "\x1b[" in coloured.stdout
        assert "\x1b[" not in plain.stdout

    def test_progress_bar_only_on_a_terminal(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The progress bar shows for large builds on a terminal, and only there."""
        from deckgen.cli.common import ProgressBar as _ProgressBar

        _ProgressBar()(10_000, 10_000)
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        _ProgressBar()(10, 10)
        assert capsys.readouterr().err == ""
        bar = _ProgressBar()
        bar(5_000, 10_000)
        bar(10_000, 10_000)
        assert "Rendering" in capsys.readouterr().err
