"""Motion protocols: hand-crafted kinetic/geometric features, FID, diversity and beat alignment.

``benchmark.motion.common`` holds the protocol-agnostic numerics (Frechet distance with the reference
implementations' quirks, diversity, motion beats, BAS, normalisation); the 2D family is split into
``protocols2d`` (definitions), ``joints2d``, ``features2d``, ``windows2d`` and ``mace2d`` (scoring); the 3D
family into ``protocols3d`` (definitions and scoring), ``features3d`` and ``physical``. The registry of
named protocols is :mod:`benchmark.protocols`.
"""
