"""``mace-bench evaluate-3d``: score generated 3D dances (SMPL motion or joints) under a named 3D protocol."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import numpy as np

from benchmark.inputs import entry_problem, item_failure
from benchmark.protocols import PLAUSIBLE_FPS, fps_problem
from ma_data.core.cli import check_outputs, command
from ma_data.core.errors import FormatError, MaceError

MOTION_SUFFIXES = (".npy", ".npz", ".pkl", ".pickle")
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mp4")
PROTOCOL_CHOICES = (
    "bailando3d",
    "finedance3d",
    "mace3d",
    "bailando3d-strict",
    "finedance3d-strict",
    "mace3d-strict",
)


def _progress(it, **kw):
    from tqdm import tqdm

    disable = os.environ.get("MACE_DANCE_NO_PROGRESS") == "1" or not sys.stderr.isatty()
    return tqdm(it, disable=disable, **kw)


def _files_by_stem(
    folder: Path, suffixes: tuple[str, ...], skipped: dict[str, str], side: str
) -> dict[str, Path]:
    """``{stem: path}`` of the regular files in ``folder`` with one of ``suffixes``; a stem with several
    candidate files is ambiguous and skipped with its reason, and so is an entry that is not a regular file
    (a folder, FIFO, symlink loop...: never opened)."""
    if not folder.is_dir():
        raise MaceError(f"{folder}: not a directory")
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in suffixes:
            continue
        problem = entry_problem(p)
        if problem is not None:
            skipped[f"{side}:{p.stem}"] = problem
            continue
        found.setdefault(p.stem, []).append(p)
    out = {}
    for stem, paths in found.items():
        if len(paths) > 1:
            skipped[f"{side}:{stem}"] = (
                f"{stem}: ambiguous, several files ({', '.join(p.name for p in paths)})"
            )
        else:
            out[stem] = paths[0]
    return out


def load_motion_dir(folder: Path, side: str, skipped: dict[str, str], fps: float | None = None) -> dict:
    """Read every motion file of a folder. Per-item isolation (see :mod:`benchmark.inputs`): any failure
    to read one file, and a declared frame rate outside :data:`PLAUSIBLE_FPS`, goes to ``skipped`` with the
    file and the reason; the others are read."""
    from ma_data.core.formats.motion import load_motion

    motions = {}
    for stem, path in _progress(_files_by_stem(folder, MOTION_SUFFIXES, skipped, side).items(), desc=side):
        try:
            motion = load_motion(path, fps=fps)
            problem = fps_problem(motion.fps)
        except Exception as exc:  # per-item boundary: the file is named, the batch goes on
            skipped[f"{side}:{stem}"] = item_failure(path, exc)
            continue
        if problem is not None:
            skipped[f"{side}:{stem}"] = f"{path}: {problem}"
            continue
        motions[stem] = motion
    return motions


def read_beat_vector(path: Path) -> np.ndarray:
    """A 0/1 music-beat vector from ``.npy``: (T,), (T, 1), or (T, 35) baseline features (column 34)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # truncated, not .npy, object array (pickle refused), ...
        reason = " ".join(f"{exc.__class__.__name__}: {exc}".split())[:160]
        raise FormatError(f"{path}: cannot read beat vector ({reason})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise FormatError(f"{path}: beat vector must hold numbers, got {got}")
    if arr.ndim == 2 and arr.shape[1] == 35:
        arr = arr[:, 34]
    elif arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise FormatError(f"{path}: beat vector must be (T,), (T, 1) or (T, 35) features, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise FormatError(f"{path}: beat vector contains NaN/inf")
    return arr


def load_beats(
    beats_dir: Path | None,
    music_dir: Path | None,
    stems: set[str],
    recipe: str,
    fps: float,
    warnings: list[str],
) -> dict[str, np.ndarray] | None:
    """Music-beat vectors by stem, from ``--music-beats`` files or extracted from ``--music`` audio. A file
    that cannot be read is named in ``warnings`` (its stem is then left out of BAS) and the others load."""
    if beats_dir is None and music_dir is None:
        return None
    out: dict[str, np.ndarray] = {}
    unusable: dict[str, str] = {}
    if beats_dir is not None:
        files = _files_by_stem(beats_dir, (".npy",), unusable, "beats")
        for stem in sorted(stems):
            if stem not in files:
                continue
            try:
                out[stem] = read_beat_vector(files[stem])
            except Exception as exc:  # per-item boundary
                warnings.append(f"music beats: {item_failure(files[stem], exc)}")
    else:
        from ma_data.core.music_features import beat_vector

        files = _files_by_stem(music_dir, AUDIO_SUFFIXES, unusable, "music")
        for stem in _progress(sorted(s for s in stems if s in files), desc="music beats"):
            try:
                v = beat_vector(files[stem], fps=int(round(fps)), recipe=recipe)
            except Exception as exc:  # per-item boundary
                warnings.append(f"music beats: {item_failure(files[stem], exc)}")
                continue
            if recipe == "lodge":
                # LODGE's vector ends at the last beat; pad it with (beat-free) zeros to the song's length so
                # a song shorter than the dance can be told from one whose last beat is early.
                seconds = _audio_seconds(files[stem])
                if seconds is not None:
                    v = np.pad(v, (0, max(0, int(round(seconds * fps)) - len(v))))
            out[stem] = v
    for key, reason in sorted(unusable.items()):
        if key.split(":", 1)[1] in stems:
            warnings.append(f"music beats: {reason}")
    return out


def _audio_seconds(path: Path) -> float | None:
    """Duration of an audio file from its header (None when the container does not say)."""
    try:
        import soundfile as sf

        return float(sf.info(str(path)).duration)
    except Exception:
        pass
    try:
        import av

        with av.open(str(path)) as container:
            return float(container.duration) / 1e6 if container.duration else None
    except Exception:
        return None


def _hashes(paths: dict[str, Path]) -> dict[str, str]:
    from ma_data.core.io.atomic import sha256_file

    return {p.name: sha256_file(p) for p in paths.values()}


def write_beat_plots(folder: Path, report, motions: dict, beats: dict[str, np.ndarray], params: dict) -> None:
    """One PNG per generated sample: smoothed joint speed, its minima (motion beats) and the music beats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.ndimage import gaussian_filter

    stems = [s for s in report.extra.get("pred_stems", []) if s in beats]
    if stems:  # no empty plots folder when there is nothing to draw
        folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        j = np.asarray(motions[stem].to_up_axis("y").joints(), dtype=np.float64)
        speed = gaussian_filter(
            np.mean(np.linalg.norm(j[1:] - j[:-1], axis=-1), axis=1), params["bas_sigma_smooth"]
        )
        mins = [t for t in range(1, len(speed) - 1) if speed[t] < speed[t - 1] and speed[t] < speed[t + 1]]
        fig, ax = plt.subplots(figsize=(10, 3))
        ax.plot(speed, lw=1, label="smoothed joint speed")
        ax.plot(mins, speed[mins], "o", ms=3, label="motion beats")
        for b in np.flatnonzero(np.asarray(beats[stem]).astype(bool)):
            ax.axvline(b, color="tab:red", alpha=0.3, lw=0.8)
        bas = report.per_sample.get(stem, {}).get("bas")
        ax.set_title(f"{stem}  BAS={bas:.4f}" if bas is not None else stem)
        ax.set_xlabel("frame")
        ax.legend(loc="upper right", fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / f"{stem}.png", dpi=100)
        plt.close(fig)


@command("evaluate-3d")
@click.option(
    "--protocol",
    type=click.Choice(PROTOCOL_CHOICES),
    default="bailando3d",
    show_default=True,
    help="Named 3D protocol (see `mace-bench protocols --kind motion3d`).",
)
@click.option(
    "--gt",
    "gt_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of ground-truth motions: FineDance .npy (T,315), joint .npy (T,24,3) Y-up metres, "
    "Motion Expert/EDGE/AIST++ .pkl, or motion .npz.",
)
@click.option(
    "--pred", "pred_dir", required=True, type=click.Path(path_type=Path), help="Folder of generated motions."
)
@click.option(
    "--music-beats",
    "beats_dir",
    type=click.Path(path_type=Path),
    help="Folder of <stem>.npy 0/1 music-beat vectors at the motion fps (may be longer than the motion), "
    "or (T,35) baseline features (column 34).",
)
@click.option(
    "--music",
    "music_dir",
    type=click.Path(path_type=Path),
    help="Folder of <stem>.wav music; beats are extracted with the protocol's own recipe.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Write the results JSON here.")
@click.option("--markdown", type=click.Path(path_type=Path), help="Also write the summary table as Markdown.")
@click.option("--plots", type=click.Path(path_type=Path), help="Write per-sample beat-alignment plots here.")
@click.option(
    "--fps",
    type=click.FloatRange(*PLAUSIBLE_FPS),
    default=None,
    help="Frame rate of the inputs. Default: the format's own (30 for joint .npy and FineDance, 60 for AIST++).",
)
@click.option(
    "--n-boot",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Bootstrap resamples for 95% intervals (0 = off; each costs two FIDs and four diversities).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the bootstrap."
)
def evaluate_3d(
    protocol, gt_dir, pred_dir, beats_dir, music_dir, out, markdown, plots, fps, n_boot, seed
) -> None:
    """Score generated 3D dances against ground truth: FID_k, FID_g, Div_k, Div_g, BAS, PFC, FSR.

    Files are matched by stem: music beats are looked up by each motion's stem. As in the reference code,
    FID/Div compare the whole GT set with the whole generated set. Unreadable files are skipped with their
    reason (recorded in the results); when nothing usable is left the command exits with code 2.
    """
    from benchmark.motion.protocols3d import music_recipe, score_3d
    from benchmark.protocols import get_protocol
    from benchmark.results import build_results, markdown_table, write_results

    if beats_dir is not None and music_dir is not None:
        raise click.UsageError("give either --music-beats or --music, not both")
    check_outputs(files={"--out": out, "--markdown": markdown}, folders={"--plots": plots})
    proto = get_protocol(protocol)
    skipped: dict[str, str] = {}
    gt = load_motion_dir(gt_dir, "gt", skipped, fps=fps)
    pred = load_motion_dir(pred_dir, "pred", skipped, fps=fps)
    for motions, folder, side, what in (
        (gt, gt_dir, "gt", "ground-truth"),
        (pred, pred_dir, "pred", "generated"),
    ):
        if not motions:
            reasons = [r for k, r in skipped.items() if k.startswith(f"{side}:")]
            shown = "; ".join(reasons[:2]) + (f" (and {len(reasons) - 2} more)" if len(reasons) > 2 else "")
            raise MaceError(f"{folder}: no readable {what} motion files" + (f" — {shown}" if shown else ""))
    warns: list[str] = []
    motion_fps = float(next(iter(pred.values())).fps)
    beats = load_beats(beats_dir, music_dir, set(gt) | set(pred), music_recipe(proto), motion_fps, warns)
    report = score_3d(gt, pred, beats, proto, n_boot=n_boot, seed=seed, skipped=skipped)
    report.warnings[:0] = warns

    inputs = {
        "gt_dir": str(gt_dir),
        "pred_dir": str(pred_dir),
        "gt_sha256": _hashes(_files_by_stem(gt_dir, MOTION_SUFFIXES, {}, "gt")),
        "pred_sha256": _hashes(_files_by_stem(pred_dir, MOTION_SUFFIXES, {}, "pred")),
    }
    if beats_dir is not None:
        inputs["music_beats_dir"] = str(beats_dir)
        inputs["music_beats_sha256"] = _hashes(_files_by_stem(beats_dir, (".npy",), {}, "beats"))
    if music_dir is not None:
        inputs["music_dir"] = str(music_dir)
        inputs["music_recipe"] = music_recipe(proto)
    results = build_results([report], inputs=inputs, argv=["mace-bench", *sys.argv[1:]])
    if out is not None:
        write_results(out, results)
    table = markdown_table(results)
    if markdown is not None:
        markdown.write_text(table + "\n", encoding="utf-8")
    if plots is not None and beats:
        write_beat_plots(plots, report, pred, beats, proto.params)
    click.echo(table)
