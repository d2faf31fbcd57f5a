"""Tests for deckgen.lock: which notes keep their modification time, and the lock file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from deckgen.errors import DeckgenError
from deckgen.lock import (
    Lock,
    LockedNote,
    NoteContent,
    NoteTypeState,
    format_lock,
    format_lock_again,
    lock_path_for,
    plan_release,
    read_lock,
)

T1, T2 = 1_700_000_000, 1_700_086_400
TYPE = {"basic": NoteTypeState(42, ("Front", "Back"), ("Card 1",), "style-1")}


def note(
    qid: str, content: str = "c", *, retired: bool = False, kind: str = "basic"
) -> NoteContent:
    return NoteContent(qid, f"guid-{qid}", kind, content, retired)


@pytest.fixture
def v1() -> Lock:
    return plan_release(None, [note("a"), note("b")], TYPE, now=T1).lock


class TestPlanRelease:
    def test_first_release_uses_now(self, v1: Lock) -> None:
        """Without a lock every note and the note type get ``now``."""
        assert {qid: n.mod for qid, n in v1.notes.items()} == {"a": T1, "b": T1}
        assert v1.note_types["basic"].mod == T1

    def test_unchanged_notes_keep_mod(self, v1: Lock) -> None:
        """A note whose content is the same keeps the mod it had."""
        release = plan_release(v1, [note("a"), note("b", "edited")], TYPE, now=T2)
        assert (release.lock.notes["a"].mod, release.lock.notes["b"].mod) == (T1, T2)
        assert (release.added, release.changed, release.removed) == ((), ("b",), ())
        assert release.lock.note_types["basic"].mod == T1

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
        assert release.lock.notes["c"] == LockedNote("guid-c", "basic", "c", T2)

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
        restyled = {"basic": NoteTypeState(42, ("Front", "Back"), ("Card 1",), "style-2")}
        release = plan_release(v1, [note("a"), note("b")], restyled, now=T2)
        assert (release.style_changed, release.structure_changed) == (("basic",), ())
        assert release.lock.note_types["basic"].mod == T2
        assert release.lock.notes == v1.notes
        assert not release.up_to_date

    def test_structure_change_is_flagged(self, v1: Lock) -> None:
        """Another field list is a structure change."""
        other = {"basic": NoteTypeState(42, ("Front", "Back", "Extra"), ("Card 1",), "style-1")}
        assert plan_release(v1, [note("a"), note("b")], other, now=T2).structure_changed

    def test_kind_change_is_flagged(self, v1: Lock) -> None:
        """A question that became another kind is reported, never silently re-stamped."""
        types = {**TYPE, "cloze": NoteTypeState(43, ("Text",), ("Cloze",), "s")}
        release = plan_release(v1, [note("a", kind="cloze"), note("b")], types, now=T2)
        assert release.kind_changed == (("a", "basic", "cloze"),)

    def test_new_kind_adds_a_note_type(self, v1: Lock) -> None:
        """The first note of a new kind brings its note type, stamped ``now``; the old ones
        keep their mod."""
        types = {**TYPE, "cloze": NoteTypeState(43, ("Text",), ("Cloze",), "s")}
        release = plan_release(v1, [note("a"), note("b"), note("c", kind="cloze")], types, now=T2)
        assert {k: t.mod for k, t in release.lock.note_types.items()} == {
            "basic": T1,
            "cloze": T2,
        }
        assert release.added == ("c",)

    def test_renderer_versions_are_information_only(self, v1: Lock) -> None:
        """Other library versions leave the lock up to date."""
        release = plan_release(v1, [note("a"), note("b")], TYPE, now=T2, renderer={"x": "9"})
        assert release.up_to_date
        assert release.lock == v1


V1_LOCK = f"""\
version = 1

[note-type]
id = 42
fields = ["Front", "Back"]
templates = ["Card 1"]
style = "old-style"
mod = {T1}

[notes]
a = {{ guid = "guid-a", content = "0123456789abcdef", mod = {T1} }}
b = {{ guid = "guid-b", content = "fedcba9876543210", mod = {T1 + 7}, retired = true }}

