"""Tests for deckgen.package, checked by importing the package into Anki's own backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import SMALL, ImportPackage

from deckgen import package
from deckgen.errors import BuildError
from deckgen.model import Deck, load_deck

T1 = 1_700_000_000.0


@pytest.fixture(scope="module")
def deck() -> Deck:
    return load_deck(SMALL)


@pytest.fixture
def apkg(deck: Deck, tmp_path: Path) -> Path:
    out = tmp_path / "small.apkg"
    package.build_package(deck, out, timestamp=T1)
    return out


def note_by_id(col: Collection, question_id: str) -> dict[str, str]:
    (nid,) = col.find_notes(f"ID:{question_id}")
    note = col.get_note(nid)
    return dict(note.items()) | {"tags": " ".join(sorted(note.tags))}


class TestGuid:
    def test_depends_on_deck_and_question_id_only(self) -> None:
        """The GUID is stable for a question id and differs across ids and decks."""
        guid = package.note_guid(2059400191, "list-vs-tuple")
        assert guid == package.note_guid(2059400191, "list-vs-tuple")
        assert guid != package.note_guid(2059400191, "for-else")
        assert guid != package.note_guid(2059400192, "list-vs-tuple")

    def test_editing_text_keeps_guids(self, deck: Deck) -> None:
        """Changing every text of a question does not change its note's GUID."""
        edited = Deck(deck.name, deck.id, "other", (), deck.topics[::-1])
        before = {n.question_id: n.guid for n in package.make_notes(deck)}
        after = {n.question_id: n.guid for n in package.make_notes(edited)}
        assert before == after


class TestNotes:
    def test_fields_in_note_type_order(self, deck: Deck) -> None:
        """Each note's fields follow FIELDS, rendered to HTML."""
        note = package.make_notes(deck)[0]
        fields = dict(zip(package.FIELDS, note.fields, strict=True))
        assert (
            fields["Question"] == "How does a <code>list</code> differ from a <code>tuple</code>?"
        )
        assert fields["Answer"].startswith("<p>A list is <strong>mutable</strong>")
        assert fields["How to answer"] == "<p>Mention hashability.</p>"
        assert fields["Topic"] == "Data Types"
        assert fields["ID"] == "list-vs-tuple"

    def test_absent_sections_are_empty_fields(self, deck: Deck) -> None:
        """Without how_to_answer/example_answer the fields are empty, so no section shows."""
        note = package.make_notes(deck)[1]
        assert note.fields[2:4] == ("", "")


class TestRoundTrip:
    """The built package imported into a fresh collection by Anki itself."""

    def test_counts_and_deck(
        self, apkg: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """Every question becomes one new note with one card, in the named (sub)deck."""
        log = import_package(apkg)
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (3, 0, 0)
        assert (collection.note_count(), collection.card_count()) == (3, 3)
        deck_names = {
            card.current_deck_id() for card in map(collection.get_card, collection.find_cards(""))
        }
        assert {collection.decks.name(did) for did in deck_names} == {"Interview::Python Basics"}

    def test_note_type(
        self, apkg: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """The notes use deckgen's own note type, with its fixed id and fields."""
        import_package(apkg)
        notetype = collection.models.get(package.NOTE_TYPE_ID)  # type: ignore[arg-type]
        assert notetype is not None
        assert notetype["name"] == package.NOTE_TYPE_NAME
        assert [f["name"] for f in notetype["flds"]] == list(package.FIELDS)

    def test_fields_and_tags(
        self, apkg: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """Fields and tags arrive as built."""
        import_package(apkg)
        note = note_by_id(collection, "for-else")
        assert note["Question"] == "When does the <code>else</code> of a <code>for</code> loop run?"
        assert note["Answer"] == "<p>When the loop ends without <code>break</code>.</p>"
        assert note["tags"] == "interview-python-basics::flow interview::practice python"

    def test_rendered_card_highlights_code(
        self, apkg: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """Anki renders the back with highlighted code and the CSS for its classes."""
        import_package(apkg)
        (cid,) = collection.find_cards("ID:list-vs-tuple")
        card = collection.get_card(cid)
        question, answer = card.question(), card.answer()
        assert '<div class="topic">Data Types</div>' in question
        assert '<hr id="answer">' not in question
        assert '<pre class="highlight"><code class="language-python">' in answer
        assert '<span class="mi">1</span>' in answer
        assert ".highlight .mi {" in answer  # the note type's CSS ships with the card
        assert "<h3>How to answer</h3><p>Mention hashability.</p>" in answer
        assert "<h3>Example answer</h3>" in answer

    def test_rendered_card_escapes_html(
        self, apkg: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """HTML in the source is shown as text on the rendered card; no script survives."""
        import_package(apkg)
        (cid,) = collection.find_cards("ID:html-in-answer")
        card = collection.get_card(cid)
        answer = card.answer()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer
        assert "<script" not in answer
        assert "What does &lt;b&gt;bold&lt;/b&gt; look like?" in card.question()
        assert "How to answer" not in answer
        assert "Example answer" not in answer
        assert card.answer_av_tags() == []


class TestAtomicWrite:
    def test_creates_parent_folders(self, deck: Deck, tmp_path: Path) -> None:
        """The output's folder is created when missing."""
        out = tmp_path / "a" / "b" / "deck.apkg"
        summary = package.build_package(deck, out, timestamp=T1)
        assert summary == package.Summary(out, 3, 3, 2, out.stat().st_size)

    def test_failed_write_leaves_old_file(
        self, deck: Deck, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A failure while writing leaves the existing file and no temporary file behind."""
        out = tmp_path / "deck.apkg"
        out.write_bytes(b"old release")

        def fail(self: object, file: str, timestamp: float) -> None:
            Path(file).write_bytes(b"half")
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(package.genanki.Package, "write_to_file", fail)
        with pytest.raises(BuildError, match="No space left on device"):
            package.build_package(deck, out, timestamp=T1)
        assert out.read_bytes() == b"old release"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]

    def test_output_is_not_private(self, deck: Deck, tmp_path: Path) -> None:
        """The .apkg gets the usual permissions, not the temporary file's 0600."""
        out = tmp_path / "deck.apkg"
        package.build_package(deck, out, timestamp=T1)
        umask = os.umask(0)
        os.umask(umask)
        assert out.stat().st_mode & 0o777 == 0o666 & ~umask
