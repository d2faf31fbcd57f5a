"""deckgen.render.formatting: highlighted tokens to exactly the HTML Pygments' own formatter
writes, for every lexer, every code block of the banks and code with cloze markers in it."""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Iterable, Iterator

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_all_lexers
from pygments.token import STANDARD_TYPES, Token, _TokenType
from test_lexing import CODE, LANGUAGES

from deckgen.checker import load_deck
from deckgen.render import Renderer, code
from deckgen.render.formatting import css_classes, format_tokens
from deckgen.render.lexing import _SAMPLE

# Text where the formatter's cases meet: blank lines, runs of line breaks, no final line
# break, characters to escape (and quotes, which Pygments leaves as they are), Anki's tags.
EDGES = ["", "\n", "x", "\n\n", "a\n\n\nb", "  \n  x", "x\n\n", "<&>\"'", "[sound:a.mp3]"]
# Token types Pygments has no short name for: a class per level, or a class-less base.
MADE_UP = [Token.Name.Made.Up, Token.Made, Token.Text.Made, Token.Literal.String.Made]


def pygments_html(tokens: Iterable[tuple[_TokenType, str]]) -> str:
    """What Pygments' formatter writes, with the options deckgen used it with."""
    out = io.StringIO()
    HtmlFormatter(nowrap=True).format(iter(tokens), out)
    return out.getvalue()


def same_as_pygments(tokens: Iterable[tuple[_TokenType, str]]) -> str:
    """The formatter's HTML, checked against Pygments' for the same tokens."""
    tokens = list(tokens)
    html = format_tokens(iter(tokens))
    assert html == pygments_html(tokens), tokens
    return html


HIGHLIGHT = code.highlight_block  # deckgen's, even where a test replaces it


def pygments_highlight(text: str, language: str | None, *, cloze: bool = False) -> str:
    """A code block's HTML with the tokens and the formatting all Pygments' own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(code, "format_tokens", pygments_html)
        patch.setattr(code, "_tokens", lambda lexer, text: lexer.get_tokens(text))
        return HIGHLIGHT(text, language, cloze=cloze)


def lexers() -> Iterator[tuple[str, Lexer]]:
    """Every lexer Pygments has, sped up as deckgen uses it."""
    for _, aliases, *_ in get_all_lexers():
        try:
            lexer = code._lexer(aliases[0])
        except Exception:  # a lexer that needs a missing plugin
            continue
        if lexer is not None:
            yield aliases[0], lexer


def test_every_lexer_gives_pygments_html() -> None:
    """Every lexer Pygments has, on the sample, a code block and the edge cases: the tokens
    as get_tokens gives them, and their HTML as Pygments' formatter writes it."""
    checked = unwrapped = 0
    for alias, lexer in lexers():
        unwrapped += isinstance(code._tokens(lexer, ""), map)  # without get_tokens' generator
        for text in (_SAMPLE, CODE, *EDGES):
            try:
                tokens = list(lexer.get_tokens(text))
            except Exception:  # a lexer that fails on the text has nothing to format
                continue
            assert list(code._tokens(lexer, text)) == tokens, (alias, text)
            assert format_tokens(tokens) == pygments_html(tokens), (alias, text)
            checked += 1
    assert checked > 5000
    assert unwrapped > 500


kinds = st.sampled_from([*STANDARD_TYPES, *MADE_UP])
values = st.text(st.sampled_from(list("ab \t\n<&>\"'[λ🚀")), max_size=6)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(tokens=st.lists(st.tuples(kinds, values), max_size=30))
def test_any_token_stream_gives_pygments_html(tokens: list[tuple[_TokenType, str]]) -> None:
    """Streams at random: empty tokens, same-class neighbours, line breaks anywhere."""
    same_as_pygments(tokens)


@pytest.mark.parametrize("kind", [*STANDARD_TYPES, *MADE_UP])
def test_class_names_are_pygments_names(kind: _TokenType) -> None:
    """The CSS classes of each token type, the made-up ones included."""
    assert css_classes(kind) == HtmlFormatter()._get_css_classes(kind)


def test_breaks_inside_and_around_spans() -> None:
    """A span is closed at each line break and opened again on a line with text."""
    tokens = [(Token.Comment, "# a\n\n# b"), (Token.Comment, ""), (Token.Comment, " c")]
    assert same_as_pygments(tokens) == (
        '<span class="c"># a</span>\n\n<span class="c"># b c</span>\n'
    )


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every code block the renderer highlights check itself against Pygments; the
    languages of those checked are listed."""
    blocks: list[str] = []

    def check(text: str, language: str | None, *, cloze: bool = False) -> str:
        html = HIGHLIGHT(text, language, cloze=cloze)
        assert html == pygments_highlight(text, language, cloze=cloze)
        blocks.append(language or "")
        return html

    monkeypatch.setattr(code, "highlight_block", check)  # the renderer imports it when used
    return blocks


def render_bank(bank: str) -> None:
    render = Renderer()
    for _, question in load_deck(ROOT / bank).questions:
        for text in question.texts.values():
            render.block(text, cloze=question.kind == "cloze")


def test_the_deck_code_gives_pygments_html(checked: list[str]) -> None:
    """Every code block of the FastAPI deck, its cloze ones included."""
    render_bank("questions.yaml")
    assert len(checked) > 20
    assert "python" in checked


def test_a_code_heavy_bank_gives_pygments_html(
    checked: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every code block of the benchmark's code-heavy bank, in eleven languages."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        generate = importlib.import_module("generate")
    finally:
        sys.path.remove(str(ROOT / "bench"))
    bank = tmp_path_factory.mktemp("bank") / "code.yaml"
    bank.write_text(generate.bank(600, shape="code"), encoding="utf-8")
    render_bank(str(bank))
    assert len(checked) == 200
    assert len(set(checked)) == 11


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    language=st.sampled_from(LANGUAGES),
    cuts=st.lists(st.integers(0, len(CODE)), min_size=1, max_size=4, unique=True),
)
def test_cloze_markers_give_pygments_html(language: str, cuts: list[int]) -> None:
    """Code with deletions wherever they fall, between and inside tokens: the whole block as
    highlighting with Pygments' formatter gave it."""
    cuts.sort()
    marks = [f"{{{{c{i // 2 + 1}::" if i % 2 == 0 else "}}" for i in range(len(cuts))]
    pieces = [CODE[a:b] + mark for a, b, mark in zip([0, *cuts[:-1]], cuts, marks, strict=True)]
    text = "".join(pieces) + CODE[cuts[-1] :] + ("}}" if len(cuts) % 2 else "")
    expected = pygments_highlight(text, language, cloze=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(code, "format_tokens", same_as_pygments)
        assert code.highlight_block(text, language, cloze=True) == expected
    assert expected.count("{{c") == (len(cuts) + 1) // 2


@pytest.mark.parametrize("language", ["python", "bash", "text", "sql"])
def test_anki_tags_are_defused_after_formatting(language: str) -> None:
    """A [sound:] tag in code is shown, not played, as it was with Pygments' formatter."""
    text = "# [sound:a.mp3]\n'[anki:tts]'\n"
    html = code.highlight_block(text, language)
    assert html == pygments_highlight(text, language)
    assert "&#91;anki:tts]" in html
    assert "[sound:" not in html
