"""Keypoint extraction speed, end to end (decode included), each figure beside its baseline from the same run.

    .venv/bin/python benchmarks/bench_pose.py                          # CPU: 640x480, tiny random models
    .venv/bin/python benchmarks/bench_pose.py --size 1280x720 --frames 600   # what the GPU check runs

Prints, on a synthetic video (a photograph of a person sliding over a grey canvas, H.264):

1. **decode** (the baseline): PyAV decode + RGB conversion in the calling thread, and with the conversion on
   ``--threads`` threads (what the batched pipeline reads from);
2. **mediapipe** (CPU): one process end to end (hash, decode, BlazePose graph), as frames per second of wall
   time and per CPU-second (= per core), where the time goes (decode, RGB conversion, graph), and
   ``--procs`` processes on copies of the video (``--executor process``), per worker;
3. **vitpose + detector**, frame by frame (batch 1, decoding inline: how it ran before batching) against
   batched (``--batch-size``, threaded decoding), as ratios. On the CPU with tiny random models (the
   wiring, not the model cost); with CUDA also with real-size random models (ViTPose-S, YOLOv8s, an
   RT-DETR-R18 layout) in float32 and bfloat16, beside the **batched-model floor**: the two networks alone on
   ready batches (detector on B frames + ViTPose on B crops), so ``e2e / floor`` shows what the rest costs.
   Random detector weights are calibrated (head bias, threshold) to give about ten person boxes per frame,
   as a real scene might; speed does not depend on what the weights say.

Targets (issue 16): mediapipe >= 40 frames/s per core; vitpose on one H100/H200 at 720p >= 1,000 frames/s
end to end and within 2x of the batched-model floor.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ma_data.core.io.video import iter_frames, probe_video, write_video  # noqa: E402
from ma_data.core.pose.extract import extract_track, extract_tracks  # noqa: E402

MESSI = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")


def make_video(path: Path, width: int, height: int, n: int) -> Path:
    """A person (the opencv-doc photograph, or a drawn figure without it) sliding over a grey canvas."""
    import cv2

    if MESSI.exists():
        person = cv2.imread(str(MESSI))[:, :, ::-1]
    else:  # a crude figure: enough for the detectors' and the graph's cost
        person = np.full((342, 548, 3), 127, np.uint8)
        cv2.ellipse(person, (274, 171), (60, 150), 0, 0, 360, (200, 120, 90), -1)
    scale = min(0.8 * height / person.shape[0], 0.6 * width / person.shape[1])
    person = cv2.resize(person, None, fx=scale, fy=scale)
    ph, pw = person.shape[:2]
    span = max(1, width - pw)

    def frames():
        for i in range(n):
            canvas = np.full((height, width, 3), 127, np.uint8)
            x = int(abs((i * 7) % (2 * span) - span))
            canvas[(height - ph) // 2 : (height - ph) // 2 + ph, x : x + pw] = person
            yield canvas

    return write_video(path, frames(), 30)


class Clock:
    """Wall time and this process's CPU time (plus reaped children's) of a block."""

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.r0 = self._cpu()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = self._cpu() - self.r0

    @staticmethod
    def _cpu() -> float:
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def row(name: str, frames: int, clock: Clock, base: float | None, cpu: bool = True) -> float:
    """One line: frames/s of wall time, per CPU-second of this process (``cpu``), ratio to ``base``."""
    fps = frames / clock.wall
    ratio = f"{fps / base:>8.2f}x" if base else f"{'':>9}"
    per_cpu = f"{frames / clock.cpu:>11.1f}" if cpu else f"{'-':>11}"
    print(f"  {name:<46}{fps:>9.1f}{per_cpu}{ratio}")
    return fps


def header(title: str) -> None:
    print(f"\n{title}\n  {'':<46}{'frames/s':>9}{'per CPU-s':>11}{'vs base':>9}")


# -- decode -------------------------------------------------------------------------------------------------


def bench_decode(video: Path, n: int, threads: int) -> tuple[float, float]:
    import av

    header("decode (baseline)")
    with Clock() as c:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            yuv = sum(1 for _ in container.decode(stream))
    row("decode only (yuv, no RGB conversion)", yuv, c, None)
    with Clock() as c:
        count = sum(1 for _ in iter_frames(video))
    base = row("decode + RGB, calling thread (baseline)", count, c, None)
    with Clock() as c:
        count = sum(1 for _ in iter_frames(video, threads=threads, prefetch=4 * threads))
    threaded = row(f"decode + RGB on {threads} threads", count, c, base)
    assert count == n
    return base, threaded


# -- mediapipe ----------------------------------------------------------------------------------------------


def bench_mediapipe(video: Path, n: int, base: float, procs: int, tmp: Path) -> None:
    try:
        from ma_data.core.pose.mediapipe_backend import MediaPipeBackend
    except ImportError:
        print("\nmediapipe: not installed (pip install 'mace-dance[pose]'), skipped")
        return
    header("mediapipe, CPU (end to end includes hashing and decoding)")
    backend = MediaPipeBackend()
    info = probe_video(video)
    frames = list(iter_frames(video))
    backend.estimate(frames[:5], 30.0, info.width, info.height)  # graph set-up and XNNPACK warm-up
    with Clock() as c:
        backend.estimate(frames, 30.0, info.width, info.height)
    graph = c.cpu / n
    row("BlazePose graph alone (frames in memory)", n, c, base)
    inline = backend.decode_options
    backend.decode_options = lambda w, h: {"threads": 0}  # decoding in the calling thread, as before
    with Clock() as c:
        extract_track(video, backend, None)
    row("end to end, decoding inline", n, c, base)
    backend.decode_options = inline
    with Clock() as c:
        extract_track(video, backend, None)
    per_core = row("end to end, decoding on a background thread", n, c, base)
    backend.close()
    # where a frame's CPU time goes (per frame, ms)
    import av

    with Clock() as d:
        with av.open(str(video)) as container:
            container.streams.video[0].thread_type = "AUTO"
            raw = list(container.decode(container.streams.video[0]))
    with Clock() as r:
        for f in raw:
            f.to_ndarray(format="rgb24")
    parts = {"decode": d.cpu / n, "RGB conversion": r.cpu / n, "BlazePose graph + Python": graph}
    total = sum(parts.values())
    print("  per frame: " + ", ".join(f"{k} {v * 1e3:.2f} ms ({v / total:.0%})" for k, v in parts.items()))
    print(f"  target >= 40 frames/s per core: {'met' if n / c.cpu >= 40 else 'NOT met'} ({n / c.cpu:.1f})")
    if procs > 1:
        from ma_data.core.pose.extract import extraction_executor

        copies = {}
        for i in range(2 * procs):  # two videos per worker
            copies[f"v{i}"] = tmp / f"copy{i}.mp4"
            shutil.copyfile(video, copies[f"v{i}"])
        short = tmp / "warm.mp4"
        write_video(short, (f for f, _ in zip(iter_frames(video), range(3), strict=False)), 30)
        with extraction_executor("process", "mediapipe", {}, workers=procs) as pool:
            # start the workers and build their graphs first: the figure is the steady rate
            extract_tracks(
                {f"w{i}": short for i in range(2 * procs)},
                "mediapipe",
                cache=False,
                progress=False,
                executor=pool,
            )
            with Clock() as c:
                tracks, errors = extract_tracks(
                    copies, "mediapipe", cache=False, progress=False, executor=pool
                )
        assert not errors, errors
        total_frames = sum(len(t) for t in tracks.values())
        fps = row(f"{procs} processes, {len(copies)} videos", total_frames, c, base, cpu=False)
        print(
            f"  per worker: {fps / procs:.1f} frames/s ({fps / procs / per_core:.2f}x one process; below the "
            "per-core rate when other work shares the cores)"
        )


# -- vitpose ------------------------------------------------------------------------------------------------


def random_yolo(cfg):
    """YOLOv8 with He-normal random convolutions (PyTorch's default init makes its activations vanish, so
    every anchor would score the same), BatchNorm as identity, fused as loaded checkpoints are."""
    import torch

    from ma_data.core.pose import yolov8_model as ym

    model = ym.YoloV8(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
    return model.eval().fuse()


def tiny_models():
    import torch
    from transformers import VitPoseForPoseEstimation

    from ma_data.core.pose import yolov8_model as ym
    from ma_data.core.pose.vitpose_convert import vitpose_config

    torch.manual_seed(0)
    pose = VitPoseForPoseEstimation(
        vitpose_config("s", hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
    ).eval()
    return pose, random_yolo(ym.YoloV8Config(widths=(8, 16, 16, 32, 32), repeats=(1, 2), nc=3))


def full_models():
    import torch
    from transformers import VitPoseForPoseEstimation

    from ma_data.core.pose import yolov8_model as ym
    from ma_data.core.pose.vitpose_convert import vitpose_config

    torch.manual_seed(0)
    pose = VitPoseForPoseEstimation(vitpose_config("s")).eval()
    return pose, random_yolo(ym.YoloV8Config.scaled(0.33, 0.50, 1024))


def calibrated_yolo(yolo, frame: np.ndarray, device: str, per_frame: float = 10.0):
    """YOLOv8 person detector whose random class head fires on about ``per_frame`` anchors per frame."""
    import torch

    from ma_data.core.pose.yolov8 import YoloV8PersonDetector

    det = YoloV8PersonDetector(model=yolo, device=device)
    x = torch.from_numpy(det.prepare(frame)).to(device).permute(2, 0, 1)[None].float() / 255
    head = yolo.model[22]
    feats = []
    hook = head.register_forward_pre_hook(lambda m, args: feats.append(args[0]))
    with torch.no_grad():
        yolo(x)
    hook.remove()
    with torch.no_grad():
        n_anchors = sum(f.shape[2] * f.shape[3] for f in feats[0])
        z = float(-np.sqrt(2) * torch.special.erfinv(torch.tensor(2 * per_frame / n_anchors - 1)).item())
        for level, f in zip(head.cv3, feats[0], strict=True):
            final = level[-1]
            logits = final(level[:-1](f))  # (1, nc, h, w)
            std = logits[:, 0].std().clamp_min(1e-6)
            final.weight.div_(std)
            final.bias.div_(std)
            final.bias[0] += -1.1 - z - float(final(level[:-1](f))[:, 0].mean())  # P(person > 0.25) ~ target
            final.bias[1:] = -20.0
    return det


def calibrated_rtdetr(tmp: Path, frame: np.ndarray, device: str, tiny: bool, per_frame: int = 10):
    """RT-DETR (random weights, an R18-like layout) with the threshold at its ``per_frame``-th best query."""
    import torch
    from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrResNetConfig

    from ma_data.core.pose.detector import RTDetrPersonDetector

    if tiny:
        backbone = RTDetrResNetConfig(
            embedding_size=8, hidden_sizes=[8, 16, 16, 16], depths=[1, 1, 1, 1], layer_type="basic",
            out_features=["stage2", "stage3", "stage4"],
        )  # fmt: skip
        cfg = RTDetrConfig(
            backbone_config=backbone, encoder_hidden_dim=16, encoder_in_channels=[16, 16, 16],
            encoder_ffn_dim=32, d_model=16, decoder_ffn_dim=32, num_queries=30, decoder_layers=1,
            encoder_layers=1, decoder_attention_heads=2, encoder_attention_heads=2, num_labels=80,
            decoder_in_channels=[16, 16, 16], num_denoising=0,
        )  # fmt: skip
    else:
        backbone = RTDetrResNetConfig(
            embedding_size=64, hidden_sizes=[64, 128, 256, 512], depths=[2, 2, 2, 2], layer_type="basic",
            out_features=["stage2", "stage3", "stage4"],
        )  # fmt: skip
        cfg = RTDetrConfig(
            backbone_config=backbone, encoder_in_channels=[128, 256, 512], decoder_layers=3, num_labels=80,
            num_denoising=0,
        )  # fmt: skip
    torch.manual_seed(0)
    RTDetrForObjectDetection(cfg).save_pretrained(tmp / "rtdetr")
    det = RTDetrPersonDetector(tmp / "rtdetr", device=device, threshold=0.0)
    scores = det.detect(frame)[:, 4]
    det.threshold = float(np.sort(scores)[::-1][min(per_frame, len(scores) - 1)])
    return det


def model_floor(backend, frame: np.ndarray, batch: int, repeats: int = 5) -> float:
    """Frames/s of the detector network on a ready batch plus ViTPose on as many ready crops (no decode,
    resize, NMS or heatmap decoding): the batched-model floor."""
    import torch

    from ma_data.core.pose.batching import precision
    from ma_data.core.pose.topdown import normalise

    dev = backend.device
    det = backend.detector
    frames = torch.from_numpy(np.stack([det.prepare(frame)] * batch)).to(dev)
    crops = torch.randint(0, 255, (batch, 256, 192, 3), dtype=torch.uint8, device=dev)
    model = det.model

    def step():
        with torch.no_grad():
            x = frames.permute(0, 3, 1, 2).float().div(255.0)
            with precision(torch, dev, "float32"):
                out = model(pixel_values=x) if hasattr(model, "config") else model(x.contiguous())
            with precision(torch, dev, backend.dtype):
                hm = backend.model(pixel_values=normalise(crops)).heatmaps
        return out, hm

    step()
    if dev.startswith("cuda"):
        torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return batch / best


def bench_vitpose(video: Path, n: int, args, device: str, tiny: bool, dtypes, detectors, tmp: Path) -> None:
    from ma_data.core.pose.vitpose_backend import ViTPoseBackend

    pose, yolo = tiny_models() if tiny else full_models()
    frame = next(iter_frames(video))
    kind = (
        "tiny random models" if tiny else "real-size random models (ViTPose-S, YOLOv8s, RT-DETR-R18 layout)"
    )
    for det_name in detectors:
        det = (
            calibrated_yolo(yolo.to(device), frame, device)
            if det_name == "yolov8s"
            else calibrated_rtdetr(tmp, frame, device, tiny)
        )
        for dtype in dtypes:
            header(f"vitpose + {det_name}, {device}, {dtype}, {kind}")
            make = functools.partial(ViTPoseBackend, model=pose, detector=det, device=device, dtype=dtype)
            one = make(batch_size=1, cpu_threads=1)
            one.decode_options = lambda w, h: {"threads": 0}  # decoding inline, frame by frame: as before
            k = min(n, args.unbatched_frames)
            short = tmp / f"short{k}.mp4"
            if not short.exists():
                write_video(short, (f for f, _ in zip(iter_frames(video), range(k), strict=False)), 30)
            extract_track(short, one, None)  # warm-up (allocator, kernels)
            with Clock() as c:
                extract_track(short, one, None)
            base = row(f"frame by frame (batch 1, {k} frames; baseline)", k, c, None)
            many = make(batch_size=args.batch_size, cpu_threads=args.threads)
            extract_track(short, many, None)
            with Clock() as c:
                track = extract_track(video, many, None)
            e2e = row(f"batched (batch {track.meta['batch_size']}), threaded decoding", n, c, base)
            floor = model_floor(many, frame, track.meta["batch_size"])
            print(f"  {'batched-model floor (networks on ready batches)':<46}{floor:>9.1f}")
            print(
                f"  detected in {track.mask.mean():.0%} of frames; e2e time / floor time = {floor / e2e:.2f} "
                f"(target <= 2); e2e vs frame by frame {e2e / base:.1f}x"
            )
            if device.startswith("cuda"):
                verdict = "met" if e2e >= 1000 and floor / e2e <= 2 else "NOT met"
                print(f"  GPU target (>= 1000 frames/s, <= 2x floor): {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="640x480", help="WIDTHxHEIGHT of the synthetic video")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1), help="RGB/CPU-step threads")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="mediapipe worker processes")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--unbatched-frames", type=int, default=60, help="frames of the frame-by-frame baseline")
    ap.add_argument(
        "--torch-threads", type=int, default=None, help="torch intra-op threads (default: torch's)"
    )
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: mediapipe, vitpose, gpu")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(
        f"{os.cpu_count()} CPUs, torch {torch.__version__} on {torch.get_num_threads()} threads, "
        f"CUDA: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = make_video(tmp / "video.mp4", width, height, args.frames)
        print(f"video: {width}x{height}, {args.frames} frames, H.264")
        base, _ = bench_decode(video, args.frames, args.threads)
        if "mediapipe" not in skip:
            bench_mediapipe(video, args.frames, base, args.procs, tmp)
        if "vitpose" not in skip:
            bench_vitpose(video, args.frames, args, "cpu", True, ["float32"], ["yolov8s"], tmp)
            if torch.cuda.is_available() and "gpu" not in skip:
                torch.backends.cudnn.benchmark = False
                bench_vitpose(
                    video,
                    args.frames,
                    args,
                    "cuda",
                    False,
                    ["float32", "bfloat16"],
                    ["yolov8s", "rtdetr"],
                    tmp,
                )
            else:
                print("\nvitpose on a GPU: no CUDA here, not measured")


if __name__ == "__main__":
    main()
