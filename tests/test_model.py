"""Tests for deckgen.model: the rules Anki imposes on names and tags, slugs, questions."""

from __future__ import annotations

import pytest

from deckgen.model import deck_name_problem, normalise_question, slugify, tag_problem


class TestRules:
    @pytest.mark.parametrize(
        ("text", "slug"),
        [
            ("Dependency Injection", "dependency-injection"),
            ("Async & Performance", "async-performance"),
            ("snake_case words", "snake-case-words"),
            ("Ünïcode Wörds", "ünïcode-wörds"),
            ("!!!", ""),
        ],
    )
    def test_slugify(self, text: str, slug: str) -> None:
        """Slugs are lowercase words joined by single hyphens."""
        assert slugify(text) == slug

    @pytest.mark.parametrize("tag", ["fastapi", "a::b::c", "c++", "ünï", "a:b"])
    def test_tags_anki_keeps(self, tag: str) -> None:
        """Tags Anki stores unchanged are accepted."""
        assert tag_problem(tag) is None

    @pytest.mark.parametrize(
        "tag", ["", "a b", "a\u3000b", "a\tb", "a\x01b", "::a", "a::", "a::::b"]
    )
    def test_tags_anki_would_change(self, tag: str) -> None:
        """Tags Anki would split, strip or rename are refused."""
        assert tag_problem(tag) is not None

    @pytest.mark.parametrize("name", ["FastAPI", "Interview::FastAPI", "a:b", "Ünï::x y"])
    def test_deck_names_anki_keeps(self, name: str) -> None:
        """Deck names Anki imports unchanged are accepted."""
        assert deck_name_problem(name) is None

    @pytest.mark.parametrize("name", [" A", "A ", "A :: B", "A::", "::A", "A:::B", "A\x01"])
    def test_deck_names_anki_would_change(self, name: str) -> None:
        """Deck names Anki would trim or rename are refused."""
        assert deck_name_problem(name) is not None

    def test_normalise_question(self) -> None:
        """Case, spacing and punctuation do not make a question different."""
        assert normalise_question("What is  DI, and why?") == normalise_question(
            "what is di and why"
        )
        assert normalise_question("What is DI?") != normalise_question("What is DO?")
