"""The sorted even suffixes of a text, for the search index (``lib.customers.search_index``).

libdivsufsort sorts every suffix of a text: 4 bytes per byte of text, so 800 MB for the
200 MB of haystacks of a million customers, of which the index keeps the half that
start at an even position. For a large text the sort runs in a child process
(``sort_in_child``: this file run as a script, importing numpy and pydivsufsort only),
so the server's own memory never holds the full array: the child reads the text from
its stdin and writes the kept half to its stdout. Below ``CHILD_BYTES`` the sort runs
in the calling process (a child costs about a second to start and feed).
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np

CHILD_BYTES = 64_000_000  # texts from this size on are sorted in a child process
_STEP = 8_000_000  # array entries thinned at a time


def even_suffixes(text) -> np.ndarray:
    """The suffix array of ``text`` (bytes-like) restricted to the suffixes that start at
    an even position: int32, in the sorted order of those suffixes. The odd entries are
    dropped a slice at a time: the peak is the full array plus the half kept."""
    from pydivsufsort import divsufsort

    if not len(text):
        return np.zeros(0, np.int32)
    full = divsufsort(text)
    out = np.empty((len(text) + 1) // 2, dtype=np.int32)
    w = 0
    for i in range(0, len(full), _STEP):
        part = full[i:i + _STEP]
        part = part[(part & 1) == 0]
        out[w:w + len(part)] = part
        w += len(part)
    if w != len(out):
        raise RuntimeError("suffix sort: wrong number of even suffixes")
    return out


def _read_exact(stream, view: memoryview) -> None:
    got = 0
    while got < len(view):
        k = stream.readinto(view[got:])
        if not k:
            raise EOFError("suffix sort: stream ended early")
        got += k


def sort(text: bytes, *, on_start=None) -> np.ndarray:
    """``even_suffixes(text)``, in a child process when the text is large.
    ``on_start(proc)`` is told the child (to stop it on close)."""
    if len(text) < CHILD_BYTES:
        return even_suffixes(text)
    return sort_in_child(text, on_start=on_start)


def sort_in_child(text: bytes, *, on_start=None) -> np.ndarray:
    # -P: the script's directory (lib/customers) is not put on the child's sys.path.
    proc = subprocess.Popen([sys.executable, "-P", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    if on_start is not None:
        on_start(proc)
    try:
        try:  # the child reads all of the text before it writes anything
            proc.stdin.write(len(text).to_bytes(8, "little"))
            proc.stdin.write(text)
            proc.stdin.close()
        except BrokenPipeError:  # it died or was stopped: the read below says so
            pass
        head = bytearray(8)
        _read_exact(proc.stdout, memoryview(head))
        out = np.empty(int.from_bytes(head, "little"), dtype=np.int32)
        _read_exact(proc.stdout, memoryview(out).cast("B"))
        if proc.wait() != 0 or len(out) != (len(text) + 1) // 2:
            raise RuntimeError(f"suffix sort child failed (exit {proc.returncode})")
        return out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _child() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    head = bytearray(8)
    _read_exact(stdin, memoryview(head))
    text = bytearray(int.from_bytes(head, "little"))
    _read_exact(stdin, memoryview(text))
    out = even_suffixes(text)
    del text
    stdout.write(len(out).to_bytes(8, "little"))
    stdout.write(memoryview(out).cast("B"))
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
