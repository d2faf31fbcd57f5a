"""Shared fixtures: sample sources, and a fresh Anki collection to import packages into."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition, ImportResponse

from deckgen.model import Deck
from deckgen.notes import make_notes
from deckgen.package import write_package

DATA = Path(__file__).parent / "data"
INVALID = DATA / "invalid"
SMALL = DATA / "valid" / "small.yaml"
ROOT = Path(__file__).parent.parent

WriteSource = Callable[[str], Path]
ImportPackage = Callable[[Path], ImportResponse.Log]


def build_apkg(deck: Deck, out: Path, *, mod: int) -> Path:
    """Write ``deck`` as an .apkg with every note and the note type at ``mod``, no lock."""
    notes = make_notes(deck)
    mods = {note.question_id: mod for note in notes}
    types = {note.kind.name: mod for note in notes}
    write_package(deck, notes, out, mods=mods, note_type_mods=types)
    return out


@pytest.fixture
def small_copy(tmp_path: Path) -> Path:
    """A copy of the small valid bank in a fresh folder, so builds can write its lock."""
    path = tmp_path / "bank" / "small.yaml"
    path.parent.mkdir()
    path.write_bytes(SMALL.read_bytes())
    return path


@pytest.fixture
def write_source(tmp_path: Path) -> WriteSource:
    """Write YAML text to a fresh file and return its path."""
    counter = iter(range(1_000_000))

    def write(text: str) -> Path:
        path = tmp_path / f"source-{next(counter)}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    """An empty Anki collection, as a new user has."""
    col = Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()


@pytest.fixture
def import_package(collection: Collection) -> ImportPackage:
    """Import an .apkg into the collection with Anki's default options."""

    def do_import(apkg: Path) -> ImportResponse.Log:
        condition = ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER
        options = ImportAnkiPackageOptions(
            merge_notetypes=False,
            update_notes=condition,
            update_notetypes=condition,
            with_scheduling=False,
        )
        request = ImportAnkiPackageRequest(package_path=str(apkg), options=options)
        return collection.import_anki_package(request).log

    return do_import


def package_notes(apkg: Path) -> dict[str, tuple[str, str, int]]:
    """GUID -> fields, tags and mod of every note in a package."""
    import sqlite3
    import zipfile

    db_path = apkg.with_suffix(".anki2")
    with zipfile.ZipFile(apkg) as archive:
        db_path.write_bytes(archive.read("collection.anki2"))
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("select guid, flds, tags, mod from notes").fetchall()
    finally:
        db.close()
    return {guid: (flds, tags, mod) for guid, flds, tags, mod in rows}


class TestMath:
    def test_delimiters_reach_anki_intact(
        self, tmp_path: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """Math written with $ or \\( reaches the card as MathJax delimiters with its
        backslashes and underscores, a price in dollars stays text, and a cloze inside math
        makes its card."""
        source = tmp_path / "math.yaml"
        source.write_text(
            "deck:\n  name: Math\n  id: 2059400195\ntopics:\n  - name: Algebra\n"
            "    questions:\n"
            "      - id: inline\n"
            "        question: 'What is $x_1^2$ when it costs $5 and $6?'\n"
            "        answer: '$$\\sum_{i=1}^n i$$ and \\(a_b\\)'\n"
            "      - id: cloze-in-math\n"
            "        kind: cloze\n"
            "        text: '\\(E = {{c1::mc^2}}\\)'\n"
        )
        import_package(build(source, output=tmp_path / "math.apkg", now=T1).path)
        (inline,) = collection.find_cards("ID:inline")
        card = collection.get_card(inline)
        assert r"\(x_1^2\)" in card.question()
        assert "costs $5 and $6?" in card.question()
        assert r"\[\sum_{i=1}^n i\]" in card.answer()
        assert r"\(a_b\)" in card.answer()
        (cloze,) = collection.find_cards("ID:cloze-in-math")
        front = collection.get_card(cloze).question()
        assert r"\(E = " in front
        assert "mc^2" not in front
