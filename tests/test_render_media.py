"""Tests for media references: found by the parser, rendered with their packed names."""

from __future__ import annotations

import pytest

from deckgen.render import MediaRef, Renderer, find_media, media_kind


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


class TestFind:
    def test_images_and_sounds_with_offsets(self) -> None:
        """Each reference: url as written, offset of its '!', kind by extension."""
        text = "See ![a](img/a.PNG) and hear ![](sounds/hello.mp3)."
        assert find_media(text) == [
            MediaRef("img/a.PNG", 4, "image"),
            MediaRef("sounds/hello.mp3", 29, "audio"),
        ]

    @pytest.mark.parametrize(
        "text",
        ["`![a](x.png)`", "```\n![a](x.png)\n```", "    ![a](x.png)"],
        ids=["code-span", "fenced", "indented"],
    )
    def test_not_in_code(self, text: str) -> None:
        """An example inside code is not a reference."""
        assert find_media(text) == []

    def test_url_as_the_parser_reads_it(self) -> None:
        """Angle brackets and escapes are resolved; percent signs are left alone."""
        refs = find_media("![](<my file.png>) ![](a\\_b.png) ![](c%20d.png)")
        assert [r.url for r in refs] == ["my file.png", "a_b.png", "c%20d.png"]

    def test_reference_style_and_remote(self) -> None:
        """Reference images count; remote URLs are reported too, for validation to judge."""
        refs = find_media("![a][logo] ![b](https://example.org/x.gif)\n\n[logo]: l.svg")
        assert [(r.url, r.offset, r.kind) for r in refs] == [
            ("l.svg", 0, "image"),
            ("https://example.org/x.gif", 11, "image"),
        ]

    def test_offsets_count_characters_in_the_source(self) -> None:
        """Offsets are in the field's own text, past non-ASCII text and escaped raw HTML."""
        text = "é <b>ü</b> ![](x.ogg)"
        (ref,) = find_media(text)
        assert text[ref.offset :].startswith("![](x.ogg)")
        assert ref.kind == "audio"

    def test_script_images_are_not_references(self) -> None:
        """An image that renders as text (javascript:) is no reference."""
        assert find_media("![a](javascript:x.png)") == []

    def test_inside_a_cloze_answer(self) -> None:
        """An image in a cloze answer is a reference."""
        assert [r.url for r in find_media("{{c1::![a](x.png)}}")] == ["x.png"]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("a.jpeg", "image"),
        ("a.webp?v=1", "image"),
        ("a.OPUS", "audio"),
        ("a.flac", "audio"),
        ("a.pdf", "other"),
        ("noext", "other"),
    ],
)
def test_media_kind(url: str, kind: str) -> None:
    """The extension decides, case-insensitively; anything else is 'other'."""
    assert media_kind(url) == kind


MEDIA = {"img/a.png": "0123456789abcdef.png", "s/hi.mp3": "fedcba9876543210.mp3"}


class TestRender:
    def test_image_gets_its_packed_name(self, renderer: Renderer) -> None:
        """A mapped image points at the packed file and keeps its alt text."""
        assert renderer.inline("![A *cat*](img/a.png)", media=MEDIA) == (
            '<img src="0123456789abcdef.png" alt="A cat" />'
        )

    def test_audio_becomes_a_sound_tag(self, renderer: Renderer) -> None:
        """A mapped audio file becomes Anki's [sound:], the only one not defused."""
        html = renderer.block("Say ![](s/hi.mp3) not [sound:evil.mp3]", media=MEDIA)
        assert html == "<p>Say [sound:fedcba9876543210.mp3] not &#91;sound:evil.mp3]</p>"

    def test_unmapped_renders_as_before(self, renderer: Renderer) -> None:
        """A reference missing from the mapping renders as it always did."""
        assert renderer.inline("![x](s/other.mp3)", media=MEDIA) == (
            '<img src="s/other.mp3" alt="x" />'
        )

    def test_media_inside_a_cloze_answer(self, renderer: Renderer) -> None:
        """Mapped media in a cloze answer is rendered too."""
        assert renderer.inline("{{c1::![](s/hi.mp3)}}", cloze=True, media=MEDIA) == (
            "{{c1::[sound:fedcba9876543210.mp3]}}"
        )
