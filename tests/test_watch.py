"""deckgen watch: saves seen by polling, rebuilt after a quiet moment, problems reported as
they appear and disappear, the last valid package kept, and a clean stop on Ctrl-C."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import DATA
from livecommand import LiveCommand

from deckgen.checker import load_deck
from deckgen.errors import PathError
from deckgen.watch import Poller, Watcher, snapshot, watched_files

KINDS = DATA / "valid" / "kinds.yaml"


def answers_in(package: Path) -> list[str]:
    """The note fields of a package, each note's fields joined."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(package) as archive:
            archive.extract("collection.anki2", folder)
        db = sqlite3.connect(Path(folder) / "collection.anki2")
        try:
            return [row[0] for row in db.execute("SELECT flds FROM notes ORDER BY id")]
        finally:
            db.close()


def leftovers(*folders: Path) -> list[Path]:
    """Temporary files a write may have left."""
    return [p for folder in folders for p in folder.rglob("*.tmp")]


def test_watch_rebuilds_reports_and_keeps_the_last_valid_package(tmp_path: Path) -> None:
    """Start, edit an answer (rebuilt), break the bank (the problem is printed and the
    package and lock stay as they were), fix it (the fix is printed, rebuilt), Ctrl-C."""
    bank = tmp_path / "bank.yaml"
    shutil.copy(KINDS, bank)
    package = tmp_path / "out" / "deck.apkg"
    command = LiveCommand(
        ["watch", "bank.yaml", "-o", "out/deck.apkg", "--preview", "out/preview"], cwd=tmp_path
    )
    try:
        command.expect(r"^Watching bank\.yaml \(Ctrl-C stops\)$")
        command.expect(r"^Built out/deck\.apkg in [0-9.]+ s: 4 notes, 6 cards \(4 added\)$")
        command.expect(r"^Preview out/preview/index\.html updated .*\(0 problems\)$")
        assert any("mutable" in fields for fields in answers_in(package))

        bank.write_text(bank.read_text().replace("**mutable**", "**changeable**"))
        command.expect(r"^Built out/deck\.apkg .*\(1 changed\)$")
        command.expect(r"^Preview .* updated")
        assert any("changeable" in fields for fields in answers_in(package))
        valid_package = package.read_bytes()
        lock = (tmp_path / "bank.lock").read_text()

        bank.write_text(
            bank.read_text().replace("- id: term-gil", "- id: term-gil\n        front: x")
        )
        problem = command.expect(r"^bank\.yaml:\d+:\d+: ")[-1]
        assert "duplicate key 'front'" in problem
        command.expect(r"^Not rebuilt \(1 problem\): the package on disk is the last valid one$")
        command.expect(r"^Preview .* updated .*\(1 problem\)$")
        assert package.read_bytes() == valid_package
        assert (tmp_path / "bank.lock").read_text() == lock
        page = (tmp_path / "out" / "preview" / "index.html").read_text()
        assert "duplicate key 'front'" in page

        bank.write_text(
            bank.read_text().replace("- id: term-gil\n        front: x", "- id: term-gil")
        )
        command.expect(r"^fixed: " + problem.replace("(", r"\(").replace(")", r"\)") + "$")
        command.expect(r"^Built out/deck\.apkg ")
        command.expect(r"^Preview .* updated .*\(0 problems\)$")
        assert command.interrupt() == 0
        assert command.lines[-1] == "Stopped watching"
    finally:
        command.kill()
    assert leftovers(tmp_path) == []
    assert load_deck(bank).question_count == 4


def test_watch_stops_cleanly_on_ctrl_c_right_away(tmp_path: Path) -> None:
    """Ctrl-C as soon as the first build is done stops the command with exit 0."""
    shutil.copy(KINDS, tmp_path / "bank.yaml")
    command = LiveCommand(["watch", "bank.yaml", "-o", "deck.apkg"], cwd=tmp_path)
    try:
        command.expect(r"^Built deck\.apkg ")
        assert command.interrupt() == 0
    finally:
        command.kill()
    assert leftovers(tmp_path) == []


