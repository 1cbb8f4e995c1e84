"""2D pose extraction: backends behind one interface, single-dancer tracking, a track cache, batch extraction.

- :mod:`benchmark.pose.base` — the :class:`PoseBackend` interface.
- :mod:`benchmark.pose.mediapipe_backend` — BlazePose (default; weights ship with the wheel, offline).
- :mod:`benchmark.pose.vitpose_backend` — ViTPose-S coco_25 + a person detector (the official protocol's model).
- :mod:`benchmark.pose.registry` — ``get_backend(name)`` for ``--pose mediapipe|vitpose``.
- :mod:`benchmark.pose.extract` — ``extract_tracks(videos, backend_name)`` with caching and per-video errors.
"""
