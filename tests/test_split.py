"""Splitting a bank file into a folder bank and joining it back: the same notes, checked in
Anki's own backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import DATA, ROOT, ImportPackage

from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.errors import SourceError
from deckgen.lock import read_lock
from deckgen.split import (
    LayoutError,
    bank_difference,
    join_bank,
    split_bank,
    topic_file_names,
)

T1, T2 = 1_700_000_000, 1_800_000_000
LOCAL_TAG = "my-own-tag"
FASTAPI_TOPICS = [
    "fundamentals.yaml",
    "routing.yaml",
    "validation.yaml",
    "dependencies.yaml",
    "async.yaml",
    "realtime.yaml",
    "security.yaml",
    "middleware-errors.yaml",
    "openapi.yaml",
]


@pytest.fixture
def fastapi(tmp_path: Path) -> Path:
    """A copy of deckgen's FastAPI bank and its lock."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("questions.yaml", "questions.lock"):
        shutil.copy(ROOT / name, repo / name)
    return repo / "questions.yaml"


@pytest.fixture
def media_bank(tmp_path: Path) -> Path:
    """A copy of the media test bank, its images and sounds beside it."""
    shutil.copytree(DATA / "media", tmp_path / "media")
    return tmp_path / "media" / "bank.yaml"


def tag_every_note(col: Collection) -> None:
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        note.tags.append(LOCAL_TAG)
        col.update_note(note)


class TestInAnki:
    def test_folder_build_imports_as_no_change(
        self,
        fastapi: Path,
        tmp_path: Path,
        collection: Collection,
        import_package: ImportPackage,
    ) -> None:
        """A file build, then the split folder's build, later: Anki adds and updates nothing,
        and the user's own tags stay on every note."""
        first = build(fastapi, output=tmp_path / "file.apkg", now=T1)
        assert len(import_package(first.path).new) == 73
        tag_every_note(collection)
        guids = {collection.get_note(n).guid for n in collection.find_notes("")}

        layout = split_bank(fastapi, tmp_path / "bank")
        assert layout.lock == tmp_path / "bank" / "deck.lock"
        second = build(tmp_path / "bank", output=tmp_path / "folder.apkg", locked=True, now=T2)
        assert second.lock_written is False
        log = import_package(second.path)
        assert (len(log.new), len(log.updated)) == (0, 0)
        assert collection.note_count() == 73
        notes = [collection.get_note(n) for n in collection.find_notes("")]
        assert {n.guid for n in notes} == guids
        assert all(LOCAL_TAG in n.tags for n in notes)

    def test_media_bank_in_and_out_of_a_folder(
        self,
        media_bank: Path,
        tmp_path: Path,
        collection: Collection,
        import_package: ImportPackage,
    ) -> None:
        """A bank with images and sounds: split copies them; file, folder and joined builds
        import as one release."""
        first = build(media_bank, output=tmp_path / "file.apkg", now=T1)
        assert len(import_package(first.path).new) == 4
        split = split_bank(media_bank, tmp_path / "bank")
        assert sorted(p.relative_to(tmp_path / "bank").as_posix() for p in split.media) == [
            "img/flow.png",
            "img/photo.jpg",
            "img/wide.svg",
            "sounds/beep.wav",
        ]
        folder = build(tmp_path / "bank", output=tmp_path / "folder.apkg", locked=True, now=T2)
        joined = join_bank(tmp_path / "bank", tmp_path / "out" / "bank.yaml")
        assert len(joined.media) == 4
        again = build(joined.bank, output=tmp_path / "joined.apkg", locked=True, now=T2)
        for package in (folder.path, again.path):
            log = import_package(package)
            assert (len(log.new), len(log.updated)) == (0, 0)
        assert collection.media.have(
            next(iter(load_deck(media_bank).topics[0].questions[0].media.values())).name
        )