[removed]
gone = {{ guid = "guid-gone", content = "00", mod = {T1 + 1} }}
"""


class TestMigration:
    def test_version_1_keeps_every_mod(self, tmp_path: Path) -> None:
        """A 0.1 lock is read as version 2 with every note's mod as it was."""
        path = tmp_path / "bank.lock"
        path.write_text(V1_LOCK)
        old = read_lock(path)
        assert old is not None
        assert old.version == 1
        release = plan_release(old, [note("a", "x"), note("b", "y", retired=True)], TYPE, now=T2)
        assert {q: n.mod for q, n in release.lock.notes.items()} == {"a": T1, "b": T1 + 7}
        assert (release.added, release.changed, release.removed) == ((), (), ())
        assert release.lock.notes["a"].content == "x"
        assert release.lock.removed["gone"].mod == T1 + 1

    def test_after_migration_edits_count(self, tmp_path: Path) -> None:
        """Once migrated, the lock holds source hashes and an edit is a change again."""
        path = tmp_path / "bank.lock"
        path.write_text(V1_LOCK)
        migrated = plan_release(read_lock(path), [note("a"), note("b")], TYPE, now=T2).lock
        path.write_text(format_lock(migrated, source_name="bank.yaml"))
        again = read_lock(path)
        assert again == migrated
        assert plan_release(again, [note("a", "edited"), note("b")], TYPE, now=T2).changed == ("a",)


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
            f'alpha = {{ guid = "guid-alpha", kind = "basic", content = "c", mod = {T1} }}',
            f'zeta = {{ guid = "guid-zeta", kind = "basic", content = "c", mod = {T1} }}',
        ]

    def test_fast_reader_agrees_with_toml(self, v1: Lock, tmp_path: Path) -> None:
        """The line reader and the TOML parser read a written lock the same."""
        import tomllib

        from deckgen import lock as lock_module

        release = plan_release(v1, [note("a", "new", retired=True)], TYPE, now=T2)
        text = format_lock(release.lock, source_name="bank.yaml")
        assert lock_module._parse(text) == lock_module._lock(tomllib.loads(text))
        assert lock_module._fast_notes(text[text.index("[notes]") :]) is not None

    def test_hand_edited_lock_falls_back_to_toml(self, v1: Lock, tmp_path: Path) -> None:
        """A note line written another valid TOML way is still read."""
        text = format_lock(v1, source_name="bank.yaml").replace(
            'a = { guid = "guid-a", kind = "basic", content = "c"',
            'a = {kind = "basic",  guid = "guid-a", content = "c"',
        )
        path = tmp_path / "bank.lock"
        path.write_text(text)
        assert read_lock(path) == v1

    def test_guids_with_quotes_survive(self, tmp_path: Path) -> None:
        """GUID characters that TOML must escape are escaped."""
        lock = plan_release(
            None, [NoteContent("a", 'x"y\\z', "basic", "c", False)], TYPE, now=T1
        ).lock
        path = tmp_path / "bank.lock"
        path.write_text(format_lock(lock, source_name="bank.yaml"))
        assert read_lock(path) == lock

    def test_missing_lock_is_none(self, tmp_path: Path) -> None:
        """No lock yet is not an error."""
        assert read_lock(tmp_path / "none.lock") is None

    @pytest.mark.parametrize(
        "text",
        [
            "not toml [",
            "version = 2\n",
            "version = 3\n",
            'version = 1\n[note-type]\nid = "x"\n',
            "version = 1\n",
            "version = 2\nnotes = 5\n[note-types]\n",
            "version = 2\n[note-types.basic]\nid = 1\nfields = []\ntemplates = []\n"
            'style = ""\nmod = 99999999999999\n[notes]\n',
            'version = 2\n[note-types]\n[notes]\na = { guid = "g", kind = "basic", '
            'content = "c", mod = -1 }\n',
            'version = 2\n[note-types]\n[notes]\na = { guid = "g", kind = "basic", '
            'content = "c", mod = 1, retired = "yes" }\n',
            "version = 2\n[note-types]\n[notes]\na = 7\n",
        ],
    )
    def test_broken_lock_is_an_error(self, tmp_path: Path, text: str) -> None:
        """A damaged lock is a DeckgenError naming the file."""
        path = tmp_path / "bank.lock"
        path.write_text(text)
        with pytest.raises(DeckgenError, match=r"bank\.lock is not a valid deckgen lock file"):
            read_lock(path)

    def test_dangling_link_is_an_error(self, tmp_path: Path) -> None:
        """A lock that is a link to a missing file is not taken for 'no lock yet': every note
        would be re-stamped and users would lose their local tags."""
        path = tmp_path / "bank.lock"
        path.symlink_to(tmp_path / "elsewhere.lock")
        with pytest.raises(DeckgenError, match="link to a missing file"):
            read_lock(path)

    def test_lock_path_for(self) -> None:
        """The lock sits beside the source."""
        assert lock_path_for(Path("decks/questions.yaml")) == Path("decks/questions.lock")


