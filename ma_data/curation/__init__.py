"""Curation of downloaded videos into MA-Data clips: shots, static and person filters, windows, encode, dedupe.

Modules: ``shots`` (PySceneDetect / TransNetV2), ``static`` (Farnebäck flow speed), ``person`` (pose backend +
HOG people count), ``clips`` (windows and frame-accurate re-encode), ``dedupe`` (perceptual hashes),
``curate`` (the per-source stage function).
"""
