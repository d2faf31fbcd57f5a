"""Tests for deckgen.build: releases that are reproducible and safe to import over old ones."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from deckgen import build as builder
from deckgen.errors import DeckgenError, LockError, NoteTypeChangeError
from deckgen.lock import format_lock, read_lock

T1, T2 = 1_700_000_000, 1_700_086_400


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestReproducible:
    def test_same_source_and_lock_same_bytes_anywhere(
        self, small_copy: Path, tmp_path: Path
    ) -> None:
        """Two folders, two build times, one source and lock: byte-identical packages."""
        builder.build(small_copy, output=tmp_path / "first.apkg", now=T1)
        other = tmp_path / "elsewhere" / "deeper"
        other.mkdir(parents=True)
        for path in (small_copy, small_copy.with_suffix(".lock")):
            shutil.copy(path, other / path.name)
        a = builder.build(small_copy, output=tmp_path / "a.apkg", now=T2, locked=True)
        b = builder.build(
            other / small_copy.name, output=other / "b.apkg", now=T2 + 999, locked=True
        )
        assert sha256(a.path) == sha256(b.path) == sha256(tmp_path / "first.apkg")

    def test_edit_changes_only_that_note(self, small_copy: Path, tmp_path: Path) -> None:
        """After an edit, only the edited note has a new mod in the lock."""
        first = builder.build(small_copy, output=tmp_path / "v1.apkg", now=T1)
        small_copy.write_text(small_copy.read_text().replace("Mention hashability.", "Hash."))
        second = builder.build(small_copy, output=tmp_path / "v2.apkg", now=T2)
        mods = {qid: n.mod for qid, n in second.release.lock.notes.items()}
        assert mods == {"for-else": T1, "html-in-answer": T1, "list-vs-tuple": T2}
        assert second.lock_written
        assert read_lock(first.lock_path) == second.release.lock


class TestLocked:
    def test_locked_refuses_stale_lock(self, small_copy: Path, tmp_path: Path) -> None:
        """An edited source under --locked is a LockError and writes nothing."""
        builder.build(small_copy, output=tmp_path / "v1.apkg", now=T1)
        small_copy.write_text(small_copy.read_text().replace("Mention hashability.", "Hash."))
        out = tmp_path / "v2.apkg"
        with pytest.raises(LockError, match=r"out of date \(changed: list-vs-tuple\)"):
            builder.build(small_copy, output=out, now=T2, locked=True)
        assert not out.exists()

    def test_locked_refuses_removed_question(self, small_copy: Path, tmp_path: Path) -> None:
        """A question that left the source fails --locked until the lock records it."""
        builder.build(small_copy, output=tmp_path / "v1.apkg", now=T1)
        text = small_copy.read_text()
        small_copy.write_text(text[: text.index("  - name: Control Flow")])
        with pytest.raises(LockError, match=r"removed: for-else"):
            builder.build(small_copy, output=tmp_path / "v2.apkg", now=T2, locked=True)
        builder.build(small_copy, output=tmp_path / "v2.apkg", now=T2)
        builder.build(small_copy, output=tmp_path / "v3.apkg", now=T2, locked=True)


class TestNoteTypeStructure:
    def age_lock(self, lock_path: Path, fields: tuple[str, ...]) -> None:
        """Pretend the previous release had another field list."""
        lock = read_lock(lock_path)
        assert lock is not None
        basic = lock.note_types["basic"]
        aged_type = replace(basic, fields=fields, style="old-style", mod=T1)
        aged = replace(lock, note_types={"basic": aged_type})
        lock_path.write_text(format_lock(aged, source_name="small.yaml"))

    def test_structure_change_is_refused(self, small_copy: Path, tmp_path: Path) -> None:
        """Another field list than the lock's needs the explicit flag; nothing is written."""
        result = builder.build(small_copy, output=tmp_path / "v1.apkg", now=T1)
        self.age_lock(result.lock_path, ("Front", "Back"))
        out = tmp_path / "v2.apkg"
        with pytest.raises(NoteTypeChangeError, match="Merge note types"):
            builder.build(small_copy, output=out, now=T2)
        assert not out.exists()

    def test_structure_change_with_flag(self, small_copy: Path, tmp_path: Path) -> None:
        """With the flag the build goes ahead and the lock records the new structure."""
        result = builder.build(small_copy, output=tmp_path / "v1.apkg", now=T1)
        self.age_lock(result.lock_path, ("Front", "Back"))
        second = builder.build(
            small_copy, output=tmp_path / "v2.apkg", now=T2, allow_note_type_change=True
        )
        assert second.release.structure_changed == ("basic",)
        assert second.release.lock.note_types["basic"].mod == T2
        lock = read_lock(second.lock_path)
        assert lock is not None
        assert lock.note_types["basic"].fields[0] == "Question"

    def test_style_change_needs_no_flag(self, small_copy: Path, tmp_path: Path) -> None:
        """Templates and CSS may change freely: the note type just gets a new mod."""
        result = builder.build(small_copy, output=tmp_path / "v1.apkg", now=T1)
        lock = read_lock(result.lock_path)
        assert lock is not None
        self.age_lock(result.lock_path, lock.note_types["basic"].fields)
        second = builder.build(small_copy, output=tmp_path / "v2.apkg", now=T2)
        assert second.release.style_changed == ("basic",)
        assert second.release.lock.note_types["basic"].mod == T2


class TestRetired:
    def test_retired_question_is_kept_tagged_and_not_counted(
        self, small_copy: Path, tmp_path: Path
    ) -> None:
        """A retired question stays in the package with the retired tag, out of the counts."""
        small_copy.write_text(
            small_copy.read_text().replace(
                "      - id: for-else\n", "      - id: for-else\n        retired: true\n"
            )
        )
        result = builder.build(small_copy, output=tmp_path / "deck.apkg", now=T1)
        assert (result.deck.question_count, result.deck.retired_count) == (2, 1)
        assert result.release.lock.notes["for-else"].retired
        topic = result.deck.topics[1]
        assert "interview-python-basics::retired" in result.deck.note_tags(
            topic, topic.questions[0]
        )


class TestReleaseTime:
    def test_source_date_epoch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """SOURCE_DATE_EPOCH wins when set."""
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
        assert builder.release_time() == 1234567890

    def test_clock_is_the_next_second(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without it, the next whole second after now."""
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        monkeypatch.setattr(builder.time, "time", lambda: 1000.4)
        assert builder.release_time() == 1001

    def test_bad_value(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A non-number is a DeckgenError."""
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
        with pytest.raises(DeckgenError, match="whole number of seconds"):
            builder.release_time()
