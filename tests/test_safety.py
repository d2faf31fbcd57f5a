"""A build never destroys the user's files: paths it must not write, the package and lock
changing together or not at all, and real interruptions of a real build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SMALL

from deckgen import fileio, notes
from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.cli import main
from deckgen.errors import BuildError

T1, T2 = 1_700_000_000, 1_700_086_400


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """A bank folder with a built release: bank.yaml, bank.lock and bank.apkg."""
    folder = tmp_path / "bank"
    folder.mkdir()
    source = folder / "bank.yaml"
    source.write_bytes(SMALL.read_bytes())
    build(source, output=folder / "bank.apkg", now=T1)
    return folder


class TestPathsItMustNotWrite:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["-o", "bank.yaml"], "the output and the source are the same file"),
            (["-o", "bank.lock"], "the output and the lock are the same file"),
            (["--lock", "bank.apkg", "-o", "bank.apkg"], "the output and the lock"),
            (["--lock", "bank.yaml"], "the lock and the source are the same file"),
            (["-o", "./sub/../bank.yaml"], "the output and the source are the same file"),
            (["-o", "link.apkg"], "the output and the source are the same file"),
            (["-o", "/dev/null"], "output /dev/null exists and is not a regular file"),
        ],
    )
    def test_refused_with_usage_error(self, released: Path, args: list[str], message: str) -> None:
        """Writing over the source or the lock, or replacing a device, is a usage error
        (exit 2) and every file stays as it was."""
        (released / "sub").mkdir()
        os.link(released / "bank.yaml", released / "link.apkg")  # a hard link to the source
        before = snapshot(released)
        cwd = os.getcwd()
        os.chdir(released)  # the paths above are relative, as a user types them
        try:
            result = CliRunner().invoke(main, ["build", "bank.yaml", *args])
        finally:
            os.chdir(cwd)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "nothing was written" in result.output
        assert snapshot(released) == before

    def test_dangling_output_link_is_refused(self, released: Path) -> None:
        """An output path that is a link to nothing is refused, not replaced."""
        (released / "out.apkg").symlink_to(released / "missing.apkg")
        result = CliRunner().invoke(
            main, ["build", str(released / "bank.yaml"), "-o", str(released / "out.apkg")]
        )
        assert result.exit_code == 2
        assert "link to a missing file" in result.output

    def test_output_link_to_a_file_writes_the_file(self, released: Path) -> None:
        """An output that links to a regular file updates that file and keeps the link."""
        target = released / "real.apkg"
        target.write_bytes(b"old")
        (released / "out.apkg").symlink_to(target)
        build(released / "bank.yaml", output=released / "out.apkg", now=T2)
        assert (released / "out.apkg").is_symlink()
        assert target.read_bytes()[:2] == b"PK"


class TestTogetherOrNotAtAll:
    def edit(self, folder: Path) -> None:
        source = folder / "bank.yaml"
        source.write_text(source.read_text().replace("Mention hashability.", "Hash it."))

    def test_failed_second_rename_restores_the_first(
        self, released: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """If the package cannot be put in place after the lock was, the old lock comes back:
        the pair on disk always matches, and no temporary file is left."""
        self.edit(released)
        before = snapshot(released)
        real_replace = Path.replace
        calls: list[Path] = []

        def replace(self: Path, target: Path) -> Path:
            calls.append(Path(target))
            if Path(target).suffix == ".apkg":
                raise OSError(28, "No space left on device")
            return real_replace(self, target)

        monkeypatch.setattr(fileio.Path, "replace", replace)
        with pytest.raises(BuildError, match="No space left on device"):
            build(released / "bank.yaml", output=released / "bank.apkg", now=T2)
        assert [p.suffix for p in calls[:2]] == [".lock", ".apkg"]
        assert snapshot(released) == before

    def test_failed_package_write_changes_nothing(
        self, released: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A package that cannot be written (a full temporary folder) leaves the old pair
        and no temporary file, and is an error, not a traceback."""
        self.edit(released)
        before = snapshot(released)

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("deckgen.package._zip", full)
        with pytest.raises(BuildError, match="No space left on device"):
            build(released / "bank.yaml", output=released / "bank.apkg", now=T2)
        assert snapshot(released) == before


