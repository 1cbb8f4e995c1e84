"""Motion protocols: hand-crafted kinetic/geometric features, FID, diversity and beat alignment.

``benchmark.motion.common`` holds the protocol-agnostic numerics (Frechet distance with the reference
implementations' quirks, diversity, motion beats, BAS, normalisation); protocol modules such as
``benchmark.motion.mace2d`` build on it and register named protocols.
"""
