"""Tiny random person detectors for the pose tests: a YOLOv8 of our own classes and an RT-DETR directory."""

from __future__ import annotations

from pathlib import Path

import torch

from ma_data.core.pose import yolov8_model as ym

#: A YOLOv8 a few kB large with three classes (person is class 0, as in COCO).
TINY_YOLO = ym.YoloV8Config(widths=(8, 16, 16, 32, 32), repeats=(1, 2), nc=3)


def random_yolov8(seed: int = 0, cfg: ym.YoloV8Config = TINY_YOLO) -> ym.YoloV8:
    """A YOLOv8 with seeded random weights and BatchNorm statistics (the DFL stays fixed), in eval mode."""
    torch.manual_seed(seed)
    model = ym.YoloV8(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "dfl" not in name:
                p.copy_(torch.randn_like(p) * (0.3 if p.ndim > 1 else 0.1))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.1)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
    return model.eval()


def save_tiny_rtdetr(directory: Path, seed: int = 0) -> Path:
    """A seeded random 10-query RT-DETR (labels cat, person, dog) saved as a transformers model directory."""
    from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrResNetConfig

    backbone = RTDetrResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16, 16, 16], depths=[1, 1, 1, 1], layer_type="basic",
        out_features=["stage2", "stage3", "stage4"],
    )  # fmt: skip
    cfg = RTDetrConfig(
        backbone_config=backbone, encoder_hidden_dim=16, encoder_in_channels=[16, 16, 16], encoder_ffn_dim=32,
        d_model=16, decoder_ffn_dim=32, num_queries=10, decoder_layers=1, encoder_layers=1,
        decoder_attention_heads=2, encoder_attention_heads=2, num_labels=3, decoder_in_channels=[16, 16, 16],
        num_denoising=0, id2label={0: "cat", 1: "person", 2: "dog"}, label2id={"cat": 0, "person": 1, "dog": 2},
    )  # fmt: skip
    torch.manual_seed(seed)
    RTDetrForObjectDetection(cfg).save_pretrained(directory)
    return Path(directory)