class TestSplit:
    def test_files_of_the_fastapi_bank(self, fastapi: Path, tmp_path: Path) -> None:
        """One file per topic, named after its tag; deck.yaml lists them in order; the schema
        files come along, as the bank names its schema."""
        layout = split_bank(fastapi, tmp_path / "bank")
        assert (layout.bank, layout.topics) == (tmp_path / "bank", 9)
        names = sorted(p.name for p in (tmp_path / "bank").iterdir())
        assert names == sorted(
            [
                "deck.yaml",
                "deck.lock",
                "deckgen-deck.schema.json",
                "deckgen-topic.schema.json",
                *FASTAPI_TOPICS,
            ]
        )
        deck_text = (tmp_path / "bank" / "deck.yaml").read_text()
        assert deck_text.startswith("# yaml-language-server: $schema=deckgen-deck.schema.json\n")
        assert deck_text.endswith("topics:\n" + "".join(f"  - {n}\n" for n in FASTAPI_TOPICS))
        routing = (tmp_path / "bank" / "routing.yaml").read_text()
        assert routing.startswith(
            "# yaml-language-server: $schema=deckgen-topic.schema.json\n"
            "name: Routing & API Design\ntag: routing\nquestions:\n  # seed Q3\n"
            "  - id: define-a-route\n"
        )
        assert bank_difference(load_deck(fastapi), load_deck(tmp_path / "bank")) is None

    def test_the_lock_is_carried(self, fastapi: Path, tmp_path: Path) -> None:
        """deck.lock holds what questions.lock held, under a new first line."""
        split_bank(fastapi, tmp_path / "bank")
        assert read_lock(tmp_path / "bank" / "deck.lock") == read_lock(fastapi.with_suffix(".lock"))
        assert (
            (tmp_path / "bank" / "deck.lock")
            .read_text()
            .startswith("# Lock file for this folder's bank, written by `deckgen build`.")
        )

    def test_split_then_join_gives_back_the_same_text(self, fastapi: Path, tmp_path: Path) -> None:
        """The text is cut and pasted, never rewritten: the round trip is byte for byte."""
        split_bank(fastapi, tmp_path / "bank")
        joined = join_bank(tmp_path / "bank", tmp_path / "out" / "questions.yaml")
        assert joined.bank.read_text() == fastapi.read_text()
        assert joined.lock is not None
        assert read_lock(joined.lock) == read_lock(fastapi.with_suffix(".lock"))
        assert joined.lock.read_text() == fastapi.with_suffix(".lock").read_text()

    def test_comments_between_topics_go_with_the_next(self, tmp_path: Path) -> None:
        """A comment left of the topics introduces the next topic, and moves with it."""
        bank = tmp_path / "b.yaml"
        bank.write_text(
            "deck: {name: D, id: 2059400340}\ntopics:\n"
            "  # First things\n  - name: One\n    questions:\n"
            "      - {id: a, question: A?, answer: A.}\n\n"
            "  # Then the rest\n  - name: Two\n    questions:\n"
            "      # the only one\n      - {id: b, question: B?, answer: B.}\n"
        )
        split_bank(bank, tmp_path / "bank")
        assert (tmp_path / "bank" / "one.yaml").read_text() == (
            "# First things\nname: One\nquestions:\n  - {id: a, question: A?, answer: A.}\n"
        )
        assert (tmp_path / "bank" / "two.yaml").read_text() == (
            "# Then the rest\nname: Two\nquestions:\n"
            "  # the only one\n  - {id: b, question: B?, answer: B.}\n"
        )
        assert (tmp_path / "bank" / "deck.yaml").read_text() == (
            "deck: {name: D, id: 2059400340}\ntopics:\n  - one.yaml\n  - two.yaml\n"
        )

    @pytest.mark.parametrize(
        ("tags", "names"),
        [
            (["basics", "Basics"], ["basics.yaml", "basics-2.yaml"]),
            (["lang::python", "lang-python"], ["lang-python.yaml", "lang-python-2.yaml"]),
            (["deck", "+++"], ["deck-2.yaml", "topic.yaml"]),
        ],
    )
    def test_file_names(self, tags: list[str], names: list[str]) -> None:
        """Names come from tags, unique even on file systems that ignore case."""
        assert topic_file_names(tags) == names


