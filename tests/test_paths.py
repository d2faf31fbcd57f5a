"""Faster paths give the same output as the plain ones: parallel rendering, the plain-text
shortcut, and the bench generator's banks are valid input."""

from __future__ import annotations

import random
import sys

import pytest
from conftest import ROOT

from deckgen.checker import load_deck
from deckgen.model import Deck
from deckgen.notes import make_notes
from deckgen.render import Renderer
from deckgen.render.renderer import _MARKDOWN_SYNTAX_RE

sys.path.insert(0, str(ROOT / "bench"))
import generate


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Deck:
    path = tmp_path_factory.mktemp("bench") / "bank.yaml"
    path.write_text(generate.bank(250), encoding="utf-8")
    return load_deck(path)


def test_generated_bank_is_valid(generated: Deck) -> None:
    """The benchmark's banks are valid deckgen sources of the requested size."""
    assert (generated.question_count, len(generated.topics)) == (250, 3)


def test_generator_is_deterministic() -> None:
    """The same size gives the same bank."""
    assert generate.bank(30) == generate.bank(30)


def test_parallel_rendering_is_identical(generated: Deck) -> None:
    """Rendering in two worker processes gives exactly the notes of one process."""
    assert make_notes(generated, jobs=2) == make_notes(generated, jobs=1)


@pytest.mark.parametrize("seed", range(5))
def test_plain_text_shortcut_matches_the_parser(seed: int) -> None:
    """Text that skips the Markdown parser renders exactly as the parser would render it."""
    renderer = Renderer()
    rng = random.Random(seed)
    alphabet = "abcXYZ 0123456789.,;:'\"()?/-+=#%$@^{}"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(500)]
    for text in texts:
        # The parser itself, without the shortcut.
        expected = renderer._render(text, cloze=False, media=None).rstrip("\n")
        assert renderer.block(text) == expected, text
    # Enough of them took the shortcut for the comparison to mean something.
    assert sum(not _MARKDOWN_SYNTAX_RE.search(t.strip()) for t in texts) > 100
