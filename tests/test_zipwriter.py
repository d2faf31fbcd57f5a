"""Tests for deckgen.zipwriter: the zip it writes is read by zipfile and unzip, and the same
bytes with or without reused chunks and threads."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from deckgen import zipwriter
from deckgen.zipwriter import CHUNK, DeflateChunks, write_zip


def text(size: int, seed: int = 0) -> bytes:
    """Compressible bytes that do not repeat chunk to chunk, as a collection's pages."""
    rng = random.Random(seed)
    words = [bytes(rng.choices(range(97, 123), k=rng.randint(2, 9))) for _ in range(2000)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """A file of a little more than five chunks."""
    path = tmp_path / "collection.anki2"
    path.write_bytes(text(5 * CHUNK + 1000))
    return path


def check(path: Path, expected: dict[str, bytes]) -> None:
    """zipfile reads every entry back with a right CRC, and unzip (when present) agrees."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == list(expected)
        for info in infos:
            assert archive.read(info) == expected[info.filename]
            assert zlib.crc32(expected[info.filename]) == info.CRC
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.create_system, info.external_attr >> 16) == (3, 0o644)
    if shutil.which("unzip"):
        result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No errors detected" in result.stdout


class TestZip:
    def test_entries_read_back(self, collection: Path, tmp_path: Path) -> None:
        """Files and bytes, empty, one chunk and many, come back as written."""
        out = tmp_path / "out.zip"
        entries: dict[str, bytes | Path] = {
            "collection.anki2": collection,
            "0": b"",
            "1": b"y" * 10,
            "ünïcode": b"name",
            "media": b'{"0": "a.png"}',
        }
        write_zip(out, entries)
        expected = {
            name: data.read_bytes() if isinstance(data, Path) else data
            for name, data in entries.items()
        }
        check(out, expected)
        with zipfile.ZipFile(out) as archive:
            assert archive.getinfo("ünïcode").flag_bits & 0x800  # the name is UTF-8
            assert archive.getinfo("collection.anki2").compress_size < CHUNK * 5 // 2

    def test_stream_is_chunks_then_a_final_block(self, collection: Path, tmp_path: Path) -> None:
        """The entry's data is each chunk deflated on its own, then the empty final block:
        what lets a chunk's compressed bytes be reused."""
        out = tmp_path / "out.zip"
        write_zip(out, {"c": collection})
        data = collection.read_bytes()
        expected = b"".join(
            zipwriter._deflate(data[at : at + CHUNK]) for at in range(0, len(data), CHUNK)
        )
        with zipfile.ZipFile(out) as archive:
            info = archive.getinfo("c")
        start = info.header_offset + 30 + len("c")  # no extra field: not zip64
        assert out.read_bytes()[start : start + info.compress_size] == expected + b"\x03\x00"

    @pytest.mark.parametrize("threads", [2, 3, 8])
    def test_threads_do_not_change_the_bytes(
        self, collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
    ) -> None:
        """The zip is the same bytes compressed on one thread or several."""
        write_zip(tmp_path / "one.zip", {"c": collection, "m": b"{}"}, threads=1)
        monkeypatch.setattr(zipwriter, "THREADS_FROM", 0)
        calls: list[int] = []
        real = zipwriter.ThreadPoolExecutor

        def counted(workers: int) -> zipwriter.ThreadPoolExecutor:
            calls.append(workers)
            return real(workers)

        monkeypatch.setattr(zipwriter, "ThreadPoolExecutor", counted)
        write_zip(tmp_path / "many.zip", {"c": collection, "m": b"{}"}, threads=threads)
        assert calls == [threads]
        assert (tmp_path / "many.zip").read_bytes() == (tmp_path / "one.zip").read_bytes()

    def test_small_files_are_compressed_without_threads(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Below THREADS_FROM no thread is started: it would cost more than it saves."""
        monkeypatch.setattr(zipwriter, "ThreadPoolExecutor", None)  # fails if called
        small = tmp_path / "small"
        small.write_bytes(text(CHUNK))
        write_zip(tmp_path / "out.zip", {"c": small}, threads=4)
        check(tmp_path / "out.zip", {"c": small.read_bytes()})


class TestReuse:
    def test_same_bytes_cold_empty_and_warm(self, collection: Path, tmp_path: Path) -> None:
        """No cache, an empty cache and a cache of the same file give the same zip, and the
        warm write compresses nothing."""
        entries: dict[str, bytes | Path] = {"c": collection, "media": b"{}"}
        write_zip(tmp_path / "cold.zip", entries)
        chunks = DeflateChunks()
        write_zip(tmp_path / "empty.zip", entries, chunks=chunks)
        assert (chunks.reused, chunks.compressed) == (0, 7)
        write_zip(tmp_path / "warm.zip", entries, chunks=chunks)
        assert (chunks.reused, chunks.compressed) == (7, 0)
        cold = (tmp_path / "cold.zip").read_bytes()
        assert (tmp_path / "empty.zip").read_bytes() == cold
        assert (tmp_path / "warm.zip").read_bytes() == cold

    def test_an_edit_recompresses_its_chunk_only(self, collection: Path, tmp_path: Path) -> None:
        """After one byte changes, that chunk alone is compressed again, and the zip is the
        bytes of a cold write of the edited file."""
        chunks = DeflateChunks()
        write_zip(tmp_path / "v1.zip", {"c": collection}, chunks=chunks)
        data = bytearray(collection.read_bytes())
        data[3 * CHUNK + 5] ^= 1
        collection.write_bytes(data)
        write_zip(
            tmp_path / "warm.zip", {"c": collection}, chunks=DeflateChunks.load(chunks.dump())
        )
        write_zip(tmp_path / "cold.zip", {"c": collection})
        assert (tmp_path / "warm.zip").read_bytes() == (tmp_path / "cold.zip").read_bytes()
        warm = DeflateChunks.load(chunks.dump())
        write_zip(tmp_path / "again.zip", {"c": collection}, chunks=warm)
        assert (warm.reused, warm.compressed) == (5, 1)
        check(tmp_path / "warm.zip", {"c": bytes(data)})

    @pytest.mark.parametrize("threads", [1, 2])
    def test_chunks_in_place_need_no_digest(
        self, collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
    ) -> None:
        """Given the file the last write zipped, a chunk with the same bytes at the same place
        is reused without a digest: only the edited chunk (and the shorter last one, moved by
        an inserted byte) are hashed; the zip is a cold write's, and the next write's order
        is right."""
        chunks = DeflateChunks()
        write_zip(tmp_path / "v1.zip", {"c": collection}, chunks=chunks)
        assert len(chunks.order["c"]) == 6
        chunks = DeflateChunks.load(chunks.dump())  # the order survives dump and load
        before = tmp_path / "before.anki2"
        shutil.copy(collection, before)
        data = bytearray(collection.read_bytes())
        data[3 * CHUNK + 5] ^= 1
        data[-10:-10] = b"!"  # the last chunk one byte longer
        collection.write_bytes(data)
        hashed: list[int] = []
        digest = zipwriter.hashlib.blake2b

        def counting(piece: bytes, **kwargs: int) -> object:
            hashed.append(len(piece))
            return digest(piece, **kwargs)

        monkeypatch.setattr(zipwriter.hashlib, "blake2b", counting)
        with before.open("rb") as was:
            options = {"chunks": chunks, "threads": threads, "previous": {"c": was}}
            write_zip(tmp_path / "warm.zip", {"c": collection}, **options)  # type: ignore[arg-type]
        assert (chunks.reused, chunks.compressed) == (4, 2)
        assert hashed == [CHUNK, 1001]
        monkeypatch.undo()
        write_zip(tmp_path / "cold.zip", {"c": collection})
        assert (tmp_path / "warm.zip").read_bytes() == (tmp_path / "cold.zip").read_bytes()
        assert chunks.order["c"] == [
            zipwriter.hashlib.blake2b(data[i : i + CHUNK], digest_size=16).digest()
            for i in range(0, len(data), CHUNK)
        ]

    def test_keeps_only_the_latest_build(self, tmp_path: Path) -> None:
        """The cache holds the chunks of the last write, not of every write: it cannot grow
        without bound."""
        chunks = DeflateChunks()
        write_zip(tmp_path / "a.zip", {"a": text(3 * CHUNK, seed=1)}, chunks=chunks)
        assert len(chunks) == 3
        write_zip(tmp_path / "b.zip", {"b": text(2 * CHUNK, seed=2)}, chunks=chunks)
        assert len(chunks) == 2
        write_zip(tmp_path / "a2.zip", {"a": text(3 * CHUNK, seed=1)}, chunks=chunks)
        assert (chunks.reused, chunks.compressed) == (0, 3)

    def test_limit_bounds_what_is_kept(self, collection: Path, tmp_path: Path) -> None:
        """A cache keeps at most ``limit`` compressed bytes; the zip does not change."""
        chunks = DeflateChunks(limit=CHUNK)
        write_zip(tmp_path / "a.zip", {"c": collection}, chunks=chunks)
        assert 0 < len(chunks) < 6
        write_zip(tmp_path / "b.zip", {"c": collection}, chunks=chunks)
        assert 0 < chunks.reused < 6
        assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()

    def test_dump_and_load(self, collection: Path, tmp_path: Path) -> None:
        """The chunks survive dump() and load(); damaged bytes or another zlib's chunks load
        as an empty cache, never as wrong data."""
        chunks = DeflateChunks()
        write_zip(tmp_path / "a.zip", {"c": collection}, chunks=chunks)
        dumped = chunks.dump()
        assert len(DeflateChunks.load(dumped)) == 6
        damaged = bytearray(dumped)
        damaged[len(dumped) // 2] ^= 1
        assert len(DeflateChunks.load(bytes(damaged))) == 0
        assert len(DeflateChunks.load(b"")) == 0
        other = dumped.replace(zlib.ZLIB_RUNTIME_VERSION.encode(), b"0.0.0", 1)
        assert len(DeflateChunks.load(other)) == 0

    def test_dump_and_load_without_checksum(self, collection: Path, tmp_path: Path) -> None:
        """Chunks kept under another checksum (the build state's) leave theirs out; another
        zlib's still load as an empty cache, and the chunks build the same zip."""
        chunks = DeflateChunks()
        write_zip(tmp_path / "a.zip", {"c": collection}, chunks=chunks)
        dumped = chunks.dump(checksum=False)
        assert len(dumped) == len(chunks.dump()) - 16
        warm = DeflateChunks.load(dumped, checksum=False)
        assert len(warm) == 6
        write_zip(tmp_path / "b.zip", {"c": collection}, chunks=warm)
        assert warm.reused == 6
        assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
        other = dumped.replace(zlib.ZLIB_RUNTIME_VERSION.encode(), b"0.0.0", 1)
        assert len(DeflateChunks.load(other, checksum=False)) == 0


def local_extras(data: bytes) -> dict[str, bytes]:
    """Each entry's local header extra field, by name, read in entry order."""
    extras = {}
    header = data.find(b"PK\x03\x04")
    while header >= 0:
        name_length, extra_length = struct.unpack("<HH", data[header + 26 : header + 30])
        name = data[header + 30 : header + 30 + name_length].decode()
        extras[name] = data[header + 30 + name_length : header + 30 + name_length + extra_length]
        size = struct.unpack("<I", data[header + 18 : header + 22])[0]
        if size == 0xFFFFFFFF:
            size = struct.unpack("<Q", extras[name][12:20])[0]
        header = data.find(b"PK\x03\x04", header + 30 + name_length + extra_length + size)
    return extras


class TestZip64:
    def test_large_entries_are_zip64(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An entry that may pass 2 GiB is written with zip64 fields (declared before it is
        streamed); a small package keeps the plain form."""
        big = tmp_path / "big.bin"
        big.write_bytes(b"x" * 4096)
        monkeypatch.setattr(zipwriter, "ZIP64_FROM", 1024)
        write_zip(tmp_path / "out.zip", {"big": big, "small": b"y"})
        check(tmp_path / "out.zip", {"big": b"x" * 4096, "small": b"y"})
        extras = local_extras((tmp_path / "out.zip").read_bytes())
        assert extras["big"][:4] == b"\x01\x00\x10\x00"  # zip64 extended information, 16 bytes
        assert struct.unpack("<QQ", extras["big"][4:]) == (
            4096,
            zipfile.ZipFile(tmp_path / "out.zip").getinfo("big").compress_size,
        )
        assert extras["small"] == b""

    def test_large_offsets_and_directory_are_zip64(
        self, collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Offsets and a central directory past the 32-bit limit go in zip64 fields and the
        zip64 end records, which zipfile and unzip read."""
        monkeypatch.setattr(zipwriter, "_ZIP32_MAX", 100)
        write_zip(tmp_path / "out.zip", {"c": collection, "m": b"{}"})
        data = (tmp_path / "out.zip").read_bytes()
        assert b"PK\x06\x06" in data  # zip64 end of central directory record
        assert b"PK\x06\x07" in data  # and its locator
        check(tmp_path / "out.zip", {"c": collection.read_bytes(), "m": b"{}"})
