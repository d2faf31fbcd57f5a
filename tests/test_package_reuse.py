"""A package rebuilt after a one-note edit: the same ids and SQLite pages, the previous
build's compressed chunks reused, and the same bytes as a build from nothing."""

from __future__ import annotations

import random
import sqlite3
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import SMALL, ImportPackage, progress, study
from genanki.apkg_schema import APKG_SCHEMA

from deckgen import package, zipwriter
from deckgen.checker import load_deck
from deckgen.model import Deck
from deckgen.notes import RenderedNote, make_notes
from deckgen.zipwriter import DeflateChunks

T1, T2 = 1_700_000_000, 1_700_100_000
QUESTIONS = 3000
EDITED = "q1500"
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "queue",
    "worker",
    "router",
    "header",
    "payload",
    "stream",
    "record",
]


def bank(path: Path, *, edited: bool) -> Path:
    """A bank of a few thousand questions (a collection of ~20 chunks); ``edited`` appends
    a word to one answer in the middle, as a typo fix would."""
    rng = random.Random(7)
    lines = ["deck:", "  name: Big", "  id: 1234567890", "topics:", "  - name: All"]
    lines.append("    questions:")
    for i in range(QUESTIONS):
        answer = " ".join(rng.choice(WORDS) for _ in range(150))
        if edited and f"q{i}" == EDITED:
            answer += " Edited."
        lines += [
            f"      - id: q{i}",
            f"        question: Question {i}?",
            f"        answer: {answer}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


Release = tuple[Deck, list[RenderedNote], dict[str, int]]


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Release, Release]:
    """v1, every note at T1, and v2 with one answer edited at T2, as the lock dates them."""
    folder = tmp_path_factory.mktemp("banks")
    out = []
    for edited in (False, True):
        deck = load_deck(bank(folder / f"bank-{edited}.yaml", edited=edited))
        notes = make_notes(deck, jobs=1)
        mods = {n.question_id: T2 if edited and n.question_id == EDITED else T1 for n in notes}
        out.append((deck, notes, mods))
    return out[0], out[1]


def write(release: Release, out: Path, chunks: DeflateChunks | None = None) -> bytes:
    deck, notes, mods = release
    package.write_package(deck, notes, out, mods=mods, note_type_mods={"basic": T1}, chunks=chunks)
    return out.read_bytes()


def collection_of(apkg: Path, folder: Path) -> Path:
    path = folder / f"{apkg.stem}.anki2"
    with zipfile.ZipFile(apkg) as archive:
        path.write_bytes(archive.read("collection.anki2"))
    return path


