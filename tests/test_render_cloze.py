"""Tests for cloze notes: deletions survive Markdown and highlighting whole, and the checks
that catch what Anki would read differently from what was written."""

from __future__ import annotations

import re

import pytest
from anki.collection import Collection

from deckgen.render import Renderer, cloze_numbers, cloze_problems


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


class TestRender:
    def test_answer_and_hint_are_inline_markdown(self, renderer: Renderer) -> None:
        """In prose the answer and the hint are Markdown, inside the markers."""
        assert renderer.inline("a {{c1::**b** `c`::a *hint*}} d", cloze=True) == (
            "a {{c1::<strong>b</strong> <code>c</code>::a <em>hint</em>}} d"
        )

    def test_emphasis_cannot_cross_a_cloze_edge(self, renderer: Renderer) -> None:
        """A '*' outside a cloze never pairs with one inside it, so tags stay nested."""
        assert renderer.inline("*a {{c1::b* c}}", cloze=True) == "*a {{c1::b* c}}"

    @pytest.mark.parametrize("answer", ["#", "1. x", "- x", "> x"])
    def test_answer_is_never_a_block(self, renderer: Renderer, answer: str) -> None:
        """An answer that looks like a heading or a list is text inside its line."""
        assert renderer.inline(f"a {{{{c1::{answer}}}}} b", cloze=True) == (
            f"a {{{{c1::{answer.replace('>', '&gt;')}}}}} b"
        )

    def test_code_span_keeps_the_cloze(self, renderer: Renderer) -> None:
        """A cloze inside inline code stays as written, inside the code."""
        assert renderer.inline("`import {{c1::Depends}}`", cloze=True) == (
            "<code>import {{c1::Depends}}</code>"
        )

    def test_code_block_markers_stay_whole(self, renderer: Renderer) -> None:
        """Highlighting splits no marker: they sit between tokens, around the answer."""
        html = renderer.block(
            "```python\nfrom fastapi import {{c1::Depends::a class}}\nx = {{c2::Dep}}ends\n```",
            cloze=True,
        )
        assert '<span class="kn">import</span> {{c1::<span class="n">Depends</span>' in html
        assert "::a class}}\n" in html
        assert '{{c2::<span class="n">Dep</span>}}<span class="n">ends</span>' in html
        text = re.sub(r"<[^>]+>", "", html)
        assert "from fastapi import {{c1::Depends::a class}}" in text

    def test_unknown_language_keeps_markers(self, renderer: Renderer) -> None:
        """Unhighlighted code is escaped, markers included."""
        html = renderer.block("```\na < {{c1::b}}\n```", cloze=True)
        assert html == '<pre class="highlight"><code>a &lt; {{c1::b}}\n</code></pre>'

    def test_nested_and_multiple_numbers(self, renderer: Renderer) -> None:
        """Nested clozes and {{c1,2::...}} come through, each answer rendered."""
        assert renderer.inline("{{c1::a {{c2::*b*}}}} {{c1,3::c}}", cloze=True) == (
            "{{c1::a {{c2::<em>b</em>}}}} {{c1,3::c}}"
        )

    def test_cloze_inside_math_stays_in_the_math(self, renderer: Renderer) -> None:
        """A cloze inside math is kept as written there, for Anki to find."""
        assert renderer.inline("$x = {{c1::y_1}}$", cloze=True) == r"\(x = {{c1::y_1}}\)"

    def test_math_inside_a_cloze(self, renderer: Renderer) -> None:
        """Math in an answer is math."""
        assert renderer.inline("{{c1::$a*b$}}", cloze=True) == r"{{c1::\(a*b\)}}"


def _cards(collection: Collection, html: str) -> list[tuple[str, str]]:
    cloze = collection.models.by_name("Cloze")
    assert cloze is not None
    note = collection.new_note(cloze)
    note["Text"] = html
    collection.add_note(note, collection.decks.id_for_name("Default") or 1)  # type: ignore[arg-type]
    return [(card.question(), card.answer()) for card in note.cards()]


