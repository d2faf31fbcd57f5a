"""A deflated zip written by hand, its data compressed in chunks that the next build reuses.

Each entry is cut into fixed-size chunks, each deflated on its own (a fresh compressor,
ended with a sync flush, so the outputs concatenate into one raw deflate stream) and the
stream ended with an empty final block. A chunk's compressed bytes depend on its bytes only,
so a build can take those of an unchanged chunk from the previous build's
:class:`DeflateChunks` instead of compressing it again, and the package is the same bytes
either way, with any number of threads. zipfile cannot take compressed data, hence the writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import struct
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

# Measured on the benchmark's 10,000-question collections (14 and 28 MB), against one stream
# of the whole file: chunks of 64 KiB make it 4.9% larger, 128 KiB 2.4%, 256 KiB 0.8-1.2%,
# 1 MiB 0.3%. An edited answer costs two chunks whatever their size; past 256 KiB, those take
# longer to compress again than the rest to look up.
CHUNK = 256 * 1024
# Level 1: on a 10,000-note deck it is 7x faster than level 9 for a file 30% larger.
LEVEL = 1
# Files larger than this are compressed on threads (zlib lets go of the GIL): from two chunks
# on, two threads take 40-60% less time than one (0.5 MB: 2.3 ms instead of 3.9; 28 MB:
# 88 ms instead of 167).
THREADS_FROM = 2 * CHUNK
# An entry that may pass 2 GiB is declared zip64 before it is written; deflate may grow
# data a little, so well below 2 GiB. Small packages keep the plain form.
ZIP64_FROM = 1 << 30
# Above this a size or offset goes in a zip64 field (zipfile's limit: some readers take the
# 32-bit fields as signed).
_ZIP32_MAX = (1 << 31) - 1
_FINAL_BLOCK = b"\x03\x00"  # an empty final block of fixed codes: the end of the stream
_DOS_DATE = (1 << 5) | 1  # 1980-01-01, the earliest a zip can say; the time is 00:00:00
_MADE_BY_UNIX = 3
_MODE = 0o644 << 16
_DEFLATED = 8
_UTF8_NAME = 1 << 11
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")


class DeflateChunks:
    """The compressed chunks of the latest build, by the 128-bit BLAKE2b digest of their
    bytes, for the next build to reuse; :meth:`dump` and :meth:`load` persist them. Also
    the digests of each entry's chunks in order (:attr:`order`): a chunk that is the same
    bytes as the one at its place in the file the latest build zipped needs no digest."""

    _MAGIC = b"deckgen deflate chunks 2\n"
    # What compressed bytes depend on besides the chunk: another zlib may compress otherwise,
    # and a chunk from it would make the package differ from a cold build's.
    _ENGINE = f"zlib {zlib.ZLIB_RUNTIME_VERSION} level {LEVEL} raw sync-flush\n".encode()
    _RECORD = struct.Struct("<16sI")
    _COUNT = struct.Struct("<I")

    def __init__(self, *, limit: int = 256 << 20) -> None:
        self._chunks: dict[bytes, bytes] = {}
        self.order: dict[str, list[bytes]] = {}  # each entry's chunks' digests, in order
        self.limit = limit  # compressed bytes kept at most: a huge collection is not held
        self.reused = 0  # chunks of the latest build taken from the previous one
        self.compressed = 0  # chunks of the latest build compressed anew

    def __len__(self) -> int:
        return len(self._chunks)

    def get(self, key: bytes) -> bytes | None:
        """The compressed bytes of the chunk with this digest, if the last build had it."""
        return self._chunks.get(key)

    def replace(
        self, chunks: Mapping[bytes, bytes], order: Mapping[str, list[bytes]] | None = None
    ) -> None:
        """Keep ``chunks`` (those of a finished build) and the ``order`` of each entry's
        instead of the previous ones, up to :attr:`limit` bytes."""
        self.order = dict(order or {})
        kept: dict[bytes, bytes] = {}
        size = 0
        for key, data in chunks.items():
            size += len(data)
            if size > self.limit:
                break
            kept[key] = data
        self._chunks = kept

    def dump(self, *, checksum: bool = True) -> bytes:
        """The chunks as bytes for :meth:`load`, with the zlib that made them and a checksum
        (which a caller that keeps the bytes under a checksum of its own can leave out)."""
        parts = [self._MAGIC, self._ENGINE, self._COUNT.pack(len(self._chunks))]
        for key, data in self._chunks.items():
            parts += (self._RECORD.pack(key, len(data)), data)
        for name, keys in self.order.items():
            encoded = name.encode()
            parts += (self._COUNT.pack(len(encoded)), encoded, self._COUNT.pack(len(keys)))
            parts += keys
        if checksum:
            digest = hashlib.blake2b(digest_size=16)
            for part in parts:
                digest.update(part)
            parts.append(digest.digest())
        return b"".join(parts)  # one copy of the chunks, not two

    @classmethod
    def load(cls, data: bytes, *, limit: int = 256 << 20, checksum: bool = True) -> DeflateChunks:
        """The chunks :meth:`dump` wrote (with the same ``checksum``); none if the bytes are
        damaged or another zlib's, since a wrong chunk would make a wrong package where a
        missing one costs time."""
        chunks = cls(limit=limit)
        body, digest = (data[:-16], data[-16:]) if checksum else (data, b"")
        head = cls._MAGIC + cls._ENGINE
        if not body.startswith(head) or (
            checksum and hashlib.blake2b(body, digest_size=16).digest() != digest
        ):
            return chunks
        found: dict[bytes, bytes] = {}
        order: dict[str, list[bytes]] = {}
        try:
            (count,), at = cls._COUNT.unpack_from(body, len(head)), len(head) + cls._COUNT.size
            for _ in range(count):
                key, size = cls._RECORD.unpack_from(body, at)
                at += cls._RECORD.size
                found[key] = body[at : at + size]
                at += size
            while at < len(body):
                (size,) = cls._COUNT.unpack_from(body, at)
                name = body[at + 4 : at + 4 + size].decode()
                (count,) = cls._COUNT.unpack_from(body, at + 4 + size)
                at += 8 + size
                order[name] = [body[i : i + 16] for i in range(at, at + 16 * count, 16)]
                at += 16 * count
        except (struct.error, UnicodeDecodeError):
            return chunks
        if at != len(body):
            return chunks
        chunks.replace(found, order)
        return chunks


def write_zip(
    path: Path,
    entries: Mapping[str, bytes | Path],
    *,
    chunks: DeflateChunks | None = None,
    threads: int = 1,
    previous: Mapping[str, BinaryIO] | None = None,
) -> dict[str, tuple[int, int]]:
    """Write a zip of ``entries`` (name -> bytes, or a file streamed chunk by chunk) with a
    fixed date and mode, on ``threads`` threads if the files are large; reuse the compressed
    chunks in ``chunks``, then keep this zip's there. Return each entry's size and CRC-32.
    ``previous``: for an entry, the file the build that left ``chunks`` zipped under its
    name, open, unchanged since (the caller vouches for it): a chunk that is the same bytes
    as the one at its place there is taken without a digest."""
    files = sum(d.stat().st_size for d in entries.values() if isinstance(d, Path))
    threads = threads if files > THREADS_FROM else 1
    writer = _Writer(chunks, threads)
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(threads)) if threads > 1 else None
        out = stack.enter_context(path.open("wb"))
        writer.pool = pool
        records = []
        for name, data in entries.items():
            records.append(writer.entry(out, name, data, (previous or {}).get(name)))
        _write_directory(out, records)
    if chunks is not None:
        chunks.reused, chunks.compressed = writer.reused, writer.compressed
        chunks.replace(writer.built, writer.order)
    return writer.sums


class _Writer:
    """Writes entries, counting and collecting the compressed chunks as they pass."""

    def __init__(self, known: DeflateChunks | None, threads: int) -> None:
        self.known = known
        self.window = 2 * threads  # chunks in flight: enough to keep every thread busy
        self.pool: ThreadPoolExecutor | None = None
        self.built: dict[bytes, bytes] = {}
        self.order: dict[str, list[bytes]] = {}
        self.reused = self.compressed = 0
        self.sums: dict[str, tuple[int, int]] = {}  # each entry's size and CRC-32

    def entry(
        self, out: BinaryIO, name: str, data: bytes | Path, previous: BinaryIO | None = None
    ) -> bytes:
        """Write one entry's local header and data; return its central directory record.
        ``previous``: the file the latest build zipped as this entry (see write_zip)."""
        offset = out.tell()
        zip64 = (data.stat().st_size if isinstance(data, Path) else len(data)) > ZIP64_FROM
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode(), _UTF8_NAME
        # Sizes and CRC are known once the data is written: the header is written again then.
        out.write(_local_header(encoded, flags, zip64, 0, 0, 0))
        crc = size = 0
        keys: list[bytes] = []
        places: Iterator[_Place] = itertools.repeat(None)
        if previous is not None and self.known is not None:
            was = self.known.order.get(name, [])
            places = itertools.chain(((previous, i * CHUNK, k) for i, k in enumerate(was)), places)
        for piece, key, deflated, reused in self._deflated(
            zip(_pieces(data), places, strict=False)
        ):
            crc = zlib.crc32(piece, crc)
            size += len(piece)
            if reused:
                self.reused += 1
            else:
                self.compressed += 1
            if self.known is not None:
                self.built[key] = deflated
                keys.append(key)
            out.write(deflated)
        if self.known is not None:
            self.order[name] = keys
        out.write(_FINAL_BLOCK)
        compressed = out.tell() - offset - _local_header_size(encoded, zip64)
        if not zip64 and max(size, compressed) > 0xFFFFFFFF:
            # Only a file that grew while it was read can get here; the caller reports OSError.
            raise OSError(f"{name} grew past 4 GiB while it was read")
        self.sums[name] = (size, crc)
        end = out.tell()
        out.seek(offset)
        out.write(_local_header(encoded, flags, zip64, crc, compressed, size))
        out.seek(end)
        return _central_record(encoded, flags, zip64, crc, compressed, size, offset)

    def _deflated(self, pieces: Iterable[tuple[bytes, _Place]]) -> Iterator[_Done]:
        """Each piece with its digest, its compressed bytes and whether they were reused, in
        order; on the pool a few pieces ahead, so a large file is never read whole."""
        if self.pool is None:
            yield from itertools.starmap(self._work, pieces)
            return
        ahead: deque[Future[_Done]] = deque()
        for piece, place in pieces:
            ahead.append(self.pool.submit(self._work, piece, place))
            if len(ahead) >= self.window:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()

    def _work(self, piece: bytes, place: _Place) -> _Done:
        # hashlib, zlib and reads let go of the GIL on large buffers: what threads share.
        if self.known is None:  # nothing to reuse or keep: no digest either
            return piece, b"", _deflate(piece), False
        if place is not None:
            # The same bytes as the last build's chunk at this place: the same digest.
            previous, offset, key = place
            old = self.known.get(key)
            if old is not None and os.pread(previous.fileno(), len(piece), offset) == piece:
                return piece, key, old, True
        key = hashlib.blake2b(piece, digest_size=16).digest()
        old = self.known.get(key)
        return (piece, key, old, True) if old is not None else (piece, key, _deflate(piece), False)


# Where a chunk was in the file the last build zipped (the file, offset, digest), or None;
# and a chunk done: its bytes, digest, compressed bytes and whether they were reused.
_Place = tuple[BinaryIO, int, bytes] | None
_Done = tuple[bytes, bytes, bytes, bool]


def _pieces(data: bytes | Path) -> Iterator[bytes]:
    """The data in chunks of :data:`CHUNK` bytes (the last one shorter), a file read as it goes."""
    if isinstance(data, Path):
        with data.open("rb") as source:
            while piece := source.read(CHUNK):
                yield piece
    else:
        for at in range(0, len(data), CHUNK):
            yield data[at : at + CHUNK]


def _deflate(piece: bytes) -> bytes:
    """One chunk as raw deflate data that ends on a byte boundary and leaves the stream open."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _local_header(
    name: bytes, flags: int, zip64: bool, crc: int, compressed: int, size: int
) -> bytes:
    """A local file header; a zip64 one holds both sizes in its extra field."""
    extra = struct.pack("<HHQQ", 1, 16, size, compressed) if zip64 else b""
    sizes = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (compressed, size)
    version = 45 if zip64 else 20
    fixed = _LOCAL.pack(
        0x04034B50, version, flags, _DEFLATED, 0, _DOS_DATE, crc, *sizes, len(name), len(extra)
    )
    return fixed + name + extra


