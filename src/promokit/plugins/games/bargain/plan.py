"""The cut plan (:func:`cut_plan`): a bargain's ``helps`` cuts from the
list price to the floor, fixed by the server seed and the bargain id, in integers."""

from __future__ import annotations

import functools

from promokit.games import below, seed_stream

#: Resolution of each step's random decay: ``u`` is drawn in [0, 2³²).
_SCALE = 1 << 32
#: The first planned cut's weight; the others decay from it in integers, so that
#: every verifier, in any language, computes the same plan.
_FIRST_WEIGHT = 1 << 64


def cut_plan(seed: str, bargain_id: str, total: int, helps: int) -> tuple[int, ...]:
    """The ``helps`` cuts, in minor units, that take a bargain from its list price to
    its floor (``total`` = price − floor): each at least one minor unit, summing
    to exactly ``total``, never larger than the cut before it.

    Weights decay geometrically with random jitter: ``w₀ = 2⁶⁴`` and, for step
    ``i = 1 … helps−1``, ``wᵢ = ⌊wᵢ₋₁ · (N·2³² − 2uᵢ) / ((N+1)·2³²)⌋`` where
    ``N = helps`` and ``uᵢ = below(block, 2³², 8·((i−1) mod 4))`` from block
    ``⌊(i−1)/4⌋`` of ``seed_stream(seed, bargain_id)`` — each step keeps between
    ``(N−2)/(N+1)`` and ``N/(N+1)`` of the weight, so the last help weighs about
    e⁻² of the first whatever ``N``. Every help first gets one minor unit; the
    other ``total − N`` are shared in proportion to the weights by largest
    remainder (ties to the earlier help). Weights never increase, so neither
    do the cuts.
    """
    if helps < 1 or total < helps:
        raise ValueError(f"{helps} helps cannot cut {total} minor units "
                         "(each help cuts at least one)")
    blocks = seed_stream(seed, bargain_id)
    block = b""
    weights = [_FIRST_WEIGHT]
    for step in range(1, helps):
        slot = (step - 1) % 4
        if slot == 0:
            block = next(blocks)
        jitter = below(block, _SCALE, 8 * slot)
        weights.append(weights[-1] * (helps * _SCALE - 2 * jitter)
                       // ((helps + 1) * _SCALE))
    spare = total - helps
    whole = sum(weights)
    shares = [spare * weight for weight in weights]
    cuts = [1 + share // whole for share in shares]
    left = total - sum(cuts)
    for index in sorted(range(helps), key=lambda i: (-(shares[i] % whole), i))[:left]:
        cuts[index] += 1
    return tuple(cuts)


@functools.lru_cache(maxsize=512)
def cached_cut_plan(seed: str, bargain_id: str, total: int, helps: int) -> tuple[int, ...]:
    return cut_plan(seed, bargain_id, total, helps)
