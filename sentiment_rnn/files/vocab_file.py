"""A run folder's vocab.txt -> the Vocabulary: bytes read within bounds, then parsed by text/.
"""

from __future__ import annotations

from pathlib import Path

from sentiment_rnn.config import FILE_LIMITS
from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.atomic import read_bytes, read_lines_bytes
from sentiment_rnn.text.vocabulary import Vocabulary


def load_vocabulary(path: Path, size: int | None = None) -> Vocabulary:
    """From a vocab.txt file (a regular file, UTF-8, one word per line), of `size` words
    if given."""
    return Vocabulary.from_bytes(read_vocabulary(path, size), path)


def read_vocabulary(path: Path, size: int | None = None) -> bytes:
    """vocab.txt's bytes, refused unread past its byte bound (64 MiB: 1,000,000 words of 64
    bytes on average), and, when it does not have `size` lines, counted in bounded memory and
    refused before any decoding."""
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        raise RunFolderError(f"{path.parent}: the vocabulary file {path.name} is missing")
    limit = FILE_LIMITS["vocab.txt"]
    if path.is_file() and path.stat().st_size > limit:
        raise RunFolderError(f"{path.parent}: {path.name} is too large "
                             f"({path.stat().st_size:,} bytes; at most {limit:,} are read)")
    if size is None:
        return read_bytes(path)
    data, lines = read_lines_bytes(path, size)
    if data is None or lines != size:
        raise RunFolderError(f"{path.parent}: {path.name} has {lines} entries but "
                             f"config.json says vocab_size {size}")
    return data
