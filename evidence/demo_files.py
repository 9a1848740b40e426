"""Small, valid files made in code: the demo data's photos and documents, and the tests' samples."""

import struct
import zlib


def png(width: int = 2, height: int = 2, shade: int = 0) -> bytes:
    """A width x height RGB picture: a gradient whose hue depends on `shade` (so pictures differ)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    if shade == 0:
        raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    else:
        raw = b"".join(
            b"\x00"
            + b"".join(bytes(((x * 255) // width, (y * 255) // height, (shade * 37) % 256)) for x in range(width))
            for y in range(height)
        )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