def big_bank(path: Path, questions: int) -> Path:
    """A valid bank large enough to render in worker processes."""
    lines = [
        "deck:",
        "  name: Big",
        "  id: 1234567890",
        "topics:",
        "  - name: All",
        "    questions:",
    ]
    for i in range(questions):
        lines += [
            f"      - id: q{i}",
            f"        question: Question number {i} about `code`?",
            "        answer: |",
            f"          Answer {i} with **bold** text.",
            "",
            "          ```python",
            f"          def f{i}(x):",
            f"              return x * {i}",
            "          ```",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


class TestInterruptions:
    """Real signals sent to a real build, at several points of its run."""

    @pytest.fixture(scope="class")
    @classmethod
    def bank(cls, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
        """A built bank with one edit since, and how long a build of it takes here."""
        folder = tmp_path_factory.mktemp("big")
        source = big_bank(folder / "big.yaml", 6_000)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(T1)}
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "deckgen", "build", str(source), "-o", str(folder / "big.apkg")],
            check=True,
            env=env,
            capture_output=True,
        )
        seconds = time.monotonic() - start
        text = source.read_text().replace("Answer 7 with", "Answer seven with")
        source.write_text(text)  # the next build changes one note: a new lock and package
        return folder, seconds

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
    @pytest.mark.parametrize("when", [0.1, 0.3, 0.5, 0.7, 0.9])
    def test_old_pair_or_new_pair_and_no_litter(
        self, bank: tuple[Path, float], tmp_path: Path, sig: signal.Signals, when: float
    ) -> None:
        """Interrupted anywhere (``when`` is the share of a whole build's time), the build
        stops within seconds, quietly, and leaves either the old package and lock or the new
        ones, and no temporary file or worker anywhere."""
        folder, seconds = bank
        work = tmp_path / "work"
        work.mkdir()
        for name in ("big.yaml", "big.lock", "big.apkg"):
            (work / name).write_bytes((folder / name).read_bytes())
        old = snapshot(work)
        tmp = tmp_path / "tmp"
        tmp.mkdir()
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(T2), "TMPDIR": str(tmp)}
        command = [sys.executable, "-m", "deckgen", "build", "big.yaml", "-o", "big.apkg"]
        process = subprocess.Popen(
            command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        time.sleep(when * seconds)
        process.send_signal(sig)
        start = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=20)
        finally:
            process.kill()
        assert time.monotonic() - start < 10
        assert b"Traceback" not in stderr, stderr.decode()
        after = snapshot(work)
        assert sorted(after) == ["big.apkg", "big.lock", "big.yaml"]
        # Never a mix: the old pair, or the new one. The new pair also comes with a non-zero
        # exit when the signal lands between the renames (it waits for them) and the exit.
        changed = {name for name in ("big.lock", "big.apkg") if after[name] != old[name]}
        assert changed in (set(), {"big.lock", "big.apkg"})
        if process.returncode == 0:
            assert changed == {"big.lock", "big.apkg"}
        assert list(tmp.iterdir()) == []
        assert _children_of(process.pid) == []


def _children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (workers left behind), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


class TestDeadWorker:
    def test_dead_worker_is_a_located_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A render worker that dies (killed, or a crashing library) ends the build with an
        error that names the questions, instead of hanging."""
        deck = load_deck(big_bank(tmp_path / "big.yaml", 2_400))
        real = notes._render_slice
        parent = os.getpid()

        def crash_in_a_worker(sources: list[notes.Source]) -> list[tuple[str, ...]]:
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
            return real(sources)

        monkeypatch.setattr(notes, "_render_slice", crash_in_a_worker)
        start = time.monotonic()
        with pytest.raises(
            BuildError,
            match=r"worker died: killed by signal 9\) in the questions from .* \(line \d+\)",
        ):
            notes.make_notes(deck, jobs=2)
        assert time.monotonic() - start < 30
