"""VBench motion smoothness: AMT-S frame interpolation (Li et al. 2023), re-implemented without VBench.

What VBench does (``vbench/motion_smoothness.py``, AMT-S config: corr radius 3, 4 levels, 3 flows,
channels 20/32/44/56, skip 20):

* decode every frame with OpenCV, convert to RGB, keep the even frames 0, 2, 4, ... as float [0, 1];
* replicate-pad them to a multiple of 16 (``int(16 / scale)``; scale is 1 on the CPU and, on CUDA, only
  drops below 1 for frames too large for the GPU's memory, by VBench's formula reproduced in
  :func:`vbench_scale`);
* interpolate the midpoint (t = 0.5) of every consecutive even pair, unpad, convert to uint8 with
  ``(x * 255).clip(0, 255).astype(uint8)`` (truncation, not rounding);
* compare each interpolated frame with the real odd frame between its inputs: ``mean(|a - b|)`` of uint8
  images; video score = (255 - mean over pairs) / 255; dimension = mean over videos.

The network below holds the checkpoint's tensors under the checkpoint's own names
(``amt-s.pth['state_dict']``), so it loads with ``strict=True``.
"""

from __future__ import annotations

import collections
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmark.appearance.base import VideoDimension, VideoValue
from ma_data.core.errors import FormatError, MediaError
from ma_data.core.io.torch_files import load_torch_file
from ma_data.core.weights import resolve_weight


# --------------------------------------------------------------------------------------------- helpers
def resize(x: torch.Tensor, scale_factor: float) -> torch.Tensor:
    return F.interpolate(x, scale_factor=scale_factor, mode="bilinear", align_corners=False)


def coords_grid(b: int, h: int, w: int, device) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    return torch.stack([xs, ys], dim=0).float()[None].expand(b, -1, -1, -1)


def bilinear_sample(img: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Sample ``img`` at pixel coordinates ``coords`` (..., 2) = (x, y), align_corners=True, zeros outside."""
    h, w = img.shape[-2:]
    x, y = coords.split(1, dim=-1)
    grid = torch.cat([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], dim=-1)
    return F.grid_sample(img, grid, align_corners=True)


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp by a pixel flow (border padding, align_corners=True)."""
    b, _, h, w = flow.shape
    xx = torch.linspace(-1.0, 1.0, w, device=flow.device).view(1, 1, 1, w).expand(b, -1, h, -1)
    yy = torch.linspace(-1.0, 1.0, h, device=flow.device).view(1, 1, h, 1).expand(b, -1, -1, w)
    grid = torch.cat([xx, yy], 1).to(img)
    norm = torch.cat([flow[:, :1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)], 1)
    return F.grid_sample(
        img, (grid + norm).permute(0, 2, 3, 1), mode="bilinear", padding_mode="border", align_corners=True
    )


def conv_prelu(cin: int, cout: int, k: int = 3, s: int = 1, p: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p), nn.PReLU(cout))


