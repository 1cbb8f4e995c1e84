"""The MACE-Dance cascade: music + reference photo -> dance video.

    music --Motion Expert--> SMPL-24 motion (30 fps, Z-up) --resample + draw--> pose video (target fps)
          --Appearance Expert (relay)--> video --mux music--> output

Every intermediate is kept in ``<out stem>_cascade/`` beside the output: ``motion.npz``, ``pose_video.mp4``
(with the music, for checking sync), ``mannequin.mp4`` (a 3D render of the motion, with the music),
``reference.png`` and ``cascade.json`` (settings, seeds, timings, what was produced or skipped and why).

``appearance="none"`` stops after the pose video and the mannequin render and needs no appearance weights; the
output file is then the mannequin render (the pose video when no renderer is available).

Choices where the official code and the paper differ: the motion is *resampled* to the pose-video fps (the
official tool plays 30 fps motion at 16 fps), the whole music is used (the official tool keeps 80 frames), the
face input is the null face (no released code makes one for generated motion), and the pose skeleton uses the
official canvas fit without the reference-photo alignment (which needs a whole-body detector).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError, FormatError, MediaError, MissingWeightError, check_choice
from ma_data.core.progress import progress_bar

log = logging.getLogger(__name__)

MOTION_WEIGHT = "mace-dance-motion-expert"


@dataclass
class CascadeConfig:
    music: str
    reference: str
    genre: str
    out: str
    appearance: str = "wan"  # wan | none
    motion_ckpt: str | None = None
    motion_weights: str = "model"  # model | ema
    motion_steps: int = 50
    beta: float = 0.75
    model_dir: str | None = None
    body_adapter: str | None = None
    lora: str | None = None
    lora_strength: float = 0.5
    height: int = 1280
    width: int = 720
    fps: float = 16.0
    steps: int = 20
    guidance_scale: float = 1.0
    overlap: int = 1
    segment_frames: int = 77
    prompt: str | None = None
    seed: int = 0
    max_seconds: float | None = None
    device: str = "cpu"
    mannequin: bool = True
    memory: dict = field(default_factory=dict)
    max_sequence_length: int = 512

    def __post_init__(self) -> None:
        check_choice("appearance", self.appearance, ("wan", "none"))
        if self.height % 16 or self.width % 16:
            raise ConfigError(f"height and width must be multiples of 16, got {self.height}x{self.width}")


def intermediates_dir(out: str | os.PathLike) -> Path:
    out = Path(out)
    return out.with_name(out.stem + "_cascade")


#: How to get a Motion Expert checkpoint, for the error that says none was found.
HOW_TO_GET_A_CHECKPOINT = (
    "train one in about a minute on the bundled synthetic sample with `mace-dance train-motion --demo "
    "--preset tiny --out runs/me` and pass --motion-ckpt runs/me/last.pt (`make demo` trains one too: "
    "demo_out/motion_expert/last.pt), or copy the official train-3750.pt to {path}"
)


def motion_checkpoint(cfg: CascadeConfig) -> Path:
    """The Motion Expert checkpoint ``generate`` will load (``--motion-ckpt`` or the weights cache's official
    one); a missing one is a :class:`MissingWeightError` saying how to train or get one."""
    from ma_data.core.weights import registry, resolve_weight, weight_path

    if cfg.motion_ckpt:
        path = Path(cfg.motion_ckpt)
        if not path.is_file():
            raise MissingWeightError(f"{path}: Motion Expert checkpoint not found")
        return path
    if MOTION_WEIGHT not in registry():
        raise MissingWeightError(
            "no Motion Expert checkpoint: pass --motion-ckpt PATH (a `mace-dance train-motion` last.pt or the "
            "official train-3750.pt)"
        )
    try:
        return resolve_weight(MOTION_WEIGHT)
    except MissingWeightError:
        how = HOW_TO_GET_A_CHECKPOINT.format(path=weight_path(MOTION_WEIGHT))
        raise MissingWeightError(
            f"no Motion Expert checkpoint (no --motion-ckpt, none in the cache): {how}"
        ) from None


def generate_motion(cfg: CascadeConfig):
    """Sample a Z-up SMPL-24 motion for the music with the Motion Expert's public API."""
    from models.motion_expert.checkpoint import load_expert
    from models.motion_expert.data import genre_id
    from models.motion_expert.sample import music_frames, sample_motion

    music = Path(cfg.music)
    if not music.is_file():
        raise MediaError(f"{music}: music file not found")
    gid = genre_id(cfg.genre)
    expert = load_expert(motion_checkpoint(cfg), weights=cfg.motion_weights, map_location=cfg.device)
    feats, n = music_frames(music)
    if cfg.max_seconds is not None:
        n = min(n, max(1, int(round(cfg.max_seconds * 30))))
    motion, _ = sample_motion(
        expert, feats[:n], gid, beta=cfg.beta, steps=cfg.motion_steps, seed=cfg.seed, device=cfg.device
    )
    return motion


