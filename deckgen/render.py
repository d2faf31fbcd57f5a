"""Markdown to the HTML of a card field, with code highlighted by CSS classes.

Raw HTML in the source is never passed through: the HTML rules of the parser are off, so
tags are escaped and show as text, and a card cannot carry a script. Highlighting happens at
build time with Pygments, so cards need no JavaScript and look the same offline in every Anki
client. Parsing is markdown-it's Rust port; a one-line field with no Markdown syntax at all
(most "how to answer" lines) skips the parser and is only escaped.
"""

from __future__ import annotations

import functools
import html
import re

from markdown_it_pyrs import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
# CommonMark without its two raw-HTML rules, plus GitHub's tables and strikethrough.
MARKDOWN_RULES = (
    "blockquote",
    "code",
    "fence",
    "heading",
    "hr",
    "lheading",
    "list",
    "paragraph",
    "reference",
    "autolink",
    "backticks",
    "emphasis",
    "entity",
    "escape",
    "image",
    "link",
    "newline",
    "strikethrough",
    "table",
)
# Anki's desktop and mobile clients mark night mode with either class.
_NIGHT = (".nightMode", ".night_mode")
# Anki plays or speaks these tags wherever they appear in a rendered field.
_AV_TAG_RE = re.compile(r"\[(?=(?:sound|anki):)")
# Code blocks as the parser writes them: fenced (with or without a language) and indented.
_CODE_BLOCK_RE = re.compile(r'<pre><code(?: class="language-([^"]*)")?>(.*?)</code></pre>', re.S)
_PARAGRAPH_RE = re.compile(r"<p>((?:(?!</?p>).)*)</p>\n?", re.S)
# Text with none of these can only be a plain paragraph.
_MARKDOWN_SYNTAX_RE = re.compile(r"[\\`*_\[\]<>&!|~\n]|^(?:[-+#=]|\d{1,9}[.)])")

_FORMATTER = HtmlFormatter(nowrap=True)


class Renderer:
    """Turns Markdown into card HTML; create one and reuse it for a whole deck."""

    def __init__(self) -> None:
        self._md = MarkdownIt("zero").enable_many(list(MARKDOWN_RULES))  # type: ignore[arg-type]

    def block(self, text: str) -> str:
        """Render Markdown that may hold paragraphs, lists and code blocks."""
        stripped = text.strip()
        if not _MARKDOWN_SYNTAX_RE.search(stripped):
            return f"<p>{_escape_text(stripped)}</p>" if stripped else ""
        rendered = self._md.render(text)
        if "<pre><code" in rendered:
            rendered = _CODE_BLOCK_RE.sub(_highlight_block, rendered)
        return _defuse_av_tags(rendered).rstrip("\n")

    def inline(self, text: str) -> str:
        """Render one line of Markdown (emphasis, code, links) without a paragraph around it;
        text that is more than a paragraph (a list, say) is rendered as a block."""
        rendered = self.block(text)
        paragraph = _PARAGRAPH_RE.fullmatch(rendered)
        return paragraph.group(1) if paragraph else rendered


def escape(text: str) -> str:
    """Escape plain text for an HTML field, with Anki's sound and TTS tags shown, not played."""
    return _defuse_av_tags(html.escape(text, quote=True))


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


def _escape_text(text: str) -> str:
    """Escape text exactly as the Markdown renderer escapes a paragraph's text."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def _highlight_block(match: re.Match[str]) -> str:
    language, code = match.group(1), match.group(2)
    lexer = _lexer(language.lower()) if language else None
    body = highlight(html.unescape(code), lexer, _FORMATTER) if lexer else code
    language_class = f' class="language-{language}"' if language else ""
    return f'<pre class="highlight"><code{language_class}>{body}</code></pre>'


@functools.cache
def _lexer(name: str) -> Lexer | None:
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


def _defuse_av_tags(rendered: str) -> str:
    return _AV_TAG_RE.sub("&#91;", rendered) if "[" in rendered else rendered


def renderer_versions() -> dict[str, str]:
    """The versions of the libraries that make the HTML, for the lock's information."""
    from importlib.metadata import version

    return {name: version(name) for name in ("markdown-it-pyrs", "pygments")}
