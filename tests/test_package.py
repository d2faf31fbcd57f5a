"""Tests for deckgen.package, checked by importing the package into Anki's own backend."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import SMALL, ImportPackage, build_apkg

from deckgen import notes, package
from deckgen.checker import load_deck
from deckgen.model import Deck
from deckgen.notetypes import BASIC, KINDS

T1 = 1_700_000_000


@pytest.fixture(scope="module")
def deck() -> Deck:
    return load_deck(SMALL)


@pytest.fixture
def apkg(deck: Deck, tmp_path: Path) -> Path:
    return build_apkg(deck, tmp_path / "small.apkg", mod=T1)


def note_by_id(col: Collection, question_id: str) -> dict[str, str]:
    (nid,) = col.find_notes(f"ID:{question_id}")
    note = col.get_note(nid)
    return dict(note.items()) | {"tags": " ".join(sorted(note.tags))}


class TestGuid:
    def test_depends_on_deck_and_question_id_only(self) -> None:
        """The GUID is stable for a question id and differs across ids and decks."""
        guid = notes.note_guid(2059400191, "list-vs-tuple")
        assert guid == notes.note_guid(2059400191, "list-vs-tuple")
        assert guid != notes.note_guid(2059400191, "for-else")
        assert guid != notes.note_guid(2059400192, "list-vs-tuple")

    def test_editing_text_keeps_guids(self, deck: Deck) -> None:
        """Changing every text of a question does not change its note's GUID."""
        edited = Deck(deck.name, deck.id, "other", (), deck.topics[::-1])
        before = {n.question_id: n.guid for n in notes.make_notes(deck)}
        after = {n.question_id: n.guid for n in notes.make_notes(edited)}
        assert before == after


