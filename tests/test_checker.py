"""Tests for deckgen.checker: every problem a source can have, and the deck a valid one gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import INVALID, SMALL, WriteSource

from deckgen.checker import check_deck, load_deck
from deckgen.errors import SourceError
from deckgen.model import Deck

INVALID_SOURCES = sorted(INVALID.glob("*.yaml"))


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SourceError) as raised:
        load_deck(path, name=path.name)
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize("source", INVALID_SOURCES, ids=lambda p: p.stem)
def test_invalid_source_reports_exact_problems(source: Path) -> None:
    """Each invalid fixture gives exactly the problems in its .expected file."""
    expected = source.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert problems_of(source) == expected


def test_every_invalid_fixture_has_expectations() -> None:
    """No fixture is silently skipped for want of an .expected file."""
    assert len(INVALID_SOURCES) >= 20
    assert all(s.with_suffix(".expected").exists() for s in INVALID_SOURCES)


class TestValidDeck:
    @pytest.fixture
    def deck(self) -> Deck:
        return load_deck(SMALL)

    def test_deck_fields(self, deck: Deck) -> None:
        """Deck-level keys are read as written."""
        assert (deck.name, deck.id) == ("Interview::Python Basics", 2059400191)
        assert deck.description == "A *small* deck for tests."
        assert deck.tags == ("python", "interview::practice")

    def test_topics_and_questions(self, deck: Deck) -> None:
        """Topics keep their order; a missing topic tag is derived from the name."""
        assert [(t.name, t.tag) for t in deck.topics] == [
            ("Data Types", "data-types"),
            ("Control Flow", "flow"),
        ]
        assert [q.id for _, q in deck.questions] == ["list-vs-tuple", "html-in-answer", "for-else"]
        assert deck.question_count == 3

    def test_optional_fields(self, deck: Deck) -> None:
        """Absent optional fields are None; present ones keep their Markdown."""
        first, second = deck.topics[0].questions
        assert first.how_to_answer == "Mention hashability."
        assert first.example_answer is not None
        assert first.example_answer.startswith("- Lists can change.")
        assert (second.how_to_answer, second.example_answer, second.tags) == (None, None, ())

    def test_note_tags(self, deck: Deck) -> None:
        """A note has the deck's tags, its topic under the deck's slug, then its own."""
        topic = deck.topics[0]
        assert deck.note_tags(topic, topic.questions[0]) == (
            "python",
            "interview::practice",
            "interview-python-basics::data-types",
            "containers",
        )

    def test_bom_and_crlf_give_the_same_deck(self, deck: Deck, write_source: WriteSource) -> None:
        """A BOM and CRLF line ends change nothing in the deck."""
        text = SMALL.read_text(encoding="utf-8")
        path = write_source("")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
        assert load_deck(path) == deck

    def test_aliases_of_text_are_allowed(self, write_source: WriteSource) -> None:
        """An anchor on a plain value may be reused."""
        path = write_source(
            "deck: {name: D, id: 12345}\n"
            "topics:\n"
            "  - name: T\n"
            "    questions:\n"
            "      - {id: a, question: One?, answer: &same Same answer.}\n"
            "      - {id: b, question: Two?, answer: *same}\n"
        )
        assert [q.answer for _, q in load_deck(path).questions] == ["Same answer."] * 2

    def test_null_optional_field_is_absent(self, write_source: WriteSource) -> None:
        """`how_to_answer:` with no value means no such section."""
        path = write_source(
            "deck: {name: D, id: 12345, description: }\n"
            "topics:\n"
            "  - name: T\n"
            "    questions:\n"
            "      - {id: a, question: One?, answer: A., how_to_answer: , example_answer: ' '}\n"
        )
        deck = load_deck(path)
        question = deck.topics[0].questions[0]
        assert (deck.description, question.how_to_answer, question.example_answer) == (None,) * 3


class TestCheckDeck:
    """check_deck: the problems and the part of the deck that has none, without raising."""

    def test_valid_source_has_no_problems(self) -> None:
        """A valid bank gives the deck load_deck gives, and no problem."""
        assert check_deck(SMALL) == (load_deck(SMALL), [])

    def test_questions_with_a_problem_are_left_out(self, write_source: WriteSource) -> None:
        """Only the questions a problem stands in are dropped; a topic left empty goes too."""
        path = write_source(
            "deck: {name: D, id: 12345}\n"
            "topics:\n"
            "  - name: T\n"
            "    questions:\n"
            "      - id: good\n"
            "        question: One?\n"
            "        answer: A.\n"
            "      - id: Bad-Id\n"
            "        question: Two?\n"
            "        answer: B.\n"
            "      - id: good\n"
            "        question: Three?\n"
            "        answer: C.\n"
            "      - id: fine\n"
            "        question: Four?\n"
            "        answer: D.\n"
            "  - name: U\n"
            "    questions:\n"
            "      - {id: alone, question: Five?, answer: E., unknown: key}\n"
        )
        deck, problems = check_deck(path, name="bank.yaml")
        assert [str(p) for p in problems] == [
            "bank.yaml:8:13: question id 'Bad-Id' must be a lowercase slug of a-z, 0-9 and "
            "single hyphens, such as 'bad-id'",
            "bank.yaml:11:13: duplicate question id 'good' (first on line 5)",
            "bank.yaml:19:50: unknown key 'unknown' in question",
        ]
        assert deck is not None
        assert [(t.name, [q.id for q in t.questions]) for t in deck.topics] == [
            ("T", ["good", "fine"])
        ]
        with pytest.raises(SourceError) as raised:
            load_deck(path, name="bank.yaml")
        assert list(raised.value.problems) == problems

    def test_a_broken_deck_mapping_keeps_the_topics(self, write_source: WriteSource) -> None:
        """When only the deck mapping is wrong, its topics come under a stand-in deck."""
        path = write_source(
            "deck: {name: 'A::'}\ntopics:\n  - name: T\n    questions:\n"
            "      - {id: a, question: One?, answer: A.}\n"
        )
        deck, problems = check_deck(path, name="bank.yaml")
        assert len(problems) == 2
        assert deck is not None
        assert (deck.name, deck.id, [q.id for _, q in deck.questions]) == ("bank", 0, ["a"])

    def test_unreadable_source(self, write_source: WriteSource) -> None:
        """YAML that does not parse gives its problem and no deck."""
        path = write_source("deck: [unclosed\n")
        deck, problems = check_deck(path, name="bank.yaml")
        assert deck is None
        assert [p.code.name for p in problems] == ["yaml-syntax"]
