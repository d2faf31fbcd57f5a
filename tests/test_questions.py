"""The shipped FastAPI bank: covering the whole seed, shaped for spaced repetition, valid,
and right on a real Anki card.

Most checks read the bank with plain ``yaml.safe_load``, so they judge the text as written;
the three tests at the end build the deck with deckgen itself.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection
from conftest import DATA, ROOT, ImportPackage, build_apkg

from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.diff import load_snapshot, release_notes
from deckgen.model import Deck

QUESTIONS = ROOT / "questions.yaml"
FIRST_EDITION_SOURCE = DATA / "valid" / "fastapi-first-edition.yaml"
SEED_QUESTIONS = 24
# Notes of the first edition: users have studied them, so each must stay (maybe retired).
FIRST_EDITION = [
    "api-versioning",
    "async-vs-sync-endpoints",
    "authentication",
    "background-tasks",
    "database-integration",
    "define-a-route",
    "dependency-injection",
    "error-handling",
    "fastapi-performance",
    "fastapi-type-hint-advantages",
    "interactive-docs",
    "middleware",
    "openapi-specification",
    "request-vs-response-models",
    "response-serialization",
    "securing-the-app",
    "testing-fastapi",
    "validation-error-response",
    "websockets",
    "what-is-fastapi",
    "what-is-pydantic",
    "when-to-choose-fastapi",
    "where-validation-happens",
]
DRILL_TAG = "drill"
CARDS_PER_NOTE = {"basic": 1, "type-in": 1, "reversed": 2}  # cloze: one per cloze number

CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")
CODE_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)

Note = dict[str, Any]


def load_notes() -> list[Note]:
    bank = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [note for topic in bank["topics"] for note in topic["questions"]]


NOTES = load_notes()


def kind(note: Note) -> str:
    return str(note.get("kind", "basic"))


INTERVIEW = [note for note in NOTES if kind(note) == "basic" and not note.get("retired")]
DRILLS = [note for note in NOTES if DRILL_TAG in note.get("tags", [])]
CLOZES = [note for note in DRILLS if kind(note) == "cloze"]
TYPE_INS = [note for note in DRILLS if kind(note) == "type-in"]
REVERSED = [note for note in DRILLS if kind(note) == "reversed"]


def words(markdown: str) -> int:
    """Words a reader reads: code blocks left out, Markdown list bullets not counted."""
    prose = CODE_BLOCK.sub("", markdown)
    return sum(bool(re.search(r"\w", token)) for token in prose.split())


def cards(note: Note) -> int:
    if kind(note) == "cloze":
        return len(set(CLOZE_NUMBER.findall(note["text"])))
    return CARDS_PER_NOTE[kind(note)]


def ids(notes: list[Note]) -> list[str]:
    return [note["id"] for note in notes]


class TestSeedCoverage:
    def test_covers_every_seed_question(self) -> None:
        """Each question names the seed question(s) it covers; together they are 1..24, once."""
        covered = [
            int(n)
            for comment in re.findall(r"# seed (.*)", QUESTIONS.read_text(encoding="utf-8"))
            for n in re.findall(r"Q(\d+)", comment)
        ]
        assert sorted(covered) == list(range(1, SEED_QUESTIONS + 1))

    def test_seed_comments_mark_interview_cards(self) -> None:
        """Every `# seed` comment sits right above an interview card, and every one has one."""
        lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
        marked = [
            re.sub(r"^\s*- id: ", "", lines[i + 1])
            for i, line in enumerate(lines)
            if line.strip().startswith("# seed Q")
        ]
        assert marked == ids(INTERVIEW)

    def test_one_interview_card_per_distinct_question(self) -> None:
        """Seed questions 4 and 8 are the same, so 24 questions make 23 interview cards."""
        assert len(INTERVIEW) == SEED_QUESTIONS - 1

    @pytest.mark.parametrize(
        "wrong",
        [
            "OAuthLib",
            "automatic route generation",
            "while the response is still generated",
            "no built-in templating",
            "cannot drift",
            "anywhere",
        ],
    )
    def test_seed_and_first_edition_mistakes_are_not_repeated(self, wrong: str) -> None:
        """Claims the seed or the first edition got wrong appear nowhere in the deck."""
        assert wrong.lower() not in QUESTIONS.read_text(encoding="utf-8").lower()


class TestIdentity:
    def test_ids_are_unique(self) -> None:
        """No two notes share an id, whatever their kind."""
        assert [i for i, n in Counter(ids(NOTES)).items() if n > 1] == []

    def test_first_edition_notes_are_kept(self) -> None:
        """Users keep their progress: every first-edition id is still in the bank."""
        assert sorted(set(FIRST_EDITION) - set(ids(NOTES))) == []

    def test_first_edition_notes_stay_interview_cards(self) -> None:
        """A kept id keeps its kind, or Anki would see another note type under the same GUID."""
        assert {kind(n) for n in NOTES if n["id"] in FIRST_EDITION} == {"basic"}


class TestInterviewCards:
    @pytest.mark.parametrize("note", INTERVIEW, ids=ids(INTERVIEW))
    def test_complete(self, note: Note) -> None:
        """Every interview card has an answer, advice on answering and an example answer."""
        for field in ("answer", "how_to_answer", "example_answer"):
            assert note.get(field, "").strip(), field

    @pytest.mark.parametrize("note", INTERVIEW, ids=ids(INTERVIEW))
    def test_front_asks_one_question(self, note: Note) -> None:
        """The front is one line and one question, as an interviewer would ask it."""
        front = note["question"]
        assert "\n" not in front.strip()
        assert front.count("?") == 1
        assert front.endswith("?")

    @pytest.mark.parametrize("note", INTERVIEW, ids=ids(INTERVIEW))
    def test_short(self, note: Note) -> None:
        """Key points stay within about 50 words (code aside); advice and example stay brief."""
        assert words(note["answer"]) <= 55
        assert words(note["how_to_answer"]) <= 30
        assert words(note["example_answer"]) <= 75

    @pytest.mark.parametrize("note", INTERVIEW, ids=ids(INTERVIEW))
    def test_example_answer_does_not_restate_the_key_points(self, note: Note) -> None:
        """The example adds to the key points: it shares no run of six words with them."""

        def runs(text: str) -> set[tuple[str, ...]]:
            tokens = re.findall(r"[\w'`]+", CODE_BLOCK.sub("", text).lower())
            return {tuple(tokens[i : i + 6]) for i in range(len(tokens) - 5)}

        assert runs(note["answer"]) & runs(note["example_answer"]) == set()

    def test_not_tagged_drill(self) -> None:
        """Interview cards stay out of the drill tag, so suspending drills leaves them."""
        assert [n["id"] for n in INTERVIEW if DRILL_TAG in n.get("tags", [])] == []


class TestDrills:
    def test_every_non_basic_note_is_a_tagged_drill(self) -> None:
        """Drills are exactly the reversed, cloze and type-in notes, each tagged `drill`."""
        assert ids(DRILLS) == [n["id"] for n in NOTES if kind(n) != "basic"]

    def test_each_kind_is_used(self) -> None:
        """Terms are reversed, code and sentences are cloze, short names are typed in."""
        assert {kind(n) for n in DRILLS} == {"reversed", "cloze", "type-in"}

    @pytest.mark.parametrize("note", DRILLS, ids=ids(DRILLS))
    def test_short(self, note: Note) -> None:
        """A drill is one fact: a few dozen words at most, code aside."""
        text = " ".join(str(v) for k, v in note.items() if k not in {"id", "kind", "tags"})
        assert words(text) <= 45

    @pytest.mark.parametrize("note", CLOZES, ids=ids(CLOZES))
    def test_cloze_hides_one_fact(self, note: Note) -> None:
        """One cloze number per note (one card, one fact); no stray braces Anki would misread."""
        text = note["text"]
        markers = CLOZE_NUMBER.findall(text)
        assert set(markers) == {"1"}
        assert text.count("{{") == text.count("}}") == len(markers)

    @pytest.mark.parametrize("note", TYPE_INS, ids=ids(TYPE_INS))
    def test_type_in_answer_is_plain_and_short(self, note: Note) -> None:
        """A typed answer is compared character by character: short plain text, one line."""
        answer = note["answer"]
        assert isinstance(answer, str)
        assert re.fullmatch(r"[\w.-]+( [\w.-]+)*", answer), answer
        assert len(answer) <= 80
        assert note["question"].count("?") == 1

    @pytest.mark.parametrize("note", REVERSED, ids=ids(REVERSED))
    def test_reversed_sides_are_distinct_and_short(self, note: Note) -> None:
        """Both sides can be asked for: each is short, and they differ."""
        assert note["front"] != note["back"]
        assert words(note["front"]) <= 10
        assert words(note["back"]) <= 25


@pytest.fixture(scope="module")
def deck() -> Deck:
    return load_deck(QUESTIONS)


def test_imports_into_anki(
    deck: Deck, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """Every note imports with its cards, topic tag, drill tag and highlighted code."""
    apkg = tmp_path / "fastapi.apkg"
    build_apkg(deck, apkg, mod=1_700_000_000)
    log = import_package(apkg)
    expected_cards = sum(cards(note) for note in NOTES)
    assert (len(log.new), collection.note_count(), collection.card_count()) == (
        len(NOTES),
        len(NOTES),
        expected_cards,
    )
    topic_tags = {f"fastapi-interview-questions::{topic.tag}" for topic in deck.topics}
    drill_notes = 0
    highlighted = 0
    for nid in collection.find_notes(""):
        note = collection.get_note(nid)
        tags = set(note.tags)
        assert "fastapi" in tags
        assert len(tags & topic_tags) == 1, tags
        drill_notes += DRILL_TAG in tags
    for cid in collection.find_cards(""):
        answer = collection.get_card(cid).answer()
        assert "<script" not in answer
        highlighted += '<pre class="highlight"><code class="language-python">' in answer
    assert drill_notes == len(DRILLS)
    assert highlighted >= 5
    assert collection.decks.by_name("FastAPI Interview Questions") is not None


def test_committed_lock_is_current(tmp_path: Path) -> None:
    """questions.lock matches questions.yaml: `deckgen build --locked` succeeds on it."""
    result = build(QUESTIONS, output=tmp_path / "deck.apkg", locked=True, now=0)
    assert result.release.up_to_date
    assert not result.lock_written


def test_release_notes_from_the_first_edition_read_well() -> None:
    """`deckgen diff` lists every new and changed note under a short title with no cloze
    markers, HTML or code blocks in it."""
    notes = release_notes(load_snapshot(FIRST_EDITION_SOURCE), load_snapshot(QUESTIONS))
    added = len(NOTES) - len(FIRST_EDITION)
    assert f"{added} added, {len(FIRST_EDITION)} changed, 0 retired, 0 removed." in notes
    items = dict(line[3:].split("`: ", 1) for line in notes.splitlines() if line.startswith("- `"))
    assert set(ids(NOTES)) <= set(items)
    for question_id in ids(NOTES):
        title = items[question_id].split(" (Question", 1)[0]  # changed: the fields follow
        assert 0 < len(title) <= 100, question_id
        assert "{{" not in title, question_id
        assert "&lt;" not in title, question_id
        assert title.count("`") % 2 == 0, question_id


def test_second_edition_updates_the_first_in_anki(
    tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """A first-edition user keeps every card and its progress; the drills arrive as new."""
    editions = []
    for number, source in enumerate((FIRST_EDITION_SOURCE, QUESTIONS), start=1):
        folder = tmp_path / f"edition-{number}"  # each build writes its lock beside the source
        folder.mkdir()
        shutil.copy(source, folder / "questions.yaml")
        release = build(folder / "questions.yaml", output=folder / "deck.apkg", now=number * 1000)
        editions.append(release.path)

    assert len(import_package(editions[0]).new) == len(FIRST_EDITION)
    collection.decks.select(collection.decks.id_for_name("FastAPI Interview Questions"))  # type: ignore[arg-type]
    for _ in range(5):
        card = collection.sched.getCard()
        assert card is not None
        collection.sched.answerCard(card, 3)
    studied = collection.db.all("select id, nid, ivl, due, queue from cards where reps > 0")
    assert len(studied) == 5
    first_cards = sorted(collection.find_cards(""))

    log = import_package(editions[1])
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (
        len(NOTES) - len(FIRST_EDITION),
        len(FIRST_EDITION),
        0,
    )
    assert (collection.note_count(), collection.card_count()) == (
        len(NOTES),
        sum(cards(note) for note in NOTES),
    )
    assert collection.db.all("select id, nid, ivl, due, queue from cards where reps > 0") == studied
    assert set(first_cards) <= set(collection.find_cards(""))
    for question_id in FIRST_EDITION:
        assert len(collection.find_notes(f"ID:{question_id}")) == 1, question_id
