"""Tests for deckgen.render: Markdown to card HTML."""

from __future__ import annotations

import pytest

from deckgen.render import RENDER_VERSION, Renderer, escape, highlight_css, renderer_versions


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


class TestSafety:
    @pytest.mark.parametrize(
        "source",
        [
            "<script>alert(1)</script>",
            'x <img src=x onerror="alert(1)"> y',
            "<div>\n*a*\n</div>",
            "- <svg onload=alert(1)>",
            "<!-- <script> -->",
        ],
    )
    def test_tags_never_pass_through(self, renderer: Renderer, source: str) -> None:
        """Raw HTML, inline or as a block, comes out escaped, never as a tag."""
        html = renderer.block(source)
        assert "<script" not in html
        assert "<img" not in html
        assert "<svg" not in html
        assert "<div" not in html
        assert "&lt;" in html

    def test_markdown_inside_raw_html_still_counts(self, renderer: Renderer) -> None:
        """Escaped HTML is text, so Markdown around and inside it works as in prose."""
        assert renderer.block("<div>\n*a*\n</div>") == (
            "<p>&lt;div&gt;\n<em>a</em>\n&lt;/div&gt;</p>"
        )

    @pytest.mark.parametrize(
        "source",
        ["[x](javascript:alert(1))", "![x](javascript:alert(1))", "<javascript:alert(1)>"],
    )
    def test_script_links_stay_text(self, renderer: Renderer, source: str) -> None:
        """Links and images with a script-capable scheme are written as the text they were."""
        html = renderer.block(source)
        assert "href" not in html
        assert "src" not in html
        assert "javascript:alert(1)" in html


class TestFormat:
    def test_table_and_strikethrough(self, renderer: Renderer) -> None:
        """GitHub tables and strikethrough, written as markdown-it wrote them."""
        html = renderer.block("| a | b |\n|:--|--:|\n| 1 | ~~2~~ |")
        assert html == (
            '<table>\n<thead>\n<tr>\n<th style="text-align:left">a</th>\n'
            '<th style="text-align:right">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n'
            '<td style="text-align:left">1</td>\n<td style="text-align:right"><s>2</s></td>\n'
            "</tr>\n</tbody>\n</table>"
        )

    def test_nested_and_loose_lists(self, renderer: Renderer) -> None:
        """Tight items hold their text directly; a nested list starts on its own line."""
        assert renderer.block("- one\n  - two\n- three") == (
            "<ul>\n<li>one\n<ul>\n<li>two</li>\n</ul>\n</li>\n<li>three</li>\n</ul>"
        )
        assert renderer.block("3. a\n\n4. b") == (
            '<ol start="3">\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ol>'
        )

    def test_quotes_breaks_and_rules(self, renderer: Renderer) -> None:
        """Quotes are escaped, hard breaks and rules are XHTML-style, as before."""
        assert renderer.block('> "a"  \n> b\n\n---') == (
            "<blockquote>\n<p>&quot;a&quot;<br />\nb</p>\n</blockquote>\n<hr />"
        )

    def test_urls_are_percent_encoded(self, renderer: Renderer) -> None:
        """Link targets are percent-encoded, keeping escapes already there."""
        assert renderer.inline("[a](<x y/é%20>)") == '<a href="x%20y/%C3%A9%20">a</a>'

    def test_code_block_at_the_end_ends_its_line(self, renderer: Renderer) -> None:
        """A code block that ends the field still ends with a newline inside <code>."""
        assert (
            renderer.block("a\n\n    x")
            == '<p>a</p>\n<pre class="highlight"><code>x\n</code></pre>'
        )

    def test_headings_and_images(self, renderer: Renderer) -> None:
        """Headings, and images with their alt text (formatting dropped) and title."""
        assert renderer.block("## A *b*") == "<h2>A <em>b</em></h2>"
        assert renderer.inline('![a *b* `c`](x.png "t")') == (
            '<img src="x.png" alt="a b c" title="t" />'
        )


class TestRobustness:
    @pytest.mark.parametrize(
        ("source", "kept"),
        [
            ("> " * 100_000 + "end", "end"),
            ("- " * 100_000 + "end", "end"),
            ("1. " * 66_000 + "end", "end"),
            ("[" * 200_000, "[" * 1000),
            ("$a " * 66_000, "$a $a"),
            ("\\(" * 100_000, "(" * 1000),
            ("{{c1::" * 30_000 + "end" + "}}" * 30_000, "{{c1::end}}"),
        ],
        ids=["quotes", "bullets", "numbers", "brackets", "dollars", "parens", "clozes"],
    )
    def test_pathological_fields_render(self, renderer: Renderer, source: str, kept: str) -> None:
        """200 KB of deep nesting or unclosed openers renders, all of it (no crash, no
        recursion limit, no hang; markdown-it-pyrs crashed the interpreter on the first)."""
        assert kept in renderer.block(source, cloze=True)


def test_renderer_versions_name_the_libraries() -> None:
    """The lock records the parser's and the highlighter's installed versions."""
    versions = renderer_versions()
    assert set(versions) == {"pyromark", "pygments"}
    assert all(v[0].isdigit() for v in versions.values())
    assert isinstance(RENDER_VERSION, int)
