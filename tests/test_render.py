"""Tests for deckgen.render: Markdown to card HTML."""

from __future__ import annotations

import pytest

from deckgen.render import Renderer, escape, highlight_css


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


class TestBlock:
    def test_paragraphs_lists_emphasis(self, renderer: Renderer) -> None:
        """Common Markdown becomes the usual HTML."""
        html = renderer.block("Some **bold** and *em*.\n\n- one\n- two\n\n1. first\n")
        assert html == (
            "<p>Some <strong>bold</strong> and <em>em</em>.</p>\n"
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n</ol>"
        )

    def test_raw_html_is_escaped(self, renderer: Renderer) -> None:
        """Raw HTML shows as text and never becomes a tag."""
        html = renderer.block("<script>alert(1)</script>\n\nx <b>y</b> & z")
        assert "<script" not in html
        assert "<b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "x &lt;b&gt;y&lt;/b&gt; &amp; z" in html

    def test_javascript_links_are_dropped(self, renderer: Renderer) -> None:
        """A javascript: link is not made a link."""
        assert "href" not in renderer.block("[x](javascript:alert(1))")

    def test_links(self, renderer: Renderer) -> None:
        """Ordinary links keep their target."""
        assert renderer.block("[docs](https://example.org/a?b=1&c=2)") == (
            '<p><a href="https://example.org/a?b=1&amp;c=2">docs</a></p>'
        )

    def test_fenced_code_is_highlighted_with_classes(self, renderer: Renderer) -> None:
        """A fenced block with a known language gets Pygments token classes."""
        html = renderer.block("```python\ndef f(x):\n    return '<x>'\n```")
        assert html.startswith('<pre class="highlight"><code class="language-python">')
        assert '<span class="k">def</span>' in html
        assert '<span class="nf">f</span>' in html
        assert "<span class=\"s1\">'&lt;x&gt;'</span>" in html
        assert "<x>" not in html

    @pytest.mark.parametrize("info", ["", "nosuchlanguage"])
    def test_fenced_code_without_known_language(self, renderer: Renderer, info: str) -> None:
        """Code with no or an unknown language is escaped, not highlighted."""
        html = renderer.block(f"```{info}\na < b && c\n```")
        assert "a &lt; b &amp;&amp; c" in html
        assert "<span" not in html

    def test_inline_code_is_escaped(self, renderer: Renderer) -> None:
        """Inline code keeps its characters, escaped."""
        assert renderer.block("Use `a<b>`.") == "<p>Use <code>a&lt;b&gt;</code>.</p>"

    def test_anki_sound_tags_are_defused(self, renderer: Renderer) -> None:
        """[sound:...] in the text is shown, not played."""
        html = renderer.block("Play [sound:x.mp3] or [anki:tts]hi[/anki:tts]")
        assert "[sound:" not in html
        assert "[anki:" not in html
        assert "&#91;sound:x.mp3]" in html


class TestInline:
    def test_no_paragraph(self, renderer: Renderer) -> None:
        """Inline rendering adds no <p> around one line."""
        assert renderer.inline("What is `x`?") == "What is <code>x</code>?"

    def test_escapes_html(self, renderer: Renderer) -> None:
        """Raw HTML in a question is shown as text."""
        assert renderer.inline("<b>bold</b>") == "&lt;b&gt;bold&lt;/b&gt;"


def test_escape() -> None:
    """Plain text is escaped for HTML, quotes included."""
    assert escape('a < b & "c"') == "a &lt; b &amp; &quot;c&quot;"


def test_escape_defuses_anki_tags_like_markdown_does(renderer: Renderer) -> None:
    """Plain text (a topic's name) shows Anki's sound and TTS tags as Markdown fields do."""
    text = "[sound:x.mp3] [anki:tts lang=en_US]hi[/anki:tts] [anki:play:q:0] [link](u)"
    assert escape(text) == (
        "&#91;sound:x.mp3] &#91;anki:tts lang=en_US]hi[/anki:tts] &#91;anki:play:q:0] [link](u)"
    )
    assert renderer.inline("[sound:x.mp3]") == escape("[sound:x.mp3]")


def test_highlight_css_has_light_and_night_rules() -> None:
    """The CSS styles token classes by day and in both night-mode spellings."""
    css = highlight_css()
    assert ".highlight .k {" in css
    assert ".nightMode .highlight .k, .night_mode .highlight .k {" in css
    assert "/*" not in css
