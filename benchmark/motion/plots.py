"""Per-sample beat-alignment plots: motion speed, its beats, and the music beats (matplotlib Agg, PNG).

Consumers of an evaluation: :func:`beat_plot_pngs` draws one PNG per scored sample of an
:class:`~benchmark.runner.Evaluation` (2D or 3D), with the beats computed as the protocol computes them;
:func:`write_beat_plots` writes them to a folder (``--plots``), the HTML report embeds them (``--report``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.motion.common import beat_align_score, kinetic_velocity
from benchmark.motion.protocols2d import BeatsUnit, Mace2dProtocol

__all__ = ["beat_plot_pngs", "plot_beat_alignment", "plot_beat_alignment_3d", "write_beat_plots"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_beat_alignment(
    kp: np.ndarray,
    music_beats: np.ndarray,
    protocol: Mace2dProtocol,
    path: str | os.PathLike | None,
    title: str | None = None,
    *,
    gt_kp: np.ndarray | None = None,
    fps: float | None = None,
) -> Path | bytes:
    """Write a PNG of the mean joint speed over the scored window with motion and music beats (``path``
    None: return the PNG's bytes).

    ``kp`` (and optionally ``gt_kp``) are (T, 25, 3) tracks in the official channel order; ``music_beats`` is
    in the protocol's beat unit (frames for ``mace2d-official``, seconds for ``mace2d-strict``). The raw and
    the Gaussian-smoothed speed are drawn; motion beats are the smoothed curve's minima; the title carries
    the sample's BAS. Returns the path written.
    """
    from scipy.ndimage import gaussian_filter

    from benchmark.motion.windows2d import music_positions, sample_motion_beats, scored_window

    plt = _pyplot()
    seconds = protocol.beats_unit is BeatsUnit.SECONDS
    fps = float(fps or protocol.assumed_fps())
    unit = "s" if seconds else "frame"
    fig, ax = plt.subplots(figsize=(9, 3.2), dpi=110)
    horizon = None
    scores = []
    for label, track, colour in (("generated", kp, "tab:blue"), ("GT", gt_kp, "tab:gray")):
        if track is None:
            continue
        window = scored_window(track, protocol, fps)
        speed, idx, pos = sample_motion_beats(window, protocol, fps)
        x = (np.arange(speed.size) + 0.5) / fps if seconds else np.arange(speed.size)
        horizon = window.shape[0] / fps if seconds else window.shape[0]
        smooth = gaussian_filter(speed, protocol.smoothing_sigma(fps))
        ax.plot(x, speed, color=colour, alpha=0.3, lw=1)
        ax.plot(x, smooth, color=colour, lw=1.8, label=f"{label} speed (smoothed)")
        ax.plot(x[idx], smooth[idx], "v", color=colour, ms=7, label=f"{label} motion beats")
        music = music_positions(music_beats, protocol, window.shape[0] / fps)
        scores.append(f"BAS {label} {beat_align_score(music, pos, sigma_kernel=protocol.kernel_sigma()):.3f}")
    music = music_positions(music_beats, protocol, horizon if horizon is not None else np.inf)
    for i, b in enumerate(music):
        ax.axvline(b, color="tab:red", ls="--", lw=1, label="music beats" if i == 0 else None)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("mean joint speed (px / frame)")
    ax.set_title(" | ".join(x for x in [title, protocol.name, *scores] if x), fontsize=9)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    ax.grid(alpha=0.2)
    return _save(fig, plt, path)


def plot_beat_alignment_3d(
    motion: Any,
    music_beats: np.ndarray,
    protocol: Any,
    path: str | os.PathLike | None,
    title: str,
    bas: float | None,
) -> Path | bytes:
    """One 3D sample: smoothed mean joint speed (Y-up joints), its minima (motion beats) and the music beats
    (a PNG at ``path``, or its bytes when ``path`` is None)."""
    from scipy.ndimage import gaussian_filter

    plt = _pyplot()
    j = np.asarray(motion.to_up_axis("y").joints(), dtype=np.float64)
    speed = gaussian_filter(kinetic_velocity(j), protocol.bas_sigma_smooth)
    mins = [t for t in range(1, len(speed) - 1) if speed[t] < speed[t - 1] and speed[t] < speed[t + 1]]
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.plot(speed, lw=1, label="smoothed joint speed")
    ax.plot(mins, speed[mins], "o", ms=3, label="motion beats")
    for b in np.flatnonzero(np.asarray(music_beats).astype(bool)):
        ax.axvline(b, color="tab:red", alpha=0.3, lw=0.8)
    ax.set_title(f"{title}  BAS={bas:.4f}" if bas is not None else title)
    ax.set_xlabel("frame")
    ax.legend(loc="upper right", fontsize=7)
    return _save(fig, plt, path)


def _save(fig, plt, path: str | os.PathLike | None) -> Path | bytes:
    import io

    fig.tight_layout()
    if path is None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=fig.dpi)
        plt.close(fig)
        return buf.getvalue()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=fig.dpi)
    plt.close(fig)
    return path


def beat_plot_pngs(evaluation: Any) -> dict[str, bytes]:
    """One PNG (bytes) per scored motion sample of ``evaluation`` (:class:`benchmark.runner.Evaluation`), by
    stem; empty when it holds no motion samples (an appearance evaluation, or one read back from a file)."""
    out: dict[str, bytes] = {}
    for report in evaluation.reports:
        if report.protocol.kind == "motion2d" and "motion" in evaluation.samples:
            s = evaluation.samples["motion"]
            for stem in report.per_sample:
                out[stem] = plot_beat_alignment(
                    s.pred[stem],
                    s.beats[stem],
                    report.protocol,
                    None,
                    title=stem,
                    gt_kp=s.gt[stem],
                    fps=s.fps[stem][1],
                )
        elif report.protocol.kind == "motion3d" and "motion3d" in evaluation.samples:
            s = evaluation.samples["motion3d"]
            for stem in report.extra.get("pred_stems", []):
                if stem in s["beats"]:
                    bas = report.per_sample.get(stem, {}).get("bas")
                    bas = bas if bas is not None and np.isfinite(bas) else None
                    out[stem] = plot_beat_alignment_3d(
                        s["pred"][stem], s["beats"][stem], report.protocol, None, stem, bas
                    )
    return out


def write_beat_plots(evaluation: Any, folder: str | os.PathLike) -> list[Path]:
    """One PNG per scored motion sample of ``evaluation`` (:class:`benchmark.runner.Evaluation`) in
    ``folder``; nothing (and no folder) when there is nothing to draw. Returns the files written."""
    folder = Path(folder)
    written: list[Path] = []
    for stem, png in beat_plot_pngs(evaluation).items():
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}.png"
        path.write_bytes(png)
        written.append(path)
    return written
