"""Keyed random streams: the j-th number of stream s in replication i depends on (seed, s, i, j) only."""

from __future__ import annotations

import math

import numpy as np

from sim.engine.streams import CHUNK, chunks, stream_key


def test_a_replications_numbers_do_not_depend_on_its_batch() -> None:
    """Row r of a batch is the same numbers whatever the batch's start and stop."""
    whole = chunks(7, "item/a", 0, 50, 2)
    for start, stop in ((0, 1), (13, 14), (10, 50), (49, 50)):
        assert np.array_equal(chunks(7, "item/a", start, stop, 2), whole[start:stop])


def test_chunks_streams_and_seeds_are_all_different_numbers() -> None:
    """Another chunk, another stream name or another seed gives other numbers."""
    base = chunks(7, "item/a", 0, 20, 0)
    for other in (chunks(7, "item/a", 0, 20, 1), chunks(7, "item/b", 0, 20, 0), chunks(8, "item/a", 0, 20, 0)):
        assert not np.intersect1d(base, other).size
    assert np.unique(base).size == base.size  # no two replications or positions share a number


def test_shape_and_range() -> None:
    """CHUNK uniforms in [0, 1) per replication."""
    u = chunks(1, "x", 5, 9, 0)
    assert u.shape == (4, CHUNK)
    assert (u >= 0).all() and (u < 1).all()


def test_uniforms_are_uniform() -> None:
    """Mean 1/2 and variance 1/12 within 4.5 standard errors; neighbouring draws uncorrelated."""
    u = chunks(2025, "rounds/cancel", 0, 20_000, 0).ravel()
    n = u.size
    assert abs(u.mean() - 0.5) < 4.5 * math.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 4.5 * math.sqrt(1 / 180 / n)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4.5 / math.sqrt(n)


def test_stream_keys_are_stable_and_distinct() -> None:
    """A stream's key comes from its name alone (not Python's hash), 64 bits."""
    assert stream_key("item/flights") == stream_key("item/flights")
    assert stream_key("item/flights") != stream_key("item/flight")
    assert 0 <= stream_key("item/flights") < 2**64


def test_seeds_and_keys_are_exact_64_bit_integers() -> None:
    """Neighbouring seeds above 2**53 and the largest seed give their own numbers, without a warning
    (keys go through uint64 end to end, never float64)."""
    for seed in (2**53, 2**63 - 1, 2**63, 2**64 - 2):
        a, b = chunks(seed, "item/flights", 0, 4), chunks(seed + 1, "item/flights", 0, 4)
        assert not np.intersect1d(a, b).size, seed
    assert stream_key("item/flights") >= 2**63  # a key in the upper half, the case that lost bits
