"""Appearance benchmark: VBench dimensions (IQ, AQ, SC, BC, MS, TF) and full-reference metrics.

Public entry point: :func:`score_appearance` (``mace-bench evaluate --dims appearance``, through
:func:`benchmark.runner.evaluate_appearance`). The protocol is ``vbench-appearance`` (:mod:`.protocol`); the
dimensions are registered in :mod:`.dimensions`.

One module per dimension, each documenting what VBench does and what had to be re-derived:

* ``temporal_flickering`` - model-free; OpenCV decode and VBench's float32 arithmetic, bit-identical.
* ``clip_dims`` - background consistency (CLIP ViT-B/32) and aesthetic quality (LAION head on ViT-L/14):
  the OpenAI checkpoints mapped onto transformers' CLIP vision tower (``clip_models``).
* ``dino`` - subject consistency: DINO ViT-B/16 in transformers' ViTModel with DINO's positional
  interpolation.
* ``musiq`` - imaging quality: MUSIQ-SPAQ, own implementation loading the pyiqa checkpoint keys.
* ``amt`` - motion smoothness: AMT-S, own implementation loading ``amt-s.pth``.
* ``full_reference`` / ``lpips`` / ``fvd`` - SSIM, PSNR, LPIPS (AlexNet v0.1), FVD (StyleGAN-V I3D).
* ``transforms`` - VBench's torchvision preprocessing re-derived on plain torch (no torchvision).

Only TF is verified against VBench numbers here (no weights can be downloaded on the build machines);
``mace-bench selfcheck appearance`` compares every dimension with the official demo results once the
weights are cached.
"""

from benchmark.appearance.api import (
    ALL_DIMS,
    FULL_REFERENCE_DIMS,
    VBENCH_DIMS,
    build_dimensions,
    score_appearance,
)
from benchmark.appearance.decode import collect_videos
from benchmark.appearance.protocol import VBENCH_APPEARANCE

__all__ = [
    "ALL_DIMS",
    "FULL_REFERENCE_DIMS",
    "VBENCH_APPEARANCE",
    "VBENCH_DIMS",
    "build_dimensions",
    "collect_videos",
    "score_appearance",
]
