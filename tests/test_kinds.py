"""Every note kind, built and imported into Anki's own backend: the cards Anki makes of each,
what they show, the order new cards come in, and a kind that changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import SMALL, ImportPackage, package_notes

from deckgen.build import build
from deckgen.errors import KindChangeError
from deckgen.notetypes import KINDS

KINDS_BANK = SMALL.parent / "kinds.yaml"
T1, T2 = 1_700_000_000, 1_700_086_400


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    source = tmp_path / "kinds.yaml"
    source.write_bytes(KINDS_BANK.read_bytes())
    return source


@pytest.fixture
def imported(bank: Path, collection: Collection, import_package: ImportPackage) -> Collection:
    import_package(build(bank, output=bank.with_suffix(".apkg"), now=T1).path)
    return collection


def cards_of(col: Collection, question_id: str) -> list[tuple[int, str, str]]:
    """The cards of one note: ordinal, front and back as Anki renders them."""
    cards = [col.get_card(cid) for cid in col.find_cards(f"ID:{question_id}")]
    return sorted((c.ord, c.question(), c.answer()) for c in cards)


class TestCards:
    def test_cards_per_kind(self, imported: Collection) -> None:
        """Anki makes one card of a basic and a type-in note, two of a reversed note and
        one per cloze number; every note uses its kind's own note type."""
        counts = {
            qid: len(imported.find_cards(f"ID:{qid}"))
            for qid in ("list-vs-tuple", "term-gil", "def-keyword", "len-builtin")
        }
        assert counts == {"list-vs-tuple": 1, "term-gil": 2, "def-keyword": 2, "len-builtin": 1}
        types = {imported.get_note(nid).note_type()["id"] for nid in imported.find_notes("")}
        assert types == {kind.id for kind in KINDS.values()}

    def test_reversed_asks_both_ways(self, imported: Collection) -> None:
        """The reverse card asks for the front."""
        (_, front1, back1), (_, front2, back2) = cards_of(imported, "term-gil")
        assert '<div class="question">GIL</div>' in front1
        assert '<div class="question">The global interpreter lock</div>' in front2
        assert '<div class="answer">The global interpreter lock</div>' in back1
        assert '<div class="answer">GIL</div>' in back2
        assert "One thread runs Python bytecode" in back2

    def test_cloze_hides_one_deletion_per_card(self, imported: Collection) -> None:
        """Card 1 hides c1 and shows c2; card 2 shows c1 and hides c2 behind its hint."""
        (_, front1, back1), (_, front2, _) = cards_of(imported, "def-keyword")
        assert 'data-ordinal="1">[...]</span>' in front1
        assert '<span class="cloze-inactive" data-ordinal="2">return</span>' in front1
        assert 'data-ordinal="2">[a keyword]</span>' in front2
        assert '<span class="cloze-inactive" data-ordinal="1"><code>def</code></span>' in front2
        assert '<span class="cloze" data-ordinal="1"><code>def</code></span>' in back1
        assert "Lambdas have no" in back1
        assert "Lambdas have no" not in front1

    def test_type_in_asks_for_the_answer(self, imported: Collection) -> None:
        """Front and back carry the answer box Anki's reviewer fills in and compares with the
        Answer field, which holds the plain answer."""
        ((_, front, back),) = cards_of(imported, "len-builtin")
        assert "[[type:Answer]]" in front
        assert "[[type:Answer]]" in back
        assert "It calls <code>__len__</code>." in back
        (nid,) = imported.find_notes("ID:len-builtin")
        assert imported.get_note(nid)["Answer"] == "len"


class TestOrder:
    def test_new_cards_come_in_source_order(self, imported: Collection) -> None:
        """Anki's scheduler presents new notes in the bank's order, not all at 'New #0'."""
        imported.decks.select(imported.decks.id_for_name("Kinds"))  # type: ignore[arg-type]
        seen: list[str] = []
        for _ in range(6):
            card = imported.sched.getCard()
            assert card is not None
            note = card.note()
            if note["ID"] not in seen:
                seen.append(note["ID"])
            imported.sched.answerCard(card, 3)
        assert seen == ["list-vs-tuple", "term-gil", "def-keyword", "len-builtin"]
        dues = sorted(imported.db.list("select distinct due from cards where type = 0"))
        assert 0 not in dues


class TestKindChange:
    def test_changing_kind_is_refused(self, bank: Path, tmp_path: Path) -> None:
        """A question that changes kind would strand users' notes: the build refuses and
        says what to do instead, and writes nothing."""
        build(bank, output=tmp_path / "v1.apkg", now=T1)
        text = bank.read_text()
        bank.write_text(
            text.replace(
                "        kind: reversed\n        front: GIL\n"
                "        back: The global interpreter lock\n"
                "        extra: One thread runs Python bytecode at a time.\n",
                "        question: GIL?\n        answer: The global interpreter lock\n",
            )
        )
        lock_before = bank.with_suffix(".lock").read_bytes()
        with pytest.raises(KindChangeError, match=r"'term-gil' from reversed to basic.*new id"):
            build(bank, output=tmp_path / "v2.apkg", now=T2)
        assert not (tmp_path / "v2.apkg").exists()
        assert bank.with_suffix(".lock").read_bytes() == lock_before


RELEASE_01 = SMALL.parent.parent / "release-0.1"


class TestUpgradeFrom01:
    """tests/data/release-0.1 holds small.yaml built by deckgen 0.1: its package and its
    version 1 lock."""

    def test_rebuild_updates_no_note(
        self, tmp_path: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """A user who studied the 0.1 deck and tagged its notes imports the same bank built
        by this version over it: no note is new or updated, tags and fields stay as they
        were (basic notes render to the same HTML), and the lock keeps every mod."""
        import_package(RELEASE_01 / "small.apkg")
        nids = collection.find_notes("")
        collection.tags.bulk_add(nids, "my-tag")
        before = {
            nid: (collection.get_note(nid).fields, collection.get_note(nid).mod) for nid in nids
        }
        source = tmp_path / "small.yaml"
        source.write_bytes(SMALL.read_bytes())
        (tmp_path / "small.lock").write_bytes((RELEASE_01 / "small.lock").read_bytes())
        result = build(source, output=tmp_path / "small.apkg", now=T2)
        assert result.migrated_from == 1
        assert result.release.changed == ()
        log = import_package(result.path)
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
        after = {
            nid: (collection.get_note(nid).fields, collection.get_note(nid).mod) for nid in nids
        }
        assert after == before
        assert all("my-tag" in collection.get_note(nid).tags for nid in nids)

    def test_basic_fields_are_byte_identical(self, tmp_path: Path) -> None:
        """Basic notes carry the same field HTML, GUIDs and tags as 0.1 wrote."""
        source = tmp_path / "small.yaml"
        source.write_bytes(SMALL.read_bytes())
        (tmp_path / "small.lock").write_bytes((RELEASE_01 / "small.lock").read_bytes())
        result = build(source, output=tmp_path / "small.apkg", now=T2)
        assert package_notes(result.path) == package_notes(RELEASE_01 / "small.apkg")


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