class TestRebuild:
    def test_warm_builds_are_cold_bytes(
        self, releases: tuple[Release, Release], tmp_path: Path
    ) -> None:
        """v2 is the same bytes built with no cache, an empty one, its own chunks, or v1's;
        from v1's, nearly every chunk is reused."""
        v1, v2 = releases
        cold = write(v2, tmp_path / "cold.apkg")
        empty = DeflateChunks()
        assert write(v2, tmp_path / "empty.apkg", empty) == cold
        assert empty.reused == 0
        assert write(v2, tmp_path / "same.apkg", empty) == cold
        assert empty.compressed == 0
        chunks = DeflateChunks()
        write(v1, tmp_path / "v1.apkg", chunks)
        chunks = DeflateChunks.load(chunks.dump())
        assert write(v2, tmp_path / "warm.apkg", chunks) == cold
        assert chunks.reused + chunks.compressed > 15
        assert chunks.compressed == 2  # the chunks of the note's page and its card's

    def test_threads_do_not_change_the_package(
        self, releases: tuple[Release, Release], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The package is the same bytes compressed on one CPU or four."""
        _, v2 = releases
        monkeypatch.setattr(package, "available_cpus", lambda: 1)
        one = write(v2, tmp_path / "one.apkg")
        monkeypatch.setattr(package, "available_cpus", lambda: 4)
        monkeypatch.setattr(zipwriter, "THREADS_FROM", 0)
        assert write(v2, tmp_path / "four.apkg") == one

    def test_an_edit_keeps_ids_and_pages(
        self, releases: tuple[Release, Release], tmp_path: Path
    ) -> None:
        """Editing one answer changes no note or card id, and two pages of the collection:
        the edited note's and its card's."""
        v1, v2 = releases
        write(v1, tmp_path / "v1.apkg")
        write(v2, tmp_path / "v2.apkg")
        before = collection_of(tmp_path / "v1.apkg", tmp_path).read_bytes()
        after = collection_of(tmp_path / "v2.apkg", tmp_path).read_bytes()
        assert len(before) == len(after)
        pages = range(0, len(before), 4096)
        assert sum(before[p : p + 4096] != after[p : p + 4096] for p in pages) == 2
        ids = []
        for name in ("v1", "v2"):
            with sqlite3.connect(tmp_path / f"{name}.anki2") as db:
                ids.append(
                    db.execute(
                        "SELECT n.id, c.id FROM notes n JOIN cards c ON c.nid = n.id ORDER BY n.id"
                    ).fetchall()
                )
        assert ids[0] == ids[1]

    def test_indexes_follow_the_tables(
        self, releases: tuple[Release, Release], tmp_path: Path
    ) -> None:
        """The schema is genanki's text, and every index page comes after every table page."""
        _, v2 = releases
        write(v2, tmp_path / "v2.apkg")
        with sqlite3.connect(collection_of(tmp_path / "v2.apkg", tmp_path)) as db:
            sql = [row[0] for row in db.execute("SELECT sql FROM sqlite_master ORDER BY rowid")]
            pages = db.execute(
                "SELECT m.type, min(s.pageno), max(s.pageno) FROM dbstat s"
                " JOIN sqlite_master m ON m.name = s.name GROUP BY m.type"
            ).fetchall()
        statements = [s.strip() for s in APKG_SCHEMA.split(";") if s.strip()]
        assert sql == statements
        extent = {kind: (low, high) for kind, low, high in pages}
        assert extent["table"][1] < extent["index"][0]


def write_small(out: Path, mods: dict[str, int], *, text: str | None = None) -> Path:
    source = out.with_suffix(".yaml")
    source.write_text(text or SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    deck = load_deck(source)
    notes = make_notes(deck, jobs=1)
    package.write_package(
        deck,
        notes,
        out,
        mods={n.question_id: mods.get(n.question_id, T1) for n in notes},
        note_type_mods={"basic": T1},
    )
    return out


class TestAnki:
    def test_a_package_of_many_chunks_imports(
        self,
        releases: tuple[Release, Release],
        tmp_path: Path,
        collection: Collection,
        import_package: ImportPackage,
    ) -> None:
        """Anki reads a collection deflated in ~20 chunks, the edit included."""
        _, v2 = releases
        write(v2, tmp_path / "v2.apkg")
        with zipfile.ZipFile(tmp_path / "v2.apkg") as archive:
            assert archive.getinfo("collection.anki2").file_size > 16 * zipwriter.CHUNK
        assert len(import_package(tmp_path / "v2.apkg").new) == QUESTIONS
        (edited,) = collection.find_notes(f"ID:{EDITED}")
        assert collection.get_note(edited)["Answer"].endswith(" Edited.</p>")

    def test_ids_taken_by_earlier_releases_are_not_a_problem(
        self, tmp_path: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """v2 adds a question in front, so its new note and card get ids that v1's notes
        and cards have in the collection: Anki adds it with ids of its own, keeps every
        note and card it had, with their progress."""
        v1 = write_small(tmp_path / "v1.apkg", {})
        assert len(import_package(v1).new) == 3
        study(collection, "Interview::Python Basics", 2)
        studied = progress(collection)
        notes, cards = sorted(collection.find_notes("")), sorted(collection.find_cards(""))
        first = SMALL.read_text(encoding="utf-8").replace(
            "    questions:\n",
            "    questions:\n      - id: new-one\n        question: New?\n        answer: Yes.\n",
            1,
        )
        v2 = write_small(tmp_path / "v2.apkg", {"new-one": T2}, text=first)
        with sqlite3.connect(collection_of(v2, tmp_path)) as db:
            (new_id,) = db.execute("SELECT id FROM notes ORDER BY id LIMIT 1").fetchone()
        assert new_id == notes[0]  # the collision this test is about
        log = import_package(v2)
        assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (1, 3, 0)
        assert sorted(collection.find_notes(""))[:3] == notes
        assert sorted(collection.find_cards(""))[:3] == cards
        assert progress(collection) == studied
        (added,) = collection.find_notes("ID:new-one")
        assert added not in notes
        assert collection.card_count() == 4