def render_mannequin(motion, width: int, height: int):
    """Frames (an iterator, streamed) of a front-view mannequin render of the motion at its own fps
    (``ma_data.render``; needs EGL)."""
    from ma_data.render import RenderConfig
    from ma_data.render.renderer import ClipRenderer

    yup = motion.to_up_axis("y")
    renderer = ClipRenderer(RenderConfig(width=width, height=height, fps=float(motion.fps)))
    return renderer.frames(renderer.prepare(yup.poses, yup.trans))


def _check_appearance_weights(cfg: CascadeConfig) -> None:
    """Missing appearance weights are reported before the Motion Expert runs, not after."""
    from .appearance_expert.loading import resolve_model_dir

    resolve_model_dir(cfg.model_dir)
    for label, path in (("body adapter", cfg.body_adapter), ("LoRA", cfg.lora)):
        if path is not None and not Path(path).is_file():
            raise MissingWeightError(f"{path}: {label} file not found")


def _segment_progress():
    """A tqdm bar over relay segments (hidden when not a TTY or MACE_DANCE_NO_PROGRESS=1)."""
    state: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = progress_bar(total=total, desc="appearance segments", unit="seg")
        state["bar"].update(1)
        if done == total:
            state["bar"].close()

    return update


def _music(path: str, seconds: float):
    from ma_data.core.io.audio import load_audio

    audio, sr = load_audio(path, mono=False)
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 2:
        audio = audio.T  # (n, channels) for write_video
    return audio[: int(round(seconds * sr))], sr


def _step(progress: bool, line: str) -> None:
    """A status line on stderr when progress is shown (a terminal, not ``MACE_DANCE_NO_PROGRESS=1``)."""
    from ma_data.core.progress import progress_enabled

    if progress_enabled(progress):
        import sys

        print(line, file=sys.stderr, flush=True)