@pytest.mark.parametrize("value", ["abc", 'a"b', "a\\b", "é", "x\x7f", "~!#[]", "", "\t", "🚀"])
def test_lock_strings_are_json_strings(value: str) -> None:
    """A string in the lock is written as JSON writes it, whether or not it needs escapes."""
    import json

    from deckgen.lock import _toml_str

    assert _toml_str(value) == json.dumps(value)


class TestFormatLockAgain:
    """A rebuild's lock is the last one with the changed notes' lines replaced: always the
    text format_lock writes, or None when more than those lines would change."""

    @staticmethod
    def notes(count: int, edited: dict[int, str] | None = None) -> list[NoteContent]:
        edited = edited or {}
        return [
            note(f"q-{i}", edited.get(i, "c"), retired=i == 7, kind="cloze" if i % 5 else "basic")
            for i in range(count)
        ]

    TYPES: ClassVar = {**TYPE, "cloze": NoteTypeState(43, ("Text",), ("Cloze",), "style-1")}

    def again(self, old: Lock, new: Lock, name: str = "bank.yaml") -> bytes | None:
        text = format_lock(old, source_name="bank.yaml").encode()
        return format_lock_again(new, old=old, old_text=text, source_name=name)

    @pytest.mark.parametrize(
        "edited", [{0: "x"}, {29: "x"}, {3: "x", 4: "y", 17: "z"}, {i: "x" for i in range(30)}]
    )
    def test_changed_lines_only(self, edited: dict[int, str]) -> None:
        """Notes edited at the start, the end, side by side or all: format_lock's text."""
        old = plan_release(None, self.notes(30), self.TYPES, now=T1).lock
        release = plan_release(old, self.notes(30, edited), self.TYPES, now=T2)
        assert len(release.changed) == len(edited)
        assert (
            self.again(old, release.lock)
            == format_lock(release.lock, source_name="bank.yaml").encode()
        )

    def test_nothing_changed(self) -> None:
        old = plan_release(None, self.notes(30), self.TYPES, now=T1).lock
        new = plan_release(old, self.notes(30), self.TYPES, now=T2).lock
        assert self.again(old, new) == format_lock(old, source_name="bank.yaml").encode()

    def test_retired_and_escaped(self) -> None:
        """A note retired, and one whose line has escaped characters, are replaced too."""
        old = plan_release(None, [note("a"), note('"b"'), note("c")], TYPE, now=T1).lock
        new = plan_release(
            old, [note("a", retired=True), note('"b"', "x"), note("c")], TYPE, now=T2
        ).lock
        assert self.again(old, new) == format_lock(new, source_name="bank.yaml").encode()

    def test_more_than_lines_is_none(self) -> None:
        """An added or removed note, another note type or renderer, or another file's lock
        header: the whole lock is formatted instead."""
        old = plan_release(None, self.notes(10), self.TYPES, now=T1).lock
        added = plan_release(old, self.notes(11), self.TYPES, now=T2).lock
        removed = plan_release(old, self.notes(9), self.TYPES, now=T2).lock
        style = {**self.TYPES, "basic": NoteTypeState(42, ("Front", "Back"), ("Card 1",), "s2")}
        restyled = plan_release(old, self.notes(10), style, now=T2).lock
        renderer = plan_release(old, self.notes(10), self.TYPES, now=T2, renderer={"x": "1"})
        for new in (added, removed, restyled, renderer.lock):
            assert self.again(old, new) is None
        edited = plan_release(old, self.notes(10, {2: "x"}), self.TYPES, now=T2).lock
        assert self.again(old, edited, name="other.yaml") is None

    def test_changed_line_not_found_is_none(self) -> None:
        """A changed note whose line is not as format_lock writes it (a hand edit): None.
        (The rest of the text is not checked: the build state says whether format_lock
        wrote the file, tests/test_buildstate.py.)"""
        old = plan_release(None, self.notes(10), self.TYPES, now=T1).lock
        new = plan_release(old, self.notes(10, {2: "x"}), self.TYPES, now=T2).lock
        text = format_lock(old, source_name="bank.yaml").encode()
        hand = text.replace(b'q-2 = { guid = "guid-q-2"', b'q-2 = {guid = "guid-q-2"')
        assert format_lock_again(new, old=old, old_text=hand, source_name="bank.yaml") is None
