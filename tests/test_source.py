"""Tests for deckgen.source: bytes and YAML text to a node tree with locations."""

from __future__ import annotations

from pathlib import Path

import pytest
from yaml.nodes import MappingNode

from deckgen.errors import SourceError
from deckgen.source import compose, load_source, read_text


class TestReadText:
    def test_bom_is_dropped(self, tmp_path: Path) -> None:
        """A UTF-8 byte order mark is not part of the text."""
        path = tmp_path / "bom.yaml"
        path.write_bytes(b"\xef\xbb\xbfa: 1\n")
        assert read_text(path, name="bom.yaml") == "a: 1\n"

    def test_invalid_utf8_is_located(self, tmp_path: Path) -> None:
        """A byte that is not UTF-8 is reported at its line and character column."""
        path = tmp_path / "latin1.yaml"
        path.write_bytes("a: 1\nbé: ".encode() + b"\xe9\n")
        with pytest.raises(SourceError) as raised:
            read_text(path, name="x.yaml")
        assert str(raised.value) == (
            "x.yaml:2:5: invalid UTF-8 byte 0xe9: the file must be encoded as UTF-8"
        )

    def test_unreadable_file_is_an_error(self, tmp_path: Path) -> None:
        """A folder where a file is expected gives a DeckgenError, not an OSError."""
        with pytest.raises(Exception, match="cannot read") as raised:
            read_text(tmp_path, name="folder")
        assert not isinstance(raised.value, OSError)


class TestCompose:
    def test_nodes_remember_locations(self) -> None:
        """Composed nodes carry 0-based marks of where they stood."""
        node = compose("deck:\n  name: x\n", name="f")
        assert isinstance(node, MappingNode)
        key, value = node.value[0]
        assert (key.start_mark.line, value.start_mark.line) == (0, 1)

    def test_crlf_locates_like_lf(self) -> None:
        """CRLF line ends give the same lines and columns as LF."""
        with pytest.raises(SourceError) as crlf:
            compose("a: 1\r\nb: [\r\n", name="f")
        with pytest.raises(SourceError) as lf:
            compose("a: 1\nb: [\n", name="f")
        assert str(crlf.value) == str(lf.value)

    @pytest.mark.parametrize("text", ["", "\n\n", "# nothing here\n", "---\n"])
    def test_empty_documents(self, text: str) -> None:
        """A file with no content is one problem at 1:1."""
        with pytest.raises(SourceError) as raised:
            compose(text, name="f")
        assert str(raised.value).startswith("f:1:1: the file is empty")

    def test_control_character_in_stream(self) -> None:
        """A raw control character is located and named."""
        with pytest.raises(SourceError) as raised:
            compose("a: b\x07\n", name="f")
        assert str(raised.value) == (
            "f:1:5: character U+0007 is not allowed in YAML (control characters are not allowed)"
        )

    def test_custom_tags_are_not_constructed(self) -> None:
        """Composing never runs a tag's constructor, so no object is created."""
        node = compose("a: !!python/object/apply:os.system ['false']\n", name="f")
        assert isinstance(node, MappingNode)
        assert node.value[0][1].tag == "tag:yaml.org,2002:python/object/apply:os.system"

    def test_load_source_names_the_file_as_given(self, tmp_path: Path) -> None:
        """Problems name the file as the caller shows it, not the absolute path."""
        path = tmp_path / "f.yaml"
        path.write_text("a: [\n")
        with pytest.raises(SourceError) as raised:
            load_source(path, name="shown.yaml")
        assert str(raised.value).startswith("shown.yaml:2:1: YAML syntax error:")
