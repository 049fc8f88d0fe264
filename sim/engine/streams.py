"""Keyed random streams: the same numbers for replication *i* wherever it runs.

Every source of randomness (the round intervals, the cancellations, each item's agreement draw,
each constraint's lifting, each event kind) has a stream named like ``item/flights``. The *j*-th
uniform of stream ``s`` in replication ``i`` under ``seed`` is a pure function of
``(seed, s, i, j)``: Philox4x64-10 (numpy's counter-based generator) with key
``(seed, blake2b(s))`` at block counter ``(2 i + (j mod 8) // 4 + 1, j // 8, 0, 0)``. Chunk ``c``
(uniforms ``8 c .. 8 c + 7``) of a stream is drawn for a whole batch of replications in one call;
no two replications or chunks share a counter.

Because streams are named, not numbered, adding an item to a scenario leaves the draws of every
other source unchanged, and the draw that decides item *x* in scheduled round *k* is the same
number whatever happened to the other items (common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np

CHUNK = 8
"""Uniforms per stream per replication in one chunk (2 Philox blocks). Most streams need a few
numbers per replication; small chunks waste few draws, and a batch draws as many as it needs."""
_BLOCKS = CHUNK // 4


def stream_key(name: str) -> int:
    """A stable 64-bit key for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _generator(seed: int, key: int, counter0: int, counter1: int) -> np.random.Generator:
    """Philox keyed by (seed, stream key), both unsigned 64-bit integers end to end: a Python list
    of the two would go through float64 whenever either is 2**63 or more, and lose bits."""
    words = np.array([seed, key], dtype=np.uint64)
    counter = np.array([counter0, counter1, 0, 0], dtype=np.uint64)
    return np.random.Generator(np.random.Philox(key=words, counter=counter))


def chunks(seed: int, name: str, start: int, stop: int, chunk: int = 0) -> np.ndarray:
    """Uniforms ``chunk * CHUNK .. (chunk + 1) * CHUNK - 1`` of stream ``name`` for replications
    ``start..stop-1``, in one call: shape ``(stop - start, CHUNK)``; row ``r`` is the same whatever
    ``start`` and ``stop`` are (its counters are ``(2 r + 1, chunk)`` and ``(2 r + 2, chunk)``)."""
    gen = _generator(seed, stream_key(name), start * _BLOCKS, chunk)
    return gen.random((stop - start) * CHUNK).reshape(stop - start, CHUNK)
