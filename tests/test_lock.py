"""Tests for deckgen.lock: which notes keep their modification time, and the lock file."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckgen.errors import DeckgenError
from deckgen.lock import (
    Lock,
    LockedNote,
    NoteContent,
    NoteTypeState,
    content_hash,
    format_lock,
    lock_path_for,
    plan_release,
    read_lock,
)

T1, T2 = 1_700_000_000, 1_700_086_400
TYPE = NoteTypeState(42, ("Front", "Back"), ("Card 1",), "style-1")


def note(qid: str, content: str = "c", *, retired: bool = False) -> NoteContent:
    return NoteContent(qid, f"guid-{qid}", content, retired)


@pytest.fixture
def v1() -> Lock:
    return plan_release(None, [note("a"), note("b")], TYPE, now=T1).lock


class TestPlanRelease:
    def test_first_release_uses_now(self, v1: Lock) -> None:
        """Without a lock every note and the note type get ``now``."""
        assert {qid: n.mod for qid, n in v1.notes.items()} == {"a": T1, "b": T1}
        assert v1.note_type.mod == T1

    def test_unchanged_notes_keep_mod(self, v1: Lock) -> None:
        """A note whose content is the same keeps the mod it had."""
        release = plan_release(v1, [note("a"), note("b", "edited")], TYPE, now=T2)
        assert (release.lock.notes["a"].mod, release.lock.notes["b"].mod) == (T1, T2)
        assert (release.added, release.changed, release.removed) == ((), ("b",), ())
        assert release.lock.note_type.mod == T1

    def test_changed_mod_is_always_later(self, v1: Lock) -> None:
        """Even with a clock (or SOURCE_DATE_EPOCH) behind the lock, a change moves mod on."""
        release = plan_release(v1, [note("a", "edited"), note("b")], TYPE, now=T1 - 500)
        assert release.lock.notes["a"].mod == T1 + 1

    def test_identical_input_is_up_to_date(self, v1: Lock) -> None:
        """The same notes against their own lock change nothing."""
        release = plan_release(v1, [note("a"), note("b")], TYPE, now=T2)
        assert release.up_to_date
        assert release.lock == v1

    def test_added_note(self, v1: Lock) -> None:
        """A new question id is added with ``now``."""
        release = plan_release(v1, [note("a"), note("b"), note("c")], TYPE, now=T2)
        assert release.added == ("c",)
        assert release.lock.notes["c"] == LockedNote("guid-c", "c", T2)

    def test_removed_note_moves_to_removed(self, v1: Lock) -> None:
        """A question that left the source is reported once and kept under 'removed'."""
        release = plan_release(v1, [note("a")], TYPE, now=T2)
        assert release.removed == ("b",)
        assert release.lock.removed == {"b": v1.notes["b"]}
        again = plan_release(release.lock, [note("a")], TYPE, now=T2 + 1)
        assert again.removed == ()
        assert again.up_to_date

    def test_restored_note_keeps_its_mod(self, v1: Lock) -> None:
        """A removed question that comes back unchanged keeps its old mod."""
        removed = plan_release(v1, [note("a")], TYPE, now=T2).lock
        back = plan_release(removed, [note("a"), note("b")], TYPE, now=T2 + 5)
        assert back.lock.notes["b"].mod == T1
        assert back.lock.removed == {}
        assert back.added == ("b",)

    def test_style_change_moves_note_type_mod(self, v1: Lock) -> None:
        """New templates or CSS give the note type a new mod; notes are untouched."""
        restyled = NoteTypeState(42, ("Front", "Back"), ("Card 1",), "style-2")
        release = plan_release(v1, [note("a"), note("b")], restyled, now=T2)
        assert (release.style_changed, release.structure_changed) == (True, False)
        assert release.lock.note_type.mod == T2
        assert not release.up_to_date

    def test_structure_change_is_flagged(self, v1: Lock) -> None:
        """Another field list is a structure change."""
        other = NoteTypeState(42, ("Front", "Back", "Extra"), ("Card 1",), "style-1")
        assert plan_release(v1, [note("a"), note("b")], other, now=T2).structure_changed


class TestContentHash:
    def test_fields_and_tags_matter(self) -> None:
        """The hash changes with any field or tag, and with field boundaries."""
        base = content_hash(["a", "b"], ["t"])
        assert base == content_hash(["a", "b"], ["t"])
        assert base != content_hash(["a", "c"], ["t"])
        assert base != content_hash(["a", "b"], ["t", "u"])
        assert content_hash(["ab", ""], []) != content_hash(["a", "b"], [])


class TestLockFile:
    def test_round_trip(self, v1: Lock, tmp_path: Path) -> None:
        """What is written reads back equal."""
        path = tmp_path / "bank.lock"
        release = plan_release(v1, [note("a", "new", retired=True)], TYPE, now=T2)
        path.write_text(format_lock(release.lock, source_name="bank.yaml"))
        assert read_lock(path) == release.lock

    def test_format_is_sorted_one_line_per_note(self) -> None:
        """Notes are sorted by id, one line each, whatever order they came in."""
        lock = plan_release(None, [note("zeta"), note("alpha")], TYPE, now=T1).lock
        text = format_lock(lock, source_name="bank.yaml")
        assert text.splitlines()[-2:] == [
            f'alpha = {{ guid = "guid-alpha", content = "c", mod = {T1} }}',
            f'zeta = {{ guid = "guid-zeta", content = "c", mod = {T1} }}',
        ]

    def test_guids_with_quotes_survive(self, tmp_path: Path) -> None:
        """GUID characters that TOML must escape are escaped."""
        lock = plan_release(None, [NoteContent("a", 'x"y\\z', "c", False)], TYPE, now=T1).lock
        path = tmp_path / "bank.lock"
        path.write_text(format_lock(lock, source_name="bank.yaml"))
        assert read_lock(path) == lock

    def test_missing_lock_is_none(self, tmp_path: Path) -> None:
        """No lock yet is not an error."""
        assert read_lock(tmp_path / "none.lock") is None

    @pytest.mark.parametrize(
        "text",
        ["not toml [", "version = 2\n", 'version = 1\n[note-type]\nid = "x"\n', "version = 1\n"],
    )
    def test_broken_lock_is_an_error(self, tmp_path: Path, text: str) -> None:
        """A damaged lock is a DeckgenError naming the file."""
        path = tmp_path / "bank.lock"
        path.write_text(text)
        with pytest.raises(DeckgenError, match=r"bank\.lock is not a valid deckgen lock file"):
            read_lock(path)

    def test_lock_path_for(self) -> None:
        """The lock sits beside the source."""
        assert lock_path_for(Path("decks/questions.yaml")) == Path("decks/questions.lock")
