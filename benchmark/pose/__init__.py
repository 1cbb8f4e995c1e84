"""2D pose extraction: backends behind one interface, single-dancer tracking, a track cache, batch extraction.

- :mod:`benchmark.pose.base` — the :class:`PoseBackend` interface.
- :mod:`benchmark.pose.mediapipe_backend` — BlazePose (default; weights ship with the wheel, offline).
- :mod:`benchmark.pose.vitpose_backend` — ViTPose-S coco_25 + a person detector (the official protocol's model),
  with :mod:`~benchmark.pose.vitpose_convert` (easy_ViTPose checkpoint -> transformers),
  :mod:`~benchmark.pose.topdown` (crop and heatmap decoding) and :mod:`~benchmark.pose.detector` (RT-DETR).
- :mod:`benchmark.pose.tracking` — single-dancer selection across frames.
- :mod:`benchmark.pose.cache` — tracks cached by video sha256 + backend + weights hash.
- :mod:`benchmark.pose.registry` — ``get_backend(name)`` for ``--pose mediapipe|vitpose``.
- :mod:`benchmark.pose.extract` — ``extract_tracks(videos, backend_name)`` with caching and per-video errors.
"""
