"""The YOLOv8 detection network (ultralytics ``yolov8.yaml``) in plain torch, with its state-dict key names.

Backbone Conv/C2f/SPPF, PAN neck (nearest upsampling + concatenation), decoupled Detect head with DFL, as
ultralytics 8.3.107 ``nn/modules/{conv,block,head}.py`` define them for the released v8 weights (the "legacy"
head: two 3x3 Conv + 1x1 Conv2d per branch). Module attributes mirror ultralytics' so ``model.N.*`` keys of the
released ``yolov8s.pt`` load strictly. :meth:`YoloV8.fuse` folds every BatchNorm into its convolution with
ultralytics' ``fuse_conv_and_bn`` arithmetic, as its predictor does before inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

REG_MAX = 16
STRIDES = (8.0, 16.0, 32.0)


@dataclass(frozen=True)
class YoloV8Config:
    """Channel widths of the five backbone stages (64..1024 scaled), C2f repeats (3 and 6 scaled), classes."""

    widths: tuple[int, int, int, int, int] = (32, 64, 128, 256, 512)  # YOLOv8s
    repeats: tuple[int, int] = (1, 2)
    nc: int = 80

    @classmethod
    def scaled(cls, depth: float, width: float, max_channels: int, nc: int = 80) -> YoloV8Config:
        """The yaml's compound scaling (``scales: s: [0.33, 0.50, 1024]``)."""

        def ch(c: int) -> int:
            return math.ceil(min(c, max_channels) * width / 8) * 8

        def n(r: int) -> int:
            return max(round(r * depth), 1)

        return cls(tuple(ch(c) for c in (64, 128, 256, 512, 1024)), (n(3), n(6)), nc)  # type: ignore[arg-type]

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor]) -> YoloV8Config:
        """Read widths, repeats and classes off a ``model.N.*`` state dict (raises KeyError if not YOLOv8)."""
        widths = tuple(int(sd[f"model.{i}.conv.weight"].shape[0]) for i in (0, 1, 3, 5, 7))

        def repeats(layer: int) -> int:
            return len({k.split(".")[3] for k in sd if k.startswith(f"model.{layer}.m.")})

        return cls(widths, (repeats(2), repeats(4)), int(sd["model.22.cv3.0.2.weight"].shape[0]))  # type: ignore[arg-type]


class Conv(nn.Module):
    """Conv2d (no bias, 'same' padding) + BatchNorm2d + SiLU; after :meth:`fuse`, Conv2d with bias + SiLU."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)  # ultralytics' initialize_weights values
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "bn"):
            return self.act(self.bn(self.conv(x)))
        return self.act(self.conv(x))

    @torch.no_grad()
    def fuse(self) -> None:
        """ultralytics ``fuse_conv_and_bn``: w = diag(g / sqrt(eps + var)) @ w; b = beta - g * mean / sqrt(var + eps)."""
        conv, bn = self.conv, self.bn
        fused = nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True
        ).requires_grad_(False)
        w_conv = conv.weight.view(conv.out_channels, -1)
        w_bn = torch.diag(bn.weight.div(torch.sqrt(bn.eps + bn.running_var)))
        fused.weight.copy_(torch.mm(w_bn, w_conv).view(fused.weight.shape))
        b_conv = torch.zeros(conv.weight.shape[0], dtype=conv.weight.dtype)
        b_bn = bn.bias - bn.weight.mul(bn.running_mean).div(torch.sqrt(bn.running_var + bn.eps))
        fused.bias.copy_(torch.mm(w_bn, b_conv.reshape(-1, 1)).reshape(-1) + b_bn)
        self.conv = fused
        del self.bn


class Bottleneck(nn.Module):
    def __init__(self, c: int, shortcut: bool) -> None:
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):
    def __init__(self, c1: int, c2: int, n: int, shortcut: bool) -> None:
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1: int, c2: int, k: int = 5) -> None:
        super().__init__()
        self.cv1 = Conv(c1, c1 // 2)
        self.cv2 = Conv(c1 // 2 * 4, c2)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class Concat(nn.Module):
    """Placeholder at the yaml's Concat positions (keeps layer indices); the concatenation is in forward."""


class DFL(nn.Module):
    """Distribution focal loss integral: softmax over 16 bins, then the expectation (a fixed 1x1 conv)."""

    def __init__(self, c1: int = REG_MAX) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1)
        self.c1 = c1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