def _local_header_size(name: bytes, zip64: bool) -> int:
    return _LOCAL.size + len(name) + (20 if zip64 else 0)


def _central_record(
    name: bytes, flags: int, zip64: bool, crc: int, compressed: int, size: int, offset: int
) -> bytes:
    """A central directory record: a value too large for its field goes in the zip64 extra."""
    large = zip64 or max(size, compressed) > _ZIP32_MAX
    fields = [size, compressed] if large else []
    if offset > _ZIP32_MAX:
        fields.append(offset)
    extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
    version = 45 if extra else 20
    fixed = _CENTRAL.pack(
        0x02014B50,
        _MADE_BY_UNIX << 8 | version,
        version,
        flags,
        _DEFLATED,
        0,
        _DOS_DATE,
        crc,
        0xFFFFFFFF if large else compressed,
        0xFFFFFFFF if large else size,
        len(name),
        len(extra),
        0,
        0,
        0,
        _MODE,
        0xFFFFFFFF if offset > _ZIP32_MAX else offset,
    )
    return fixed + name + extra


def _write_directory(out: BinaryIO, records: list[bytes]) -> None:
    """The central directory and its end record, with the zip64 end records when a count,
    size or offset is too large for the plain one."""
    start = out.tell()
    for record in records:
        out.write(record)
    size = out.tell() - start
    count = len(records)
    if count > 0xFFFF or size > _ZIP32_MAX or start > _ZIP32_MAX:
        end64 = out.tell()
        out.write(
            _END64.pack(
                0x06064B50, 44, _MADE_BY_UNIX << 8 | 45, 45, 0, 0, count, count, size, start
            )
        )
        out.write(_LOCATOR64.pack(0x07064B50, 0, end64, 1))
    out.write(
        _END.pack(
            0x06054B50,
            0,
            0,
            min(count, 0xFFFF),
            min(count, 0xFFFF),
            min(size, 0xFFFFFFFF),
            min(start, 0xFFFFFFFF),
            0,
        )
    )
