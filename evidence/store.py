"""Content-addressed file storage for evidence, through Django storages (the "evidence" alias).

A blob lives at `ab/cd/<sha256>`. Writing the same content twice stores it once; nothing stored is
ever overwritten, so a file's name is also the proof of its content."""

import hashlib
import tempfile
from typing import IO, BinaryIO

from django.core.files import File
from django.core.files.storage import storages

_CHUNK = 1024 * 1024


def _storage():  # type: ignore[no-untyped-def]
    return storages["evidence"]


def path_of(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def put(content: bytes | BinaryIO | File) -> tuple[str, int]:
    """Store the content; returns (sha256, size). Streams files in chunks (constant memory)."""
    if isinstance(content, bytes):
        digest = hashlib.sha256(content).hexdigest()
        size = len(content)
        if not _storage().exists(path_of(digest)):
            _save(digest, File(_bytes_file(content)))
        return digest, size
    hasher = hashlib.sha256()
    size = 0
    # Hash while copying to a spool file, so that an upload is read once and stored as hashed.
    with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK) as spool:
        content.seek(0)
        for chunk in iter(lambda: content.read(_CHUNK), b""):
            hasher.update(chunk)
            size += len(chunk)
            spool.write(chunk)
        digest = hasher.hexdigest()
        if not _storage().exists(path_of(digest)):
            spool.seek(0)
            _save(digest, File(spool))
    return digest, size


def _bytes_file(content: bytes) -> IO[bytes]:
    import io

    return io.BytesIO(content)


def _save(digest: str, file: File) -> None:
    name = _storage().save(path_of(digest), file)
    if name != path_of(digest):  # another writer stored the same content first: same bytes, keep one
        _storage().delete(name)


def exists(sha256: str) -> bool:
    return _storage().exists(path_of(sha256))


def open(sha256: str) -> IO[bytes]:
    return _storage().open(path_of(sha256), "rb")


def verify(sha256: str) -> bool:
    """Whether the stored bytes still hash to their name."""
    hasher = hashlib.sha256()
    with open(sha256) as stored:
        for chunk in iter(lambda: stored.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == sha256


def delete(sha256: str) -> None:
    _storage().delete(path_of(sha256))
