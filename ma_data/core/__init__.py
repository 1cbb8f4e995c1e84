"""The toolkit's base layer: what every package imports and what imports none of them.

``ma_data.core`` holds the shared capabilities: errors, the command-line support every CLI uses, media and
file IO, the file formats (keypoint tracks, SMPL motion), the SMPL body, music features, the weights
registry and cache, pose estimation (used by the benchmark's keypoint extraction *and* by dataset curation),
the executors that spread work over processes or Ray (the dataset build and keypoint extraction share them),
pose-video drawing, and the installation checks.

The rule (checked by ``tests/test_layers.py``): modules here import only each other and third-party
packages — never the dataset builder (the rest of ``ma_data``), ``benchmark``, ``models`` or ``tools``.
"""
