"""The shipped FastAPI bank: valid, covering the whole seed, and right on a real Anki card."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from anki.collection import Collection
from conftest import ROOT, ImportPackage, build_apkg

from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.model import Deck

QUESTIONS = ROOT / "questions.yaml"
SEED_QUESTIONS = 24


@pytest.fixture(scope="module")
def deck() -> Deck:
    return load_deck(QUESTIONS)


def test_covers_every_seed_question() -> None:
    """Each question names the seed question(s) it covers; together they are 1..24, once."""
    covered = [
        int(n)
        for comment in re.findall(r"# seed (.*)", QUESTIONS.read_text(encoding="utf-8"))
        for n in re.findall(r"Q(\d+)", comment)
    ]
    assert sorted(covered) == list(range(1, SEED_QUESTIONS + 1))


def test_one_note_per_distinct_question(deck: Deck) -> None:
    """Seed questions 4 and 8 are the same, so 24 questions make 23 notes."""
    assert deck.question_count == SEED_QUESTIONS - 1


def test_every_question_is_complete(deck: Deck) -> None:
    """Every card has an answer, advice on answering and an example answer."""
    for _, question in deck.questions:
        assert question.how_to_answer, question.id
        assert question.example_answer, question.id


@pytest.mark.parametrize(
    "wrong",
    ["OAuthLib", "automatic route generation", "while the response is still generated"],
)
def test_seed_mistakes_are_not_repeated(wrong: str) -> None:
    """Claims the seed gets wrong appear nowhere in the deck, except as a correction."""
    text = QUESTIONS.read_text(encoding="utf-8")
    assert wrong.lower() not in text.lower().replace("nothing to do with oauthlib", "")


def test_imports_into_anki(
    deck: Deck, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """All 23 notes import, each tagged by topic, with highlighted code and nothing unescaped."""
    apkg = tmp_path / "fastapi.apkg"
    build_apkg(deck, apkg, mod=1_700_000_000)
    log = import_package(apkg)
    assert (len(log.new), collection.note_count(), collection.card_count()) == (23, 23, 23)
    topic_tags = {f"fastapi-interview-questions::{topic.tag}" for topic in deck.topics}
    highlighted = 0
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        tags = set(card.note().tags)
        assert "fastapi" in tags
        assert len(tags & topic_tags) == 1, tags
        answer = card.answer()
        assert "<script" not in answer
        highlighted += '<pre class="highlight"><code class="language-python">' in answer
    assert highlighted >= 5
    assert collection.decks.by_name("FastAPI Interview Questions") is not None


def test_committed_lock_is_current(tmp_path: Path) -> None:
    """questions.lock matches questions.yaml: `deckgen build --locked` succeeds on it."""
    result = build(QUESTIONS, output=tmp_path / "deck.apkg", locked=True, now=0)
    assert result.release.up_to_date
    assert not result.lock_written