# ------------------------------------------------------------------------------- correlation features
class Bottleneck(nn.Module):
    """RAFT-style bottleneck with instance norm (no affine parameters)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout // 4, 1)
        self.conv2 = nn.Conv2d(cout // 4, cout // 4, 3, padding=1, stride=stride)
        self.conv3 = nn.Conv2d(cout // 4, cout, 1)
        self.norm = nn.InstanceNorm2d(cout)  # parameter-free, shared safely
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride), nn.InstanceNorm2d(cout))
            if stride != 1
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(F.instance_norm(self.conv1(x)))
        y = F.relu(F.instance_norm(self.conv2(y)))
        y = F.relu(F.instance_norm(self.conv3(y)))
        if self.downsample is not None:
            x = self.downsample(x)
        return F.relu(x + y)


class SmallEncoder(nn.Module):
    def __init__(self, out_dim: int = 84):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 7, stride=2, padding=3)
        self.layer1 = nn.Sequential(Bottleneck(32, 32, 1), Bottleneck(32, 32, 1))
        self.layer2 = nn.Sequential(Bottleneck(32, 64, 2), Bottleneck(64, 64, 1))
        self.layer3 = nn.Sequential(Bottleneck(64, 96, 2), Bottleneck(96, 96, 1))
        self.conv2 = nn.Conv2d(96, out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.instance_norm(self.conv1(x)))
        return self.conv2(self.layer3(self.layer2(self.layer1(x))))


class BidirCorr:
    """All-pairs correlation pyramid in both directions, looked up in a (2r+1)^2 window per level."""

    def __init__(self, f0: torch.Tensor, f1: torch.Tensor, levels: int, radius: int):
        b, d, h, w = f0.shape
        corr = (f0.reshape(b, d, h * w).transpose(1, 2) @ f1.reshape(b, d, h * w)) / math.sqrt(d)
        corr = corr.reshape(b, h, w, 1, h, w)
        corr_t = corr.permute(0, 4, 5, 3, 1, 2)
        self.radius, self.levels = radius, levels
        self.pyr = [corr.reshape(b * h * w, 1, h, w)]
        self.pyr_t = [corr_t.reshape(b * h * w, 1, h, w)]
        for _ in range(levels - 1):
            self.pyr.append(F.avg_pool2d(self.pyr[-1], 2, stride=2))
            self.pyr_t.append(F.avg_pool2d(self.pyr_t[-1], 2, stride=2))

    def __call__(self, coords0: torch.Tensor, coords1: torch.Tensor):
        r = self.radius
        c0, c1 = coords0.permute(0, 2, 3, 1), coords1.permute(0, 2, 3, 1)
        b, h, w, _ = c0.shape
        d = torch.linspace(-r, r, 2 * r + 1, device=c0.device)
        # (dy, dx) pairs added to (x, y) centres: the original's window ordering, kept for the weights
        delta = torch.stack(torch.meshgrid(d, d, indexing="ij"), dim=-1).view(1, 2 * r + 1, 2 * r + 1, 2)
        out, out_t = [], []
        for i in range(self.levels):
            p0 = c0.reshape(b * h * w, 1, 1, 2) / 2**i + delta
            p1 = c1.reshape(b * h * w, 1, 1, 2) / 2**i + delta
            out.append(bilinear_sample(self.pyr[i], p0).view(b, h, w, -1))
            out_t.append(bilinear_sample(self.pyr_t[i], p1).view(b, h, w, -1))
        cat = lambda t: torch.cat(t, dim=-1).permute(0, 3, 1, 2).contiguous().float()  # noqa: E731
        return cat(out), cat(out_t)


class SmallUpdate(nn.Module):
    def __init__(self, cdim: int, scale_factor: int | None, levels: int = 4, radius: int = 3):
        super().__init__()
        hidden, flow_dim, corr_dim, fc_dim = 76, 20, 64, 68
        planes = levels * (2 * radius + 1) ** 2
        self.scale_factor = scale_factor
        self.convc1 = nn.Conv2d(2 * planes, corr_dim, 1)
        self.convf1 = nn.Conv2d(4, flow_dim * 2, 7, padding=3)
        self.convf2 = nn.Conv2d(flow_dim * 2, flow_dim, 3, padding=1)
        self.conv = nn.Conv2d(corr_dim + flow_dim, fc_dim, 3, padding=1)

        def two(cin, cmid, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cmid, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(cmid, cout, 3, padding=1)
            )

        self.gru = two(fc_dim + 4 + cdim, hidden, hidden)
        self.feat_head = two(hidden, hidden, cdim)
        self.flow_head = two(hidden, hidden, 4)

    def forward(self, net, flow, corr):
        lrelu = lambda t: F.leaky_relu(t, 0.1)  # noqa: E731
        if self.scale_factor is not None:
            net = resize(net, 1 / self.scale_factor)
        cor = lrelu(self.convc1(corr))
        flo = lrelu(self.convf2(lrelu(self.convf1(flow))))
        inp = lrelu(self.conv(torch.cat([cor, flo], 1)))
        out = self.gru(torch.cat([inp, flow, net], 1))
        d_net, d_flow = self.feat_head(out), self.flow_head(out)
        if self.scale_factor is not None:
            d_net = resize(d_net, self.scale_factor)
            d_flow = self.scale_factor * resize(d_flow, self.scale_factor)
        return d_net, d_flow


# ---------------------------------------------------------------------------------- IFRNet-style part
class ResBlock(nn.Module):
    def __init__(self, c: int, side: int):
        super().__init__()
        self.side = side
        self.conv1 = conv_prelu(c, c)
        self.conv2 = conv_prelu(side, side)
        self.conv3 = conv_prelu(c, c)
        self.conv4 = conv_prelu(side, side)
        self.conv5 = nn.Conv2d(c, c, 3, 1, 1)
        self.prelu = nn.PReLU(c)

    def forward(self, x):
        s = self.side
        out = self.conv1(x)
        out = self.conv3(torch.cat([out[:, :-s], self.conv2(out[:, -s:])], 1))
        out = self.conv5(torch.cat([out[:, :-s], self.conv4(out[:, -s:])], 1))
        return self.prelu(x + out)


class Pyramid(nn.Module):
    def __init__(self, channels):
        super().__init__()
        prev = 3
        for i, c in enumerate(channels, 1):
            self.add_module(f"pyramid{i}", nn.Sequential(conv_prelu(prev, c, 3, 2, 1), conv_prelu(c, c)))
            prev = c
        self.n = len(channels)

    def forward(self, x):
        out = []
        for i in range(1, self.n + 1):
            x = getattr(self, f"pyramid{i}")(x)
            out.append(x)
        return out


def _decoder_block(cin: int, cmid: int, cout: int, skip: int) -> nn.Sequential:
    return nn.Sequential(conv_prelu(cin, cmid), ResBlock(cmid, skip), nn.ConvTranspose2d(cmid, cout, 4, 2, 1))


class InitDecoder(nn.Module):
    def __init__(self, cin, cout, skip):
        super().__init__()
        self.convblock = _decoder_block(cin * 2 + 1, cin * 2, cout + 4, skip)

    def forward(self, f0, f1, embt):
        t = embt.expand(len(f0), 1, *f0.shape[2:])
        out = self.convblock(torch.cat([f0, f1, t], 1))
        return out[:, :2], out[:, 2:4], out[:, 4:]


class MidDecoder(nn.Module):
    def __init__(self, cin, cout, skip):
        super().__init__()
        self.convblock = _decoder_block(cin * 3 + 4, cin * 3, cout + 4, skip)

    def forward(self, ft, f0, f1, flow0, flow1):
        out = self.convblock(torch.cat([ft, warp(f0, flow0), warp(f1, flow1), flow0, flow1], 1))
        return out[:, :2] + 2.0 * resize(flow0, 2.0), out[:, 2:4] + 2.0 * resize(flow1, 2.0), out[:, 4:]


class MultiFlowDecoder(nn.Module):
    def __init__(self, cin, skip, n):
        super().__init__()
        self.n = n
        self.convblock = _decoder_block(cin * 3 + 4, cin * 3, 8 * n, skip)

    def forward(self, ft, f0, f1, flow0, flow1):
        n = self.n
        out = self.convblock(torch.cat([ft, warp(f0, flow0), warp(f1, flow1), flow0, flow1], 1))
        d0, d1, mask, res = torch.split(out, [2 * n, 2 * n, n, 3 * n], 1)
        flow0 = d0 + 2.0 * resize(flow0, 2.0).repeat(1, n, 1, 1)
        flow1 = d1 + 2.0 * resize(flow1, 2.0).repeat(1, n, 1, 1)
        return flow0, flow1, torch.sigmoid(mask), res


class AmtS(nn.Module):
    """AMT-S; parameter names equal the keys of ``amt-s.pth['state_dict']``."""

    def __init__(self, radius=3, levels=4, num_flows=3, channels=(20, 32, 44, 56), skip=20):
        super().__init__()
        self.radius, self.levels, self.num_flows = radius, levels, num_flows
        self.feat_encoder = SmallEncoder(84)
        self.encoder = Pyramid(channels)
        self.decoder4 = InitDecoder(channels[3], channels[2], skip)
        self.decoder3 = MidDecoder(channels[2], channels[1], skip)
        self.decoder2 = MidDecoder(channels[1], channels[0], skip)
        self.decoder1 = MultiFlowDecoder(channels[0], skip, num_flows)
        self.update4 = SmallUpdate(44, None, levels, radius)
        self.update3 = SmallUpdate(32, 2, levels, radius)
        self.update2 = SmallUpdate(20, 4, levels, radius)
        self.comb_block = nn.Sequential(
            nn.Conv2d(3 * num_flows, 6 * num_flows, 3, 1, 1),
            nn.PReLU(6 * num_flows),
            nn.Conv2d(6 * num_flows, 3, 3, 1, 1),
        )

    def _lookup(self, corr_fn, coord, flow0, flow1, embt, down):
        if down != 1:
            flow0 = resize(flow0, 1 / down) / down
            flow1 = resize(flow1, 1 / down) / down
        c0, c1 = corr_fn(coord + flow1 * (1.0 / embt), coord + flow0 * (1.0 / (1.0 - embt)))
        return torch.cat([c0, c1], 1), torch.cat([flow0, flow1], 1)

    def _refine(self, update, ft, flow0, flow1, corr, flow):
        d_ft, d_flow = update(ft, flow, corr)
        d0, d1 = torch.chunk(d_flow, 2, 1)
        return flow0 + d0, flow1 + d1, ft + d_ft

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, embt: torch.Tensor, scale_factor: float = 1.0):
        mean = torch.cat([img0, img1], 2).mean(dim=(1, 2, 3), keepdim=True)
        img0, img1 = img0 - mean, img1 - mean
        i0 = resize(img0, scale_factor) if scale_factor != 1.0 else img0
        i1 = resize(img1, scale_factor) if scale_factor != 1.0 else img1
        b, _, h, w = i0.shape
        coord = coords_grid(b, h // 8, w // 8, img0.device)
        fmaps = self.feat_encoder(torch.cat([i0, i1], 0))
        corr_fn = BidirCorr(fmaps[:b], fmaps[b:], self.levels, self.radius)
        f0 = self.encoder(i0)
        f1 = self.encoder(i1)

        fl0, fl1, ft = self.decoder4(f0[3], f1[3], embt)
        corr, flow = self._lookup(corr_fn, coord, fl0, fl1, embt, 1)
        fl0, fl1, ft = self._refine(self.update4, ft, fl0, fl1, corr, flow)
        fl0, fl1, ft = self.decoder3(ft, f0[2], f1[2], fl0, fl1)
        corr, flow = self._lookup(corr_fn, coord, fl0, fl1, embt, 2)
        fl0, fl1, ft = self._refine(self.update3, ft, fl0, fl1, corr, flow)
        fl0, fl1, ft = self.decoder2(ft, f0[1], f1[1], fl0, fl1)
        corr, flow = self._lookup(corr_fn, coord, fl0, fl1, embt, 4)
        fl0, fl1, ft = self._refine(self.update2, ft, fl0, fl1, corr, flow)
        fl0, fl1, mask, res = self.decoder1(ft, f0[0], f1[0], fl0, fl1)
        if scale_factor != 1.0:
            inv = 1.0 / scale_factor
            fl0, fl1 = resize(fl0, inv) * inv, resize(fl1, inv) * inv
            mask, res = resize(mask, inv), resize(res, inv)
        return torch.clamp(self._combine(img0, img1, fl0, fl1, mask, res, mean), 0, 1)

    def _combine(self, img0, img1, flow0, flow1, mask, res, mean):
        b, c, h, w = flow0.shape
        n = c // 2
        rep = lambda t, ch: t.reshape(b, n, ch, h, w).reshape(-1, ch, h, w)  # noqa: E731
        stack = lambda t: torch.stack([t] * n, 1).reshape(-1, *t.shape[1:])  # noqa: E731
        warped = rep(mask, 1) * warp(stack(img0), rep(flow0, 2)) + (1 - rep(mask, 1)) * warp(
            stack(img1), rep(flow1, 2)
        )
        warped = (warped + stack(mean) + rep(res, 3)).reshape(b, n, 3, h, w)
        return warped.mean(1) + self.comb_block(warped.view(b, -1, h, w))


#: The released amt-s.pth names ``typing.OrderedDict`` (an alias of ``collections.OrderedDict``) in its pickle.
_AMT_CLASSES = {"typing.OrderedDict": collections.OrderedDict}


def load_amt(path: str | Path) -> AmtS:
    """AMT-S from a checkpoint, read with ``torch.load(weights_only=True)``."""
    ckpt = load_torch_file(path, classes=_AMT_CLASSES)
    sd = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if isinstance(sd, dict):
        sd = {str(k).removeprefix("module."): v for k, v in sd.items() if torch.is_tensor(v)}
    if not isinstance(sd, dict) or not any(k.startswith("feat_encoder.") for k in sd):
        raise FormatError(f"{path}: not an AMT checkpoint (no feat_encoder tensors)")
    return build_amt(sd)


def build_amt(sd: dict[str, torch.Tensor]) -> AmtS:
    model = AmtS()
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise FormatError(f"AMT-S key mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def vbench_scale(h: int, w: int, device: str) -> float:
    """VBench's memory-driven inference scale (1 on the CPU and for frames that fit the GPU)."""
    if str(device).startswith("cuda"):
        anchor_res, anchor_mem, bias = 1024 * 512, 1500 * 1024**2, 2500 * 1024**2
        vram = torch.cuda.get_device_properties(torch.device(device)).total_memory
        scale = anchor_res / (h * w) * np.sqrt((vram - bias) / anchor_mem)
    else:
        scale = 8192 * 8192 / (h * w)
    scale = min(scale, 1.0)
    return 1 / np.floor(1 / np.sqrt(scale) * 16) * 16


