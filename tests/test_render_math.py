"""Tests for math in Markdown: dollars and backslash delimiters become MathJax's, untouched."""

from __future__ import annotations

import pytest

from deckgen.render import Renderer


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("$x^2$", r"\(x^2\)"),
        ("$$\\sum_i x_i$$", r"\[\sum_i x_i\]"),
        (r"\(a_b\)", r"\(a_b\)"),
        (r"\[a_b\]", r"\[a_b\]"),
        ("$a*b*c$ and $a_b_c$", r"\(a*b*c\) and \(a_b_c\)"),
        (r"$\{a\} \\ b$", r"\(\{a\} \\ b\)"),
        ("$a<b & c>d$", r"\(a&lt;b &amp; c&gt;d\)"),
        ("*see $x*y$*", r"<em>see \(x*y\)</em>"),
        ("[$x$](u)", r'<a href="u">\(x\)</a>'),
    ],
    ids=[
        "inline",
        "display",
        "paren",
        "bracket",
        "no-emphasis",
        "backslashes",
        "escaped",
        "inside-emphasis",
        "link-text",
    ],
)
def test_math_is_kept_as_written(renderer: Renderer, source: str, html: str) -> None:
    """Math becomes \\(...\\) or \\[...\\], its content escaped and otherwise as written."""
    assert renderer.inline(source) == html


@pytest.mark.parametrize(
    "source",
    [
        "It costs $5.",
        "It costs $5 or $10.",
        "a $ b $ c",
        "$x $",
        "$x$5",
        r"\$x$",
        "a \\(\\) b",
    ],
    ids=[
        "dollar-digit",
        "two-prices",
        "spaced",
        "space-before-close",
        "digit-after-close",
        "escaped-dollar",
        "empty-parens",
    ],
)
def test_dollars_that_are_not_math(renderer: Renderer, source: str) -> None:
    """Pandoc's rule: a dollar opens before a non-space and closes after one, not before a
    digit; an escaped dollar is a dollar."""
    html = renderer.inline(source)
    assert r"\(" not in html
    assert r"\[" not in html


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("`$x$`", "<code>$x$</code>"),
        ("`a $x` b$", "<code>a $x</code> b$"),
        ("$a `b$` c", "$a <code>b$</code> c"),
        ("```\n$x$ \\(y\\)\n```", '<pre class="highlight"><code>$x$ \\(y\\)\n</code></pre>'),
    ],
    ids=["code-span", "opens-in-code", "closes-in-code", "code-block"],
)
def test_no_math_in_code(renderer: Renderer, source: str, html: str) -> None:
    """Code spans bind first: no math starts or ends inside one, nor in a code block."""
    assert renderer.inline(source) == html


def test_math_over_continuation_lines(renderer: Renderer) -> None:
    """Display math over several lines of a quote keeps its lines, without the '>' marks."""
    assert renderer.block("> $$\n> a\n> b\n> $$") == (
        "<blockquote>\n<p>\\[\na\nb\n\\]</p>\n</blockquote>"
    )


def test_math_cannot_play_sounds(renderer: Renderer) -> None:
    """Anki's [sound:] tags are defused inside math like everywhere else."""
    assert renderer.inline("$[sound:x.mp3]$") == r"\(&#91;sound:x.mp3]\)"
