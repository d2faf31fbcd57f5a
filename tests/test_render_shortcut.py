"""The renderer's shortcut for plain text: its two quick tests decide as the one expression
that says what plain text is (tests/test_paths.py checks the shortcut's HTML)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.render.renderer import _MARKDOWN_CHARACTER_RE, _MARKDOWN_START_RE, _MARKDOWN_SYNTAX_RE

# Every character either expression looks for, digits for list numbers, and plain text.
text = st.text(st.sampled_from(list("\\`*_[]<>&!|~$\n-+#=.)0123456789 abcé🚀")), max_size=14)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(text=text)
def test_two_quick_tests_decide_as_the_expression(text: str) -> None:
    """Markdown syntax anywhere, or a start like a heading or a list item: both ways."""
    quick = bool(_MARKDOWN_CHARACTER_RE.search(text) or _MARKDOWN_START_RE.match(text))
    assert quick == bool(_MARKDOWN_SYNTAX_RE.search(text))


def test_a_start_counts_only_at_the_start() -> None:
    """A list number or a heading mark later in the text is plain text."""
    assert _MARKDOWN_START_RE.match("12) x")
    assert _MARKDOWN_START_RE.match("# x")
    assert not _MARKDOWN_CHARACTER_RE.search("x 12) y = z")
    assert not _MARKDOWN_START_RE.match("x 12) y = z")