class Said:
    """Collects what a Watcher says."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, message: str, style: str) -> None:
        self.lines.append((style, message))


def test_a_build_error_is_reported_and_watching_goes_on(tmp_path: Path) -> None:
    """A question that changes its kind cannot be built; the watch says why and goes on."""
    bank = tmp_path / "bank.yaml"
    shutil.copy(KINDS, bank)
    said = Said()
    watcher = Watcher(bank, say=said, name="bank.yaml", output=tmp_path / "deck.apkg")
    watcher.rebuild()
    assert said.lines[-1][0] == "good"
    bank.write_text(
        bank.read_text()
        .replace("kind: reversed", "kind: basic")
        .replace(
            "front: GIL\n        back: The global interpreter lock\n        extra:",
            "question: GIL\n        answer: The global interpreter lock\n        how_to_answer:",
        )
    )
    watcher.rebuild()
    styles = [style for style, _ in said.lines[-2:]]
    assert styles == ["problem", "warn"]
    assert said.lines[-2][1].startswith("Error: a question changed its kind")
    assert said.lines[-1][1] == "Not rebuilt (an error): the package on disk is the last valid one"


def test_paths_that_cannot_work_stop_the_watch(tmp_path: Path) -> None:
    """An output that is the source itself is a usage error, not something to wait out."""
    bank = tmp_path / "bank.yaml"
    shutil.copy(KINDS, bank)
    with pytest.raises(PathError):
        Watcher(bank, say=Said(), output=bank).rebuild()


class TestPolling:
    def test_snapshot_sees_a_file_saved_by_renaming(self, tmp_path: Path) -> None:
        """A file replaced by another of the same size and time still counts as changed."""
        path = tmp_path / "bank.yaml"
        path.write_text("one")
        before = snapshot([path, tmp_path / "missing.yaml"])
        stat = path.stat()
        new = tmp_path / "new.yaml"
        new.write_text("two")
        os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.replace(new, path)
        after = snapshot([path, tmp_path / "missing.yaml"])
        assert before[tmp_path / "missing.yaml"] is None
        assert before[path] != after[path]

    def test_watched_files_include_media(self) -> None:
        """The media a deck's cards show are watched with the source."""
        source = DATA / "media" / "bank.yaml"
        files = watched_files(source, load_deck(source))
        assert files[0] == source
        assert {p.name for p in files[1:]} == {"flow.png", "photo.jpg", "wide.svg", "beep.wav"}

    def test_wait_returns_once_saves_have_settled(self, tmp_path: Path) -> None:
        """Three saves in quick succession end one wait, a quiet period after the last."""
        path = tmp_path / "bank.yaml"
        path.write_text("0")
        now = [0.0]
        saves = {1: "1", 2: "12", 3: "123"}  # at these ticks of the clock, the file changes
        ticks = [0]

        def sleep(seconds: float) -> None:
            now[0] += seconds
            ticks[0] += 1
            if ticks[0] in saves:
                path.write_text(saves[ticks[0]])

        poller = Poller(
            lambda: [path], interval=0.125, quiet=0.375, sleep=sleep, clock=lambda: now[0]
        )
        poller.wait()
        assert path.read_text() == "123"
        assert ticks[0] == 6  # the change seen at tick 1, then quiet from tick 3 to tick 6
        assert poller.seen == snapshot([path])


def test_the_preview_takes_the_build_s_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a build, the preview shows the notes the build rendered (none rendered twice),
    and the page is the one a preview of the bank from scratch writes."""
    from deckgen import notes
    from deckgen.preview import write_preview

    bank = tmp_path / "bank.yaml"
    shutil.copy(KINDS, bank)
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(tmp_path / "cache"))
    watcher = Watcher(
        bank, say=Said(), name="bank.yaml", output=tmp_path / "deck.apkg", preview=tmp_path / "p"
    )
    watcher.rebuild()
    bank.write_text(bank.read_text().replace("The global interpreter lock", "The GIL, edited"))
    rendered: list[int] = []
    original = notes._render_slice

    def counting(sources: list[object]) -> list[tuple[str, ...]]:
        rendered.append(len(sources))
        return original(sources)  # type: ignore[arg-type]

    monkeypatch.setattr(notes, "_render_slice", counting)
    watcher.rebuild()
    assert sum(rendered) == 1  # the edited note, by the build; the preview renders none
    deck = load_deck(bank)
    fresh = write_preview(tmp_path / "fresh", deck=deck, problems=[], source="bank.yaml", version=2)
    assert (tmp_path / "p" / "index.html").read_bytes() == fresh.path.read_bytes()
