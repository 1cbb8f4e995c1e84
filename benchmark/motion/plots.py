"""Per-sample beat-alignment plot: motion speed, its beats, and the music beats (matplotlib Agg, PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from benchmark.motion.common import beat_align_score
from benchmark.protocols import Protocol

__all__ = ["plot_beat_alignment"]


def _scored_window(kp: np.ndarray, protocol: Protocol, fps: float) -> np.ndarray:
    kp = np.asarray(kp, dtype=np.float64)
    if protocol.params.get("window") == "first":
        return kp[: int(protocol.params["n_frames"])]
    seconds = min(kp.shape[0] / fps, float(protocol.params.get("max_seconds", np.inf)))
    return kp[: max(2, int(np.floor(seconds * fps + 1e-9)))]


def plot_beat_alignment(
    kp: np.ndarray,
    music_beats: np.ndarray,
    protocol: Protocol,
    path: str | os.PathLike,
    title: str | None = None,
    *,
    gt_kp: np.ndarray | None = None,
    fps: float | None = None,
) -> Path:
    """Write a PNG of the mean joint speed over the scored window with motion and music beats.

    ``kp`` (and optionally ``gt_kp``) are (T, 25, 3) tracks in the official channel order; ``music_beats`` is
    in the protocol's beat unit (frames for ``mace2d-official``, seconds for ``mace2d-strict``). The raw and
    the Gaussian-smoothed speed are drawn; motion beats are the smoothed curve's minima; the title carries
    the sample's BAS. Returns the path written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from scipy.ndimage import gaussian_filter

    from benchmark.motion.mace2d import interpolate_missing, music_positions, sample_motion_beats

    strict = protocol.params.get("window") != "first"
    fps = float(fps or protocol.params.get("default_fps", protocol.params.get("fps", 16)))
    unit = "s" if strict else "frame"
    sigma_frames = (
        float(protocol.params["bas_sigma_s"]) * fps if strict else float(protocol.params["bas_sigma"])
    )
    kernel = float(protocol.params["bas_kernel_sigma_s"] if strict else protocol.params["bas_kernel_sigma"])

    fig, ax = plt.subplots(figsize=(9, 3.2), dpi=110)
    horizon = None
    scores = []
    for label, track, colour in (("generated", kp, "tab:blue"), ("GT", gt_kp, "tab:gray")):
        if track is None:
            continue
        window = _scored_window(track, protocol, fps)
        if strict and protocol.params.get("missing_frames") == "interpolate":
            window = interpolate_missing(window)
        speed, idx, pos = sample_motion_beats(window, protocol, fps)
        x = (np.arange(speed.size) + 0.5) / fps if strict else np.arange(speed.size)
        horizon = window.shape[0] / fps if strict else window.shape[0]
        smooth = gaussian_filter(speed, sigma_frames)
        ax.plot(x, speed, color=colour, alpha=0.3, lw=1)
        ax.plot(x, smooth, color=colour, lw=1.8, label=f"{label} speed (smoothed)")
        ax.plot(x[idx], smooth[idx], "v", color=colour, ms=7, label=f"{label} motion beats")
        music = music_positions(music_beats, protocol, window.shape[0] / fps)
        scores.append(f"BAS {label} {beat_align_score(music, pos, sigma_kernel=kernel):.3f}")
    music = music_positions(music_beats, protocol, horizon if horizon is not None else np.inf)
    for i, b in enumerate(music):
        ax.axvline(b, color="tab:red", ls="--", lw=1, label="music beats" if i == 0 else None)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("mean joint speed (px / frame)")
    ax.set_title(" | ".join(x for x in [title, protocol.name, *scores] if x), fontsize=9)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    ax.grid(alpha=0.2)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
