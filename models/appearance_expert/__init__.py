"""The MACE-Dance Appearance Expert on diffusers' Wan2.2-Animate, with peft LoRA and Accelerate.

Modules (one job each; importing this package imports no torch/diffusers):

* :mod:`.loading` -- the base model from a local diffusers-layout directory through the weights cache
  (``wan2.2-animate-14b-diffusers``), memory options (bf16, gradient checkpointing, model/group/sequential
  offload, VAE tiling) and what each costs.
* :mod:`.conditioning` -- pose video (``ma_data.core.pose_video`` drawing, resampled to the target fps), face video
  (512x512 crops from keypoints, or the null face), reference image, prompt.
* :mod:`.encoding` -- conditioning -> DiT inputs, shared by training and inference.
* :mod:`.flow_matching` -- Wan's rectified-flow objective (shifted schedule, DiffSynth's loss weighting).
* :mod:`.stages` -- stage 1 "kinematic" (only ``pose_patch_embedding`` trains) and stage 2 "aesthetic" (rank-32
  LoRA on every block's attention q/k/v/o and both FFN linears), adapter/LoRA files, strength.
* :mod:`.data`, :mod:`.training` -- MA-Data manifest windows and the Accelerate training loop.
* :mod:`.inference` -- one segment or a long video by the pose-anchored relay.
* :mod:`.tiny` -- a tiny random model in the same layout for CPU tests.
* :mod:`.cli` -- ``mace-dance generate`` (the cascade, :mod:`models.cascade`) and the ``appearance`` group
  (``python -m models.appearance_expert train-kinematic|train-aesthetic|animate|write-tiny-model``;
  multi-GPU: ``accelerate launch -m models.appearance_expert train-kinematic ...``).

Paper (default) vs the official scripts (option):

==========================  =========================================  ============================================
item                        default (paper)                            official scripts
==========================  =========================================  ============================================
stage-1 trainable           ``pose_patch_embedding`` only               whole adapter: ``--full-adapter``
stage-1 lr                  1e-5 (Adam)                                 1e-5
stage-2 lr                  5e-5                                        1e-4: ``--lr 1e-4``
stage-2 inputs              pose (and face) videos fed                  none: ``--no-pose-in-stage2``
LoRA strength at inference  0.5 (``appearance_infer.py``)               1.0 in the older validate scripts
motion -> pose video fps    resampled to 16 fps                         30 fps motion played at 16 fps
long videos                 relay (last frame + reference + global      one 77-frame clip per row
                            pose)
==========================  =========================================  ============================================
"""
