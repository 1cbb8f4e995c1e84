"""File formats shared across the toolkit (one module per format: ``keypoints``, ``motion``, ...).

Import the module you need, e.g. ``from ma_data.core.formats.keypoints import KeypointTrack``; this package
imports nothing itself so that one format's dependencies never burden another.
"""
