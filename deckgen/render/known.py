"""Code blocks whose HTML a build already has, so that it need not load a lexer again.

A rebuild renders only the notes whose source changed, in a process that has loaded no
lexer: loading one (compiling its rules) costs more than the rest of rendering a note. An
edited note usually keeps its code blocks as they were, and their HTML is in the note's
previous fields. :func:`learn_code` finds it there: it renders the previous text again with
a stand-in for each code block, and takes the blocks' HTML from the previous fields where
everything around the stand-ins matches exactly. Where anything differs, it learns nothing,
and the block is highlighted as usual: the HTML is the same either way (tests/test_known.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import unescape

from deckgen.render.writer import escape_text

# (code, language, cloze) -> the block's HTML, as highlight_block writes it.
KNOWN_CODE: dict[tuple[str, str | None, bool], str] = {}
MAX_KNOWN = 1_000  # blocks: a rebuild needs those of the few notes it renders
_STAND_IN = "\ufdd3"  # a noncharacter: the parser drops any from the source
_BLOCK = '(<pre class="highlight"><code[^>]*>.*?</code></pre>\n?)'
_TAG = re.compile(r"<[^>]*>")


class Recorder:
    """A code highlighter that writes a stand-in and notes the block it stands for."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str | None, bool]] = []

    def for_fields(self, cloze: bool) -> Callable[[str, str | None], str]:
        def record(code: str, language: str | None) -> str:
            self.blocks.append((code, language, cloze))
            return _STAND_IN

        return record


def _holds(html: str, block: tuple[str, str | None, bool]) -> bool:
    """Whether ``html`` is a code block's whose text is the block's code, in its language."""
    code, language, _ = block
    attribute = f' class="language-{escape_text(language)}"' if language else ""
    if not (
        html.startswith(f'<pre class="highlight"><code{attribute}>')
        and html.endswith("</code></pre>\n")
    ):
        return False
    return unescape(_TAG.sub("", html)).strip("\n") == code.strip("\n")


def learn_code(
    templates: Sequence[str], fields: Sequence[str], blocks: Sequence[tuple[str, str | None, bool]]
) -> int:
    """Remember the HTML of ``blocks``, the code blocks in order, from ``fields``: the
    fields as rendered, ``templates`` the same fields rendered with stand-ins for the
    blocks. Return how many blocks were learnt."""
    if len(templates) != len(fields):
        return 0
    found: list[str] = []
    for template, field in zip(templates, fields, strict=True):
        if _STAND_IN not in template:
            continue
        parts = template.split(_STAND_IN)
        pattern = _BLOCK.join(re.escape(part) for part in parts)
        match = re.fullmatch(pattern, field, re.S)
        if match is None:
            return 0
        html = list(match.groups())
        if not parts[-1] and not html[-1].endswith("\n"):
            html[-1] += "\n"  # a field's last line break is trimmed; the block has one
        found += html
    if len(found) != len(blocks) or not all(map(_holds, found, blocks)):
        return 0
    if len(KNOWN_CODE) + len(found) > MAX_KNOWN:
        KNOWN_CODE.clear()
    KNOWN_CODE.update(zip(blocks, found, strict=True))
    return len(found)
