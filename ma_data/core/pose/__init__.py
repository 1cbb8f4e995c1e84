"""2D pose extraction: backends behind one interface, single-dancer tracking, a track cache, batch extraction.

- :mod:`ma_data.core.pose.base` — the :class:`PoseBackend` interface.
- :mod:`ma_data.core.pose.mediapipe_backend` — BlazePose (default; weights ship with the wheel, offline).
- :mod:`ma_data.core.pose.vitpose_backend` — ViTPose-S coco_25 + a person detector (the official protocol's model),
  with :mod:`~ma_data.core.pose.vitpose_convert` (easy_ViTPose checkpoint -> transformers),
  :mod:`~ma_data.core.pose.topdown` (crop and heatmap decoding, invisible-joint rules) and
  :mod:`~ma_data.core.pose.detector` (detectors by name: RT-DETR, and YOLOv8s in :mod:`~ma_data.core.pose.yolov8`
  with :mod:`~ma_data.core.pose.yolov8_model` and :mod:`~ma_data.core.pose.yolo_checkpoint`).
- :mod:`ma_data.core.pose.batching` — batch sizing by memory, chunking, thread-pool slot filling, and the
  float32 (IEEE, no TF32) / bfloat16 (autocast) modes of the pose model.
- :mod:`ma_data.core.pose.tracking` — single-dancer selection across frames.
- :mod:`ma_data.core.pose.cache` — tracks cached by video sha256 + backend + weights hash.
- :mod:`ma_data.core.pose.registry` — ``get_backend(name)`` for ``--pose mediapipe|vitpose``.
- :mod:`ma_data.core.pose.extract` — ``extract_tracks(videos, backend_name)`` with caching and per-video errors,
  serially or spread over processes / Ray (:mod:`ma_data.core.executors`).
"""