class Detect(nn.Module):
    """Decoupled head; inference output (B, 4 + nc, anchors): xywh boxes in input pixels, class sigmoids."""

    def __init__(self, nc: int, ch: tuple[int, int, int]) -> None:
        super().__init__()
        self.nc, self.no = nc, nc + 4 * REG_MAX
        c2, c3 = max(16, ch[0] // 4, REG_MAX * 4), max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * REG_MAX, 1)) for x in ch
        )
        self.cv3 = nn.ModuleList(
            nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for x in ch
        )
        self.dfl = DFL(REG_MAX)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        x = [torch.cat((self.cv2[i](f), self.cv3[i](f)), 1) for i, f in enumerate(feats)]
        b = x[0].shape[0]
        x_cat = torch.cat([xi.view(b, self.no, -1) for xi in x], 2)
        anchors, strides = (t.transpose(0, 1) for t in make_anchors(x, STRIDES))
        box, cls = x_cat.split((REG_MAX * 4, self.nc), 1)
        dbox = dist2bbox(self.dfl(box), anchors.unsqueeze(0)) * strides
        return torch.cat((dbox, cls.sigmoid()), 1)


def make_anchors(
    feats: list[torch.Tensor], strides, offset: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid-cell centres (A, 2) and their strides (A, 1), level by level (ultralytics ``make_anchors``)."""
    points, stride_t = [], []
    dtype = feats[0].dtype
    for f, s in zip(feats, strides, strict=True):
        h, w = f.shape[2:]
        sx = torch.arange(end=w, dtype=dtype) + offset
        sy = torch.arange(end=h, dtype=dtype) + offset
        sy, sx = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((sx, sy), -1).view(-1, 2))
        stride_t.append(torch.full((h * w, 1), s, dtype=dtype))
    return torch.cat(points), torch.cat(stride_t)


def dist2bbox(distance: torch.Tensor, anchor_points: torch.Tensor) -> torch.Tensor:
    """(left, top, right, bottom) distances -> (cx, cy, w, h), along dim 1."""
    lt, rb = distance.chunk(2, 1)
    x1y1 = anchor_points - lt
    x2y2 = anchor_points + rb
    return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1)


class YoloV8(nn.Module):
    """``yolov8.yaml``: 23 layers in ``self.model`` (state-dict keys ``model.0.conv.weight`` ...)."""

    def __init__(self, cfg: YoloV8Config = YoloV8Config()) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = cfg.widths
        na, nb = cfg.repeats
        up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.cfg = cfg
        self.model = nn.ModuleList(
            [
                Conv(3, c1, 3, 2), Conv(c1, c2, 3, 2), C2f(c2, c2, na, True),  # 0-2
                Conv(c2, c3, 3, 2), C2f(c3, c3, nb, True),  # 3-4 (P3)
                Conv(c3, c4, 3, 2), C2f(c4, c4, nb, True),  # 5-6 (P4)
                Conv(c4, c5, 3, 2), C2f(c5, c5, na, True), SPPF(c5, c5),  # 7-9 (P5)
                up, Concat(), C2f(c5 + c4, c4, na, False),  # 10-12
                up, Concat(), C2f(c4 + c3, c3, na, False),  # 13-15 (P3 out)
                Conv(c3, c3, 3, 2), Concat(), C2f(c3 + c4, c4, na, False),  # 16-18 (P4 out)
                Conv(c4, c4, 3, 2), Concat(), C2f(c4 + c5, c5, na, False),  # 19-21 (P5 out)
                Detect(cfg.nc, (c3, c4, c5)),  # 22
            ]
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        for i in range(4):
            x = m[i](x)
        p3 = m[4](x)
        p4 = m[6](m[5](p3))
        p5 = m[9](m[8](m[7](p4)))
        h12 = m[12](torch.cat((m[10](p5), p4), 1))
        h15 = m[15](torch.cat((m[13](h12), p3), 1))
        h18 = m[18](torch.cat((m[16](h15), h12), 1))
        h21 = m[21](torch.cat((m[19](h18), p5), 1))
        return m[22]([h15, h18, h21])

    def fuse(self) -> YoloV8:
        for module in self.modules():
            if isinstance(module, Conv) and hasattr(module, "bn"):
                module.fuse()
        return self
