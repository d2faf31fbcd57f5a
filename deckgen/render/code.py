"""Code blocks highlighted at build time by Pygments, with CSS classes, so cards need no
JavaScript and look the same offline in every Anki client."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterator

from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Text, _TokenType
from pygments.util import ClassNotFound

from deckgen.render.cloze import strip_markers
from deckgen.render.formatting import format_tokens
from deckgen.render.lexing import fast_lexer
from deckgen.render.writer import defuse, escape_text

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
# Anki's desktop and mobile clients mark night mode with either class.
_NIGHT = (".nightMode", ".night_mode")

Tokens = Iterator[tuple[_TokenType, str]]
_KIND_VALUE = operator.itemgetter(1, 2)  # a lexer's (position, kind, value) -> (kind, value)


def highlight_block(code: str, language: str | None, *, cloze: bool = False) -> str:
    """A code block's HTML: highlighted if its language is known, escaped otherwise. With
    ``cloze``, cloze markers are kept whole between the tokens, where Anki finds them."""
    markers: list[tuple[int, str]] = []
    if cloze and "{{c" in code:
        code, markers = strip_markers(code)
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        body = _insert_escaped(code, markers)
    else:
        tokens = _tokens(lexer, code)
        if markers:
            lead = len(code) - len(code.lstrip("\n"))  # the lexer drops leading newlines
            tokens = _with_markers(tokens, [(max(0, at - lead), m) for at, m in markers])
        body = defuse(format_tokens(tokens))
    language_class = f' class="language-{escape_text(language)}"' if language else ""
    return f'<pre class="highlight"><code{language_class}>{body}</code></pre>\n'


def _tokens(lexer: Lexer, code: str) -> Tokens:
    """``lexer.get_tokens(code)``, without the generator it wraps the lexer's tokens in to
    drop their positions: a C-level ``map`` does that in a fraction of the time."""
    # What get_tokens does first (newlines, tabs, a final newline): a method not public.
    preprocess = getattr(lexer, "_preprocess_lexer_input", None)
    if preprocess is None or lexer.filters or type(lexer).get_tokens is not Lexer.get_tokens:
        return lexer.get_tokens(code)
    return map(_KIND_VALUE, lexer.get_tokens_unprocessed(preprocess(code)))


def _with_markers(tokens: Tokens, markers: list[tuple[int, str]]) -> Tokens:
    """Split tokens where markers go, and put each marker in as plain text (no span)."""
    pending = iter(markers)
    marker = next(pending, None)
    pos = 0
    for kind, value in tokens:
        while marker is not None and marker[0] < pos + len(value):
            cut = marker[0] - pos
            if cut > 0:
                yield kind, value[:cut]
                value, pos = value[cut:], marker[0]
            yield Text, marker[1]
            marker = next(pending, None)
        yield kind, value
        pos += len(value)
    while marker is not None:
        yield Text, marker[1]
        marker = next(pending, None)


def _insert_escaped(code: str, markers: list[tuple[int, str]]) -> str:
    pieces: list[str] = []
    last = 0
    for at, marker in markers:
        pieces += (escape_text(code[last:at]), escape_text(marker))
        last = at
    pieces.append(escape_text(code[last:]))
    return "".join(pieces)


@functools.cache
def _lexer(name: str) -> Lexer | None:
    try:
        return fast_lexer(get_lexer_by_name(name))
    except ClassNotFound:
        return None


def highlight_css() -> str:
    """The CSS for highlighted code, light by default and dark in Anki's night mode."""
    light = HtmlFormatter(style=LIGHT_STYLE)
    dark = HtmlFormatter(style=DARK_STYLE)
    dark_prefixes = [f"{night} .highlight" for night in _NIGHT]
    rules = [
        *light.get_background_style_defs(".highlight"),
        *light.get_token_style_defs(".highlight"),
        *dark.get_background_style_defs(dark_prefixes),
        *dark.get_token_style_defs(dark_prefixes),
    ]
    return "\n".join(re.sub(r"\s*/\*.*?\*/$", "", rule) for rule in rules) + "\n"
