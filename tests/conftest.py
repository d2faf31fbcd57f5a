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


@pytest.fixture(autouse=True, scope="session")
def _render_cache_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Builds in the tests (and the commands they start) keep their render cache in a folder
    of their own, never in the user's cache folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DECKGEN_CACHE_DIR", str(tmp_path_factory.mktemp("render-cache")))
        patch.delenv("DECKGEN_NO_CACHE", raising=False)
        yield


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


def study(col: Collection, deck: str, answers: int) -> None:
    """Answer ``answers`` cards of ``deck`` 'Good' with Anki's scheduler."""
    col.decks.select(col.decks.id_for_name(deck))  # type: ignore[arg-type]
    for _ in range(answers):
        card = col.sched.getCard()
        assert card is not None
        col.sched.answerCard(card, 3)


def progress(col: Collection) -> dict[int, tuple[int, int, int, int, int]]:
    """Card id -> note id, interval, due, queue and review count, for every reviewed card."""
    rows = col.db.all(
        "select c.id, c.nid, c.ivl, c.due, c.queue, count(r.id) from cards c"
        " join revlog r on r.cid = c.id group by c.id"
    )
    return {cid: (nid, ivl, due, queue, reviews) for cid, nid, ivl, due, queue, reviews in rows}