@pytest.mark.parametrize(
    "source",
    [
        "`from fastapi import {{c1::Depends}}` declares a {{c2::*dependency*::what?}}.",
        "```python\nx = {{c1::compute}}(y)\nz = {{c2::x}} + 1\n```",
        "{{c1::a {{c2::b}}}} and $x={{c3::y}}$",
    ],
    ids=["prose-and-code-span", "code-block", "nested-and-math"],
)
def test_anki_finds_every_cloze(renderer: Renderer, collection: Collection, source: str) -> None:
    """Anki makes one card per cloze number in the rendered HTML, and hides each answer."""
    html = renderer.block(source, cloze=True)
    cards = _cards(collection, html)
    assert len(cards) == len(cloze_numbers(source)) == len(cloze_numbers(html))
    for question, answer in cards:
        assert "[...]" in question or "[what?]" in question
        assert "[...]" not in answer


def test_anki_hides_highlighted_code(renderer: Renderer, collection: Collection) -> None:
    """The answer inside a highlighted block is hidden on the front and shown on the back."""
    html = renderer.block("```python\nx = {{c1::compute}}(y)\n```", cloze=True)
    ((question, answer),) = _cards(collection, html)
    shown = re.sub(r"<[^>]*>", "", question)  # Anki keeps the answer in an attribute
    assert "compute" not in shown
    assert "[...]" in shown
    assert "compute" in re.sub(r"<[^>]*>", "", answer)


class TestNumbers:
    @pytest.mark.parametrize(
        ("source", "numbers"),
        [
            ("no cloze", set()),
            ("{{c2::a}} {{c1::b::h}}", {1, 2}),
            ("{{c1,3::a}}", {1, 3}),
            ("{{c1::a {{c4::b}}}}", {1, 4}),
            ("{{c1:a}} {{c::b}} {{c1::unclosed", set()),
            ("`{{c5::in code}}`", {5}),
        ],
    )
    def test_numbers_as_anki_reads_them(self, source: str, numbers: set[int]) -> None:
        """Every closed cloze counts, nested and in code too; malformed ones do not."""
        assert cloze_numbers(source) == numbers


class TestProblems:
    def test_valid_text_has_none(self) -> None:
        """Clozes in prose, code and math, with hints and nesting, are fine."""
        text = "`import {{c1::x}}` {{c2::a {{c3::b::h}}}} $y={{c4::z}}$\n\n```\n{{c5::q}}\n```"
        assert cloze_problems(text) == []

    @pytest.mark.parametrize(
        ("text", "offset", "message"),
        [
            ("no deletion here", 0, "no cloze deletion"),
            ("{{c0::a}}", 0, "numbers start at c1"),
            ("{{c1::a}} {{c3::b}}", 10, "cloze c3 comes without c2"),
            ("{{c1::a}} {{c4::b}}", 10, "without c2-c3"),
            ("{{c1::a", 0, "never closed"),
            ("{{c1:a}} {{c1::b}}", 0, "opens no cloze"),
            ("{{c1::f(x) {a}}}", 13, "before the '}' after it"),
            ("{{c1::a::b::c}}", 10, "a second '::'"),
            ("{{c1::a}} b}}", 11, "closes no cloze"),
            ("`{{c1::a` b}}", 1, "crosses the edge of a code span"),
            ("{{c1::`a}}`", 0, "crosses the edge of a code span"),
            ("{{c1::`std::vector`}}", 10, "inside code or math splits"),
            ("{{c1::x\n```\ncode}}\n```", 0, "crosses the edge of a code block"),
            ("{{c1::\n```\ncode\n```\n}}", 0, "cannot hold a code block"),
            ("$a {{c1::b$ c}}", 3, "crosses the edge of math"),
        ],
        ids=[
            "none",
            "zero",
            "gap",
            "gap-range",
            "unclosed",
            "malformed",
            "brace-before-close",
            "second-colons",
            "stray-closer",
            "leaves-code-span",
            "enters-code-span",
            "colons-in-code",
            "enters-code-block",
            "holds-code-block",
            "crosses-math",
        ],
    )
    def test_problem(self, text: str, offset: int, message: str) -> None:
        """Each problem is found, at the offset that points the author to it."""
        problems = cloze_problems(text)
        assert any(at == offset and message in text_ for at, text_ in problems), problems
