"""deckgen.render.lexing: the sped-up regex lexers give Pygments' own tokens."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexer import RegexLexer
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.token import Keyword

from deckgen.render.lexing import _SAMPLE, _first_characters, _only_calls_the_loop, fast_lexer

# The languages of the benchmark's code-heavy bank and of the FastAPI deck.
LANGUAGES = ["python", "javascript", "typescript", "sql", "bash", "rust", "go", "java", "json"]
LANGUAGES += ["yaml", "c", "html", "css", "toml", "ini", "http", "console", "pycon", "text"]
CODE = """\
from fastapi import Depends, FastAPI

app = FastAPI()  # the app


@app.get("/items/{item_id}")
async def read(item_id: int, q: str | None = None) -> dict[str, object]:
    '''Docstring with "quotes" and \\escapes.'''
    return {"id": item_id, "q": q, "n": 0x1F + 1e-3, "s": f"{item_id!r:>4}"}
"""
# Text of every kind of character a code block holds, for random blocks.
characters = st.sampled_from(list("abcXYZ019_ \t\n\"'`#/*-+=<>()[]{}:;,.\\$@%&|!?~^λé🚀"))


def tokens(lexer: object, text: str) -> object:
    try:
        return list(lexer.get_tokens(text))  # type: ignore[attr-defined]
    except Exception as e:  # a lexer that fails fails alike
        return type(e).__name__


def pair(alias: str) -> tuple[object, object]:
    return get_lexer_by_name(alias), fast_lexer(get_lexer_by_name(alias))


@pytest.mark.parametrize("alias", LANGUAGES)
def test_common_languages_are_sped_up_to_the_same_tokens(alias: str) -> None:
    """The languages of real banks: the same tokens as Pygments for code and the sample."""
    stock, fast = pair(alias)
    if isinstance(stock, RegexLexer) and alias in ("python", "javascript", "sql", "rust", "c"):
        assert "get_tokens_unprocessed" in vars(fast)  # these do take the fast path
    for text in (CODE, _SAMPLE, "", "\n", "x"):
        assert tokens(fast, text) == tokens(stock, text)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(alias=st.sampled_from(LANGUAGES), text=st.text(characters, max_size=300))
def test_random_text_gives_the_same_tokens(alias: str, text: str) -> None:
    """Text at random, errors and unclosed strings included."""
    stock, fast = pair(alias)
    assert tokens(fast, text) == tokens(stock, text)


def test_every_lexer_gives_the_same_tokens() -> None:
    """Every lexer Pygments has, on the sample and a code block: the same tokens, whether it
    takes the fast path or keeps Pygments' loop."""
    sped = 0
    for _, aliases, *_ in get_all_lexers():
        if not aliases:
            continue
        try:
            stock, fast = pair(aliases[0])
        except Exception:  # a lexer that needs a missing plugin
            continue
        sped += "get_tokens_unprocessed" in vars(fast)
        for text in (_SAMPLE, CODE):
            assert tokens(fast, text) == tokens(stock, text), aliases[0]
    assert sped > 450


def own_loop(lexer: RegexLexer, text: str) -> object:
    """A lexer's own lexing that runs RegexLexer's loop and changes a token."""
    for pos, kind, value in RegexLexer.get_tokens_unprocessed(lexer, text):
        yield pos, (Keyword if value == "x" else kind), value


def own_check(lexer: RegexLexer, text: str) -> object:
    """One that also uses the name for something else than its loop."""
    assert isinstance(lexer, RegexLexer)
    yield from RegexLexer.get_tokens_unprocessed(lexer, text)


def own_state(lexer: RegexLexer, text: str) -> object:
    """One that sets a global, which a copy with other globals would set elsewhere."""
    global LAST_TEXT
    LAST_TEXT = text
    yield from RegexLexer.get_tokens_unprocessed(lexer, text)


LAST_TEXT = ""


def test_a_lexer_that_wraps_the_loop_gets_the_fast_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """C's lexer runs RegexLexer's loop, then makes some names types: its own lexing runs,
    with the fast loop inside; a function that uses RegexLexer otherwise is left alone."""
    assert _only_calls_the_loop(own_loop)
    assert not _only_calls_the_loop(own_check)
    assert not _only_calls_the_loop(own_state)
    assert not _only_calls_the_loop(len)
    fast = fast_lexer(get_lexer_by_name("c"))
    assert "get_tokens_unprocessed" in vars(fast)
    text = "size_t n = sizeof(int8_t); FILE *f;\n"
    expected = tokens(get_lexer_by_name("c"), text)
    assert (Keyword.Type, "size_t") in expected  # type: ignore[operator]
    monkeypatch.setattr(RegexLexer, "get_tokens_unprocessed", None)  # Pygments' loop is not run
    assert tokens(fast, text) == expected


PIECES = [
    "a", "ab", "[a-c]", "[^a]", r"\d", r"\w+", r"\s*", ".", "(?i:k)", "x?", "y*", "z+",
    "(?=b)", "(?!c)", "(?<=a)", "^", "$", r"\b", "(a|bc|)", "(?:d|e)f", "(?>g)", "h{2,3}",
    "i{0,2}", "(?i)", "[.-/]", r"\n", "K", "ß", "λ", "(?s:.)", r"\u212a",
]  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=4),
    text=st.text(st.sampled_from(list("abcdefghikKzyxλßs\n .-/\u212a1_")), max_size=8),
)
def test_a_rule_is_tried_wherever_it_can_match(pieces: list[str], text: str) -> None:
    """Wherever a pattern matches, consuming text or not, the analysis lets it be tried."""
    source = "".join(pieces)
    if "(?i)" in source:
        source = "(?i)" + source.replace("(?i)", "")
    pattern = re.compile(source, re.MULTILINE)
    starts = _first_characters(pattern)
    for pos in range(len(text) + 1):
        if pattern.match(text, pos) is None or starts is None:
            continue
        assert pos < len(text), source  # only a pattern that can match nothing matches at end
        assert any(test(text[pos]) for test in starts), (source, text, pos)


def test_starts_are_narrow_for_plain_rules() -> None:
    """The point of it: a keyword or a comment is only tried where its first letter is."""
    starts = _first_characters(re.compile(r"(?:def|class)\b|#.*$", re.MULTILINE))
    assert starts is not None
    assert {c for c in "dc#xy" if any(t(c) for t in starts)} == set("dc#")
    assert _first_characters(re.compile(r"\s*")) is None  # can match nothing
    assert _first_characters(re.compile(r"(a)?\1c")) is None  # a back reference first