class TestNotes:
    def test_fields_in_note_type_order(self, deck: Deck) -> None:
        """Each note's fields follow FIELDS, rendered to HTML."""
        note = notes.make_notes(deck)[0]
        fields = dict(zip(BASIC.field_names, note.fields, strict=True))
        assert (
            fields["Question"] == "How does a <code>list</code> differ from a <code>tuple</code>?"
        )
        assert fields["Answer"].startswith("<p>A list is <strong>mutable</strong>")
        assert fields["How to answer"] == "<p>Mention hashability.</p>"
        assert fields["Topic"] == "Data Types"
        assert fields["ID"] == "list-vs-tuple"

    def test_absent_sections_are_empty_fields(self, deck: Deck) -> None:
        """Without how_to_answer/example_answer the fields are empty, so no section shows."""
        note = notes.make_notes(deck)[1]
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
        notetype = collection.models.get(BASIC.id)  # type: ignore[arg-type]
        assert notetype is not None
        assert notetype["name"] == BASIC.type_name
        assert [f["name"] for f in notetype["flds"]] == list(BASIC.field_names)

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

    def test_sound_tags_outside_markdown_are_shown(
        self, deck: Deck, tmp_path: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """A [sound:] or [anki:tts] tag in a topic's name is text on the card, not audio."""
        from dataclasses import replace

        name = "[sound:alarm.mp3] and [anki:tts lang=en_US]hello[/anki:tts]"
        loud = replace(deck, topics=(replace(deck.topics[0], name=name), *deck.topics[1:]))
        import_package(build_apkg(loud, tmp_path / "loud.apkg", mod=T1))
        card = collection.get_card(collection.find_cards("ID:list-vs-tuple")[0])
        assert (card.question_av_tags(), card.answer_av_tags()) == ([], [])
        assert "&#91;sound:alarm.mp3]" in card.question()


class TestWritePackage:
    @pytest.fixture(autouse=True)
    def folder(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def bytes_of(self, deck: Deck, mod: int = T1) -> bytes:
        out = self.tmp_path / f"deck-{mod}.apkg"
        size = build_apkg(deck, out, mod=mod).stat().st_size
        data = out.read_bytes()
        assert len(data) == size
        return data

    def test_same_input_same_bytes(self, deck: Deck) -> None:
        """The package depends on its inputs only, not on the clock."""
        assert self.bytes_of(deck) == self.bytes_of(deck)

    def test_mod_changes_bytes(self, deck: Deck) -> None:
        """The modification time is part of the package (so the test above can fail)."""
        assert self.bytes_of(deck, T1) != self.bytes_of(deck, T1 + 1)

    def test_zip_is_compressed_with_fixed_metadata(self, deck: Deck) -> None:
        """Entries are deflated and carry a fixed date and mode, in a fixed order."""
        with zipfile.ZipFile(io.BytesIO(self.bytes_of(deck))) as archive:
            infos = archive.infolist()
            assert [i.filename for i in infos] == ["collection.anki2", "media"]
            assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
            assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
            assert {i.external_attr >> 16 for i in infos} == {0o644}
            assert infos[0].compress_size < infos[0].file_size / 2
            assert archive.read("media") == b"{}"

    def test_sqlite_header_names_a_fixed_library_version(self, deck: Deck) -> None:
        """The SQLite version stamp in the header is fixed, whatever library wrote it."""
        with zipfile.ZipFile(io.BytesIO(self.bytes_of(deck))) as archive:
            header = archive.read("collection.anki2")[:100]
        assert header.startswith(b"SQLite format 3\x00")
        assert int.from_bytes(header[96:100], "big") == 3_045_000


class TestNoteTypeState:
    @pytest.mark.parametrize("name", sorted(KINDS))
    def test_matches_the_note_type(self, name: str) -> None:
        """The lock's view of each note type is the note type that is written."""
        kind = KINDS[name]
        state = package.note_type_state(kind)
        model = package.note_type(kind)
        assert (state.id, state.fields, state.templates) == (
            model.model_id,
            tuple(f["name"] for f in model.fields),
            tuple(t["name"] for t in model.templates),
        )

    def test_style_hash_covers_templates_and_css(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Changing a template or deckgen's CSS changes the style hash."""
        from dataclasses import replace

        from deckgen import notetypes

        base = BASIC.style_hash()
        template = replace(BASIC.templates[0], back="changed")
        assert replace(BASIC, templates=(template,)).style_hash() != base
        monkeypatch.setattr(notetypes, "CARD_CSS", notetypes.CARD_CSS + "p {}")
        assert BASIC.style_hash() != base

    def test_frozen_ids(self) -> None:
        """Released note types keep their ids, field and template names forever."""
        frozen = {
            name: (kind.id, kind.field_names, kind.template_names) for name, kind in KINDS.items()
        }
        assert frozen == {
            "basic": (
                1733046101,
                ("Question", "Answer", "How to answer", "Example answer", "Topic", "ID"),
                ("Question and answer",),
            ),
            "reversed": (
                1733046102,
                ("Front", "Back", "Extra", "Topic", "ID"),
                ("Front to back", "Back to front"),
            ),
            "cloze": (1733046103, ("Text", "Extra", "Topic", "ID"), ("Cloze",)),
            "type-in": (
                1733046104,
                ("Question", "Answer", "Extra", "Topic", "ID"),
                ("Type the answer",),
            ),
        }


@pytest.mark.parametrize(
    ("deck_id", "question_id"),
    [(2059400191, "list-vs-tuple"), (2, "a"), (2**63 - 1, "x-1-y"), (1900000001, "c-123")],
)
def test_note_guid_is_genankis(deck_id: int, question_id: str) -> None:
    """deckgen's GUID is genanki's guid_for(deck_id, question_id), as decks built before
    have it."""
    import genanki

    assert notes.note_guid(deck_id, question_id) == genanki.guid_for(deck_id, question_id)


def test_note_guid_is_genankis_for_many_ids() -> None:
    """Thousands of ids: GUIDs of every length, some whose leading two base-91 digits
    start with a zero digit (written two at a time, that digit must be dropped)."""
    import genanki

    pairs = [(deck_id, f"q-{n}") for deck_id in (1, 2059400191) for n in range(3_000)]
    mine = [notes.note_guid(deck_id, qid) for deck_id, qid in pairs]
    assert mine == [genanki.guid_for(deck_id, qid) for deck_id, qid in pairs]
    assert len({len(guid) for guid in mine}) > 1  # lengths vary: leading zeros were dropped
