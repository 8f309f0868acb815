"""Files of a run, safely: atomic writes (temporary file, fsync, rename) and careful reads.

A reader opens a file only if it is a regular file of a sane size, so a FIFO, a device or a
folder in a run file's place is an error, never a hang or a read of /dev/zero; JSON that Python
cannot hold (nested too deeply, 5,000-digit integers) is an error too. Used at every stage that
writes or reads a run folder or a report.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from sentiment_rnn.errors import RunFolderError


def current_umask() -> int:
    """The process umask, read without setting it (os.umask reads only by setting, and another
    thread creating a file meanwhile would get the wrong mode): the Umask line of
    /proc/self/status, else the mode a new probe folder gets."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    probe = os.path.join(tempfile.gettempdir(), f".umask-probe-{secrets.token_hex(8)}")
    os.mkdir(probe, 0o777)  # the kernel applies the umask
    try:
        return 0o777 & ~stat.S_IMODE(os.stat(probe).st_mode)
    finally:
        os.rmdir(probe)


def _new_temp_file(path: Path) -> tuple[int, str]:
    """A new, empty file beside `path` with a random name: (fd, name). Created with mode 0666,
    so the kernel gives it the usual mode under the umask (mkstemp's would be 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def write_temp(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a new temporary file beside `path`, fsync it and return its name;
    on any failure the temporary file is removed."""
    path = Path(path)
    try:
        fd, tmp = _new_temp_file(path)
    except OSError as exc:  # name the file we meant to write, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp, Path(tmp)):
            # a full disk while writing: name the file meant, not the temporary one (or none)
            raise OSError(exc.errno or errno.EIO, exc.strerror or str(exc), str(path)) from None
        raise
    return Path(tmp)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path`."""
    tmp = write_temp(path, write)
    try:
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


MAX_RUN_FILE = 1 << 30  # bytes: a run file larger than this is not one we wrote


def _open_regular(path: Path) -> int:
    """A file descriptor of `path`, opened only if it is a regular file of at most MAX_RUN_FILE
    bytes (never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise RunFolderError(f"{path.parent}: {path.name} is missing") from None
    except OSError as exc:
        raise RunFolderError(f"{path.parent}: {path.name} cannot be read "
                             f"({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise RunFolderError(f"{path.parent}: {path.name} is not a regular file")
    if info.st_size > MAX_RUN_FILE:
        os.close(fd)
        raise RunFolderError(f"{path.parent}: {path.name} is too large ({info.st_size:,} bytes)")
    return fd


def read_bytes(path: Path) -> bytes:
    """A run file's bytes, read only if it is a regular file (never blocks on a FIFO)."""
    path = Path(path)
    with os.fdopen(_open_regular(path), "rb") as f:
        try:
            return f.read()
        except OSError as exc:
            raise RunFolderError(f"{path.parent}: {path.name} cannot be read "
                                 f"({exc.strerror})") from None


def read_lines_bytes(path: Path, most: int) -> tuple[bytes | None, int]:
    """A text run file's bytes and its number of lines, read in blocks: the bytes (None) are
    kept only while there are at most `most` lines, so a file of too many lines is counted in
    bounded memory and refused before anything decodes or splits it."""
    path = Path(path)
    blocks, newlines, last = [], 0, b""
    with os.fdopen(_open_regular(path), "rb") as f:
        try:
            for block in iter(lambda: f.read(1 << 20), b""):
                newlines += block.count(b"\n")
                last = block
                if blocks is not None and newlines <= most:
                    blocks.append(block)
                else:
                    blocks = None
        except OSError as exc:
            raise RunFolderError(f"{path.parent}: {path.name} cannot be read "
                                 f"({exc.strerror})") from None
    lines = newlines + (1 if last and not last.endswith(b"\n") else 0)
    return (b"".join(blocks) if blocks is not None and lines <= most else None), lines


def unique_keys(pairs: list) -> dict:
    """json's object_pairs_hook: a JSON object, refused (ValueError) if a key appears twice,
    which json.loads would let the last one win silently; one pass, linear in the keys. Run
    files and serve's request bodies both use it."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {json.dumps(key)[:60]} is given twice")
        out[key] = value
    return out


def parse_json(data: bytes, path: Path) -> object:
    """The JSON in a run file's bytes; RunFolderError if it is not valid, nested too deeply,
    or has an object with a key twice."""
    path = Path(path)
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=unique_keys)
    except RecursionError:
        raise RunFolderError(f"{path.parent}: {path.name} is not usable JSON (nested too "
                             f"deeply)") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, 5,000-digit integers
        why = str(exc).split(";")[0][:200]
        raise RunFolderError(f"{path.parent}: {path.name} is not valid JSON ({why})") from None


def read_json(path: Path) -> object:
    return parse_json(read_bytes(Path(path)), path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
