"""Markdown to the HTML of a card field, with code highlighted by CSS classes.

Raw HTML in the source is never passed through: it is escaped and shows as text, so a card
cannot carry a script. Highlighting happens at build time with Pygments, so cards need no
JavaScript and look the same offline in every Anki client.
"""

from __future__ import annotations

import functools
import html
import re

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
# Anki's desktop and mobile clients mark night mode with either class.
_NIGHT = (".nightMode", ".night_mode")
# Anki plays or speaks these tags wherever they appear in a rendered field.
_AV_TAG_RE = re.compile(r"\[(?=(?:sound|anki):)")

_FORMATTER = HtmlFormatter(nowrap=True)


class Renderer:
    """Turns Markdown into card HTML; create one and reuse it for a whole deck."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight_fence})
        self._md.enable(["table", "strikethrough"])

    def block(self, text: str) -> str:
        """Render Markdown that may hold paragraphs, lists and code blocks."""
        return _defuse_av_tags(self._md.render(text)).rstrip("\n")

    def inline(self, text: str) -> str:
        """Render one line of Markdown (emphasis, code, links) with no enclosing paragraph."""
        return _defuse_av_tags(self._md.renderInline(text.strip()))


def escape(text: str) -> str:
    """Escape plain text for an HTML field."""
    return html.escape(text, quote=True)


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


def _highlight_fence(code: str, lang: str, _attrs: str) -> str:
    lexer = _lexer(lang.strip().lower()) if lang.strip() else None
    if lexer is None:
        body = escape(code)
        language = f' class="language-{escape(lang.strip())}"' if lang.strip() else ""
    else:
        body = highlight(code, lexer, _FORMATTER)
        language = f' class="language-{escape(lang.strip())}"'
    return f'<pre class="highlight"><code{language}>{body}</code></pre>\n'


@functools.cache
def _lexer(name: str) -> Lexer | None:
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


def _defuse_av_tags(rendered: str) -> str:
    return _AV_TAG_RE.sub("&#91;", rendered) if "[" in rendered else rendered