class MotionSmoothness(VideoDimension):
    keys = ("motion_smoothness",)

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, model: AmtS | None = None):
        self.model = (model if model is not None else load_amt(resolve_weight("amt-s"))).to(device).eval()
        self.device = device
        self.pairs_per_batch = max(1, batch_size // 4)

    def start(self, source: str) -> None:
        self._source = source
        self._index = 0
        self._prev_even: np.ndarray | None = None
        self._odd: np.ndarray | None = None
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._diffs: list[float] = []

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        for frame in frames_bgr:
            rgb = np.ascontiguousarray(frame[..., ::-1])
            if self._index % 2 == 0:
                if self._prev_even is not None and self._odd is not None:
                    self._pending.append((self._prev_even, rgb, self._odd))
                self._prev_even, self._odd = rgb, None
            else:
                self._odd = rgb
            self._index += 1
            if len(self._pending) >= self.pairs_per_batch:
                self._flush()

    @torch.no_grad()
    def _flush(self) -> None:
        if not self._pending:
            return
        a = torch.from_numpy(np.stack([p[0] for p in self._pending])).permute(0, 3, 1, 2).float() / 255.0
        b = torch.from_numpy(np.stack([p[1] for p in self._pending])).permute(0, 3, 1, 2).float() / 255.0
        h, w = a.shape[-2:]
        scale = float(vbench_scale(h, w, self.device))
        div = int(16 / scale)
        ph, pw = (div - h % div) % div, (div - w % div) % div
        pad = [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]
        a = F.pad(a, pad, mode="replicate").to(self.device)
        b = F.pad(b, pad, mode="replicate").to(self.device)
        embt = torch.full((len(a), 1, 1, 1), 0.5, device=self.device)
        pred = self.model(a, b, embt, scale_factor=scale)[..., pad[2] : pad[2] + h, pad[0] : pad[0] + w]
        pred = (pred * 255.0).permute(0, 2, 3, 1).cpu().numpy().clip(0, 255).astype(np.uint8)
        for img, (_, _, odd) in zip(pred, self._pending, strict=True):
            self._diffs.append(float(np.mean(np.abs(img.astype(np.int16) - odd.astype(np.int16)))))
        self._pending = []

    def finish(self) -> dict[str, VideoValue]:
        self._flush()
        if self._index < 2:
            raise MediaError(f"{self._source}: motion smoothness needs at least two frames")
        if not self._diffs:
            raise MediaError(f"{self._source}: motion smoothness needs at least three frames")
        score = (255.0 - float(np.mean(np.array(self._diffs)))) / 255.0
        return {"motion_smoothness": VideoValue.mean_of_videos(score)}