class TestRefusals:
    def test_folder_not_empty(self, fastapi: Path, tmp_path: Path) -> None:
        """A folder that holds anything is refused, and left as it was."""
        (tmp_path / "bank").mkdir()
        (tmp_path / "bank" / "x.txt").write_text("mine")
        with pytest.raises(LayoutError, match="is not an empty folder"):
            split_bank(fastapi, tmp_path / "bank")
        assert [p.name for p in (tmp_path / "bank").iterdir()] == ["x.txt"]

    def test_flow_topics(self, tmp_path: Path) -> None:
        """Topics written as a flow list cannot be cut apart; nothing is written."""
        bank = tmp_path / "b.yaml"
        bank.write_text(
            "deck: {name: D, id: 2059400341}\n"
            "topics: [{name: T, questions: [{id: a, question: A?, answer: A.}]}]\n"
        )
        with pytest.raises(LayoutError, match="block list"):
            split_bank(bank, tmp_path / "bank")
        assert not (tmp_path / "bank").exists()

    def test_dash_on_a_line_of_its_own(self, tmp_path: Path) -> None:
        """A topic whose '-' stands alone above its keys cannot be cut at its first line."""
        bank = tmp_path / "b.yaml"
        bank.write_text(
            "deck: {name: D, id: 2059400343}\ntopics:\n  -\n    name: T\n    questions:\n"
            "      - {id: a, question: A?, answer: A.}\n"
        )
        with pytest.raises(LayoutError) as raised:
            split_bank(bank, tmp_path / "bank")
        assert str(raised.value) == (
            "the topic on line 4 does not start on the line of its '-': write it as "
            "'- name: ...' to split the bank"
        )

    def test_anchor_used_by_another_topic(self, tmp_path: Path) -> None:
        """Text shared through an anchor cannot cross files: the result would not read back,
        so the split is refused with the problem it would have."""
        bank = tmp_path / "b.yaml"
        bank.write_text(
            "deck: {name: D, id: 2059400342}\ntopics:\n"
            "  - name: One\n    questions:\n      - {id: a, question: A?, answer: &same A.}\n"
            "  - name: Two\n    questions:\n      - {id: b, question: B?, answer: *same}\n"
        )
        with pytest.raises(LayoutError) as raised:
            split_bank(bank, tmp_path / "bank")
        assert str(raised.value) == (
            f"the result would not be a valid bank ({tmp_path / 'bank' / 'two.yaml'}:3:35: "
            "YAML syntax error: found undefined alias); nothing was written"
        )
        assert not (tmp_path / "bank").exists()

    def test_join_never_overwrites(self, fastapi: Path, tmp_path: Path) -> None:
        """An existing bank or lock where the join would write stops it."""
        split_bank(fastapi, tmp_path / "bank")
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "questions.lock").write_text("mine")
        with pytest.raises(LayoutError, match="already exists"):
            join_bank(tmp_path / "bank", tmp_path / "out" / "questions.yaml")
        assert [p.name for p in (tmp_path / "out").iterdir()] == ["questions.lock"]

    def test_join_into_the_folder_itself(self, fastapi: Path, tmp_path: Path) -> None:
        """The joined file would become one of the folder's topic files: refused."""
        split_bank(fastapi, tmp_path / "bank")
        with pytest.raises(LayoutError, match="outside"):
            join_bank(tmp_path / "bank", tmp_path / "bank" / "all.yaml")

    def test_join_media_above_a_topic_file(self, tmp_path: Path) -> None:
        """A nested topic file's media path that climbs out of its folder would need a new
        path in the joined file, which would change the note: refused."""
        shutil.copytree(DATA / "folders" / "valid", tmp_path / "bank")
        with pytest.raises(LayoutError, match="above the topic file's folder"):
            join_bank(tmp_path / "bank", tmp_path / "all.yaml")
        assert not (tmp_path / "all.yaml").exists()

    def test_an_invalid_bank_is_not_split(self, tmp_path: Path) -> None:
        """The bank must be valid first: its problems are raised as they are."""
        bank = tmp_path / "b.yaml"
        shutil.copy(DATA / "invalid" / "duplicate-key.yaml", bank)
        with pytest.raises(SourceError):
            split_bank(bank, tmp_path / "bank")
        assert not (tmp_path / "bank").exists()