def run_cascade(cfg: CascadeConfig, motion=None, expert=None, progress: bool = False) -> dict:
    """Run the cascade; returns the record written to ``cascade.json``.

    ``motion`` (a :class:`ma_data.core.formats.motion.Motion`) skips the Motion Expert; ``expert`` (an
    :class:`~models.appearance_expert.inference.AppearanceExpert`) skips loading the appearance model.
    ``progress`` shows bars for the pose video and the mannequin render on a terminal. Checkpoints and the
    reference photo are checked before anything is written.
    """
    from ma_data.core.io.video import write_video

    from .appearance_expert.conditioning import DEFAULT_PROMPT, PoseVideo, load_reference_image

    out = Path(cfg.out)
    work = intermediates_dir(out)
    record: dict = {"config": asdict(cfg), "outputs": {}, "skipped": {}, "timings_s": {}}
    # fail early, before minutes of sampling, and before anything is written
    reference = load_reference_image(cfg.reference)
    if motion is None:
        motion_checkpoint(cfg)
    if cfg.appearance == "wan" and expert is None:
        _check_appearance_weights(cfg)

    t = time.time()
    if motion is None:
        _step(progress, "sampling the dance with the Motion Expert")
        motion = generate_motion(cfg)
    elif cfg.max_seconds is not None:
        motion = motion.slice(0, max(1, int(round(cfg.max_seconds * motion.fps))))
    if motion.up_axis != "z":
        motion = motion.to_up_axis("z")
    work.mkdir(parents=True, exist_ok=True)
    reference.save(work / "reference.png")
    motion.save_npz(work / "motion.npz")
    record["outputs"]["motion"] = str(work / "motion.npz")
    record["motion"] = {"n_frames": motion.n_frames, "fps": float(motion.fps), "seconds": motion.duration_s}
    record["timings_s"]["motion"] = round(time.time() - t, 3)

    t = time.time()
    # Drawn lazily: a whole song at 720p would not fit in memory as one array.
    pose = PoseVideo(motion.joints(), float(motion.fps), cfg.fps, cfg.width, cfg.height)
    seconds = len(pose) / cfg.fps
    audio, sr = _music(cfg.music, seconds)
    frames = progress_bar(iter(pose), progress, total=len(pose), desc="pose video", unit="frame", leave=False)
    write_video(work / "pose_video.mp4", frames, fps=cfg.fps, audio=audio, audio_sr=sr)
    record["outputs"]["pose_video"] = str(work / "pose_video.mp4")
    record["timings_s"]["pose_video"] = round(time.time() - t, 3)

    mannequin_path = None
    if cfg.mannequin:
        t = time.time()
        try:
            frames = progress_bar(
                render_mannequin(motion, cfg.width, cfg.height),
                progress,
                total=motion.n_frames,
                desc="mannequin render",
                unit="frame",
                leave=False,
            )
            mannequin_path = write_video(
                work / "mannequin.mp4", frames, fps=float(motion.fps), audio=audio, audio_sr=sr
            )
            record["outputs"]["mannequin"] = str(mannequin_path)
        except Exception as exc:  # no EGL / OpenGL on this machine: keep going with the pose video
            log.warning("mannequin render skipped: %s", exc)
            record["skipped"]["mannequin"] = f"{type(exc).__name__}: {exc}"
        record["timings_s"]["mannequin"] = round(time.time() - t, 3)

    if cfg.appearance == "none":
        shutil.copyfile(mannequin_path or work / "pose_video.mp4", out)
        record["skipped"]["appearance"] = "--appearance none"
    else:
        t = time.time()
        if expert is None:
            from .appearance_expert.inference import AppearanceExpert
            from .appearance_expert.loading import MemoryOptions

            if cfg.body_adapter is None and cfg.lora is None:
                record["warnings"] = [
                    "no --body-adapter/--lora: stock Wan-Animate (the paper's 'w/o AE' row)"
                ]
            expert = AppearanceExpert.from_pretrained(
                cfg.model_dir,
                body_adapter=cfg.body_adapter,
                lora=cfg.lora,
                lora_strength=cfg.lora_strength,
                memory=MemoryOptions(**cfg.memory),
                device=cfg.device,
                max_sequence_length=cfg.max_sequence_length,
            )
        segments: list = []

        def frames():
            # Streamed segment by segment into the encoder; only the last segment stays in memory.
            remaining = len(pose)
            for rec, new in expert.animate_iter(
                reference,
                pose,
                face_frames=None,  # null face: generated motion has no driving face
                prompt=cfg.prompt or DEFAULT_PROMPT,
                height=cfg.height,
                width=cfg.width,
                fps=cfg.fps,
                segment_frames=cfg.segment_frames,
                steps=cfg.steps,
                guidance_scale=cfg.guidance_scale,
                seed=cfg.seed,
                overlap=cfg.overlap,
                progress=_segment_progress(),
            ):
                segments.append(asdict(rec.segment))
                new = new[:remaining]
                remaining -= len(new)
                yield from new

        write_video(out, frames(), fps=cfg.fps, audio=audio, audio_sr=sr)
        record["appearance"] = {"segments": segments, "relay_overlap": cfg.overlap, "face": "null"}
        record["timings_s"]["appearance"] = round(time.time() - t, 3)
    if not out.is_file():
        raise FormatError(f"{out}: cascade produced no output")
    record["outputs"]["video"] = str(out)
    (work / "cascade.json").write_text(json.dumps(record, indent=1, default=str))
    return record
