"""Curate one downloaded source into clips: shots -> static filter -> person filter -> windows -> encode.

``curate_source(payload)`` is the stage function the build executors run (serial, process, Ray). It returns
a JSON-serialisable record with the decision and the numbers behind it for every shot, plus one manifest
row per written clip (without ``split``, assigned later by source). Filters switched off with
``--skip-filter NAME`` are recorded as skipped. Output files are written atomically under
``clips/internet/<source_id>/`` and are deterministic for a given source and config.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError
from ma_data.core.io.atomic import sha256_file
from ma_data.curation.clips import ClipPolicy, draw_windows, write_clips
from ma_data.curation.decode import iter_selected_frames
from ma_data.curation.person import MIN_ARTICULATION, person_check
from ma_data.curation.shots import CONTENT_THRESHOLD, Shot, detect_shots
from ma_data.curation.static import STATIC_THRESHOLD, STEP_S, flow_speed, to_analysis_gray

__all__ = [
    "FILTERS",
    "PERSON_SAMPLES_PER_S",
    "CurationConfig",
    "analysis_plan",
    "curate_source",
    "person_sample_count",
]

FILTERS = ("shots", "static", "person", "dedupe")


#: Person-filter frames per second of shot: one every 2.5 s (3 for a 5-7 s shot, 8 from 20 s on). The person
#: filter's cost is the people counter on each sampled frame (HOG: ~0.25 s at 640 px, 400x a frame's decode
#: at 640x360); at 0.4/s curation with every filter costs ~8x a plain decode of 640x360 footage (was ~20x with
#: 8 frames a shot; benchmarks/bench_curation.py), and the decisions and reasons on the test footage stayed
#: the same as with 8 frames a shot (vtest.avi whole and 0-6 s, messi5 still and panned, synthetic sources).
PERSON_SAMPLES_PER_S = 0.4


def person_sample_count(n_frames: int, fps: float, cfg: CurationConfig) -> int:
    """How many frames of an ``n_frames``-long shot the person filter looks at."""
    k = round(cfg.person_samples_per_s * n_frames / fps) if fps > 0 else cfg.person_samples
    return int(min(n_frames, cfg.person_samples, max(cfg.person_min_samples, k)))


@dataclass(frozen=True)
class CurationConfig:
    """What curation does to a source; recorded with every source it curates.

    Sampling (see :func:`analysis_plan`): the static filter measures optical flow on ``flow_pairs_per_s``
    frame pairs per second of shot (3 to 40 pairs); the person filter looks at ``person_samples_per_s``
    frames per second of shot (``person_min_samples`` to ``person_samples`` frames), evenly spaced inside
    the shot. Frames are decoded once for both, and only sampled ones are converted to RGB.
    """

    skip: tuple[str, ...] = ()
    shot_method: str = "content"  # content | transnetv2 | auto
    content_threshold: float = CONTENT_THRESHOLD
    static_threshold: float = STATIC_THRESHOLD
    flow_pairs_per_s: float = 2.0  # flow pairs sampled per second of shot (at least 3, at most 40 per shot)
    pose_backend: str = "mediapipe"
    people_detector: str = "auto"  # auto (RT-DETR when its weights exist, else HOG) | hog
    person_samples_per_s: float = PERSON_SAMPLES_PER_S  # person-filter frames per second of shot ...
    person_min_samples: int = 3  # ... at least this many per shot ...
    person_samples: int = 8  # ... and at most this many
    min_articulation: float = MIN_ARTICULATION
    seed: int = 0
    policy: ClipPolicy = field(default_factory=ClipPolicy)

    def __post_init__(self) -> None:
        bad = set(self.skip) - set(FILTERS)
        if bad:
            raise ConfigError(f"unknown filter(s) {sorted(bad)}; choose from {', '.join(FILTERS)}")
        if not self.person_samples_per_s > 0 or not 1 <= self.person_min_samples <= self.person_samples:
            raise ConfigError(
                "person sampling needs person_samples_per_s > 0 and 1 <= person_min_samples <= person_samples, "
                f"got {self.person_samples_per_s}, {self.person_min_samples}, {self.person_samples}"
            )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["skip"] = list(self.skip)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> CurationConfig:
        d = dict(d)
        d["skip"] = tuple(d.get("skip", ()))
        d["policy"] = ClipPolicy(**d.get("policy", {}))
        return cls(**d)


def _span_shots(shots: list[Shot], fps: float, start: float | None, end: float | None) -> list[Shot]:
    """Restrict shots to the URL manifest's [start, end) seconds."""
    lo = 0 if start is None else math.ceil(start * fps - 1e-9)
    hi = None if end is None else math.floor(end * fps + 1e-9)
    out = []
    for s in shots:
        a, b = max(s.start, lo), s.end if hi is None else min(s.end, hi)
        if b > a:
            out.append(Shot(a, b))
    return out


def analysis_plan(shots: list[Shot], fps: float, cfg: CurationConfig) -> tuple[dict, dict]:
    """Frame indices to sample: flow pairs per shot, person frames per shot."""
    step = max(1, round(STEP_S * fps))
    pairs: dict[int, list[tuple[int, int]]] = {}
    people: dict[int, list[int]] = {}
    for si, s in enumerate(shots):
        if "static" not in cfg.skip and s.n_frames > step:
            n = int(min(40, max(3, cfg.flow_pairs_per_s * s.n_frames / fps)))
            starts = np.linspace(s.start, s.end - 1 - step, num=n).round().astype(int)
            pairs[si] = sorted({(int(a), int(a) + step) for a in starts})
        if "person" not in cfg.skip:
            k = person_sample_count(s.n_frames, fps, cfg)
            people[si] = sorted(
                set(np.linspace(s.start, s.end - 1, num=k + 2)[1:-1].round().astype(int).tolist())
            )
    return pairs, people


def _analyse(path: str, pairs: dict, people: dict, fps: float, cfg: CurationConfig) -> dict:
    """One decoding pass; each shot is judged as soon as its last sampled frame is decoded and its frames
    are dropped, so memory stays bounded by one shot's samples whatever the video's length.

    Returns ``{shot index: {"flow_speed": ..., "person": PersonDecision | None}}``.
    """
    import cv2

    need_gray = {i: si for si, ps in pairs.items() for p in ps for i in p}
    need_rgb = {i: si for si, fs in people.items() for i in fs}
    last = {}
    for si in set(pairs) | set(people):
        idx = [i for p in pairs.get(si, []) for i in p] + list(people.get(si, []))
        last[si] = max(idx)
    gray: dict[int, np.ndarray] = {}
    rgb: dict[int, list[np.ndarray]] = {}
    out: dict[int, dict] = {}
    dt = max(1, round(STEP_S * fps)) / fps
    pending = sorted(last, key=last.get)
    if not pending:
        return out

    def judge(si: int) -> None:
        res: dict = {}
        have = [(a, b) for a, b in pairs.get(si, []) if a in gray and b in gray]
        if have:
            res["flow_speed"], res["flow_speed_pairs"] = flow_speed([(gray[a], gray[b]) for a, b in have], dt)
        for a, b in pairs.get(si, []):
            gray.pop(a, None)
            gray.pop(b, None)
        static = "flow_speed" in res and res["flow_speed"] < cfg.static_threshold
        frames = rgb.pop(si, [])
        if si in people and not static:  # no need to look for people in a static shot
            res["person"] = person_check(
                frames, cfg.pose_backend, min_articulation=cfg.min_articulation, detector=cfg.people_detector
            )
        out[si] = res

    for i, frame in iter_selected_frames(path, set(need_gray) | set(need_rgb)):
        if i in need_gray:
            gray[i] = to_analysis_gray(frame)
        if i in need_rgb:
            h, w = frame.shape[:2]
            if h > 720:
                frame = cv2.resize(frame, (round(w * 720 / h), 720), interpolation=cv2.INTER_AREA)
            rgb.setdefault(need_rgb[i], []).append(frame)
        while pending and last[pending[0]] <= i:
            judge(pending.pop(0))
    for si in pending:  # the video decoded fewer frames than announced: judge on what arrived
        judge(si)
    return out


def curate_source(payload: dict) -> dict:
    """Curate one source (see module docstring).

    payload: ``source_id``, ``key``, ``video`` (absolute path), ``out_dir`` (dataset root), ``url``,
    ``start``/``end`` (seconds or None), ``genre``, ``license``, ``creator``, ``config``
    (``CurationConfig.to_dict()``), ``provenance`` (dict merged into each row's provenance JSON).
    """
    from ma_data.core.io.audio import load_audio, write_wav
    from ma_data.core.io.video import probe_video

    quiet_av_logs()
    cfg = CurationConfig.from_dict(payload.get("config", {}))
    video = payload["video"]
    source_id = payload["source_id"]
    info = probe_video(video)
    fps, n = info.fps, info.n_frames
    min_frames = math.ceil(cfg.policy.min_len_s * fps - 1e-9)

    if "shots" in cfg.skip:
        shots = [Shot(0, n)]
    else:
        shots = detect_shots(video, n, method=cfg.shot_method, threshold=cfg.content_threshold)
        quiet_av_logs()  # PySceneDetect's PyAV backend re-installs FFmpeg's own (verbose) log callback
    n_detected = len(shots)
    shots = _span_shots(shots, fps, payload.get("start"), payload.get("end"))
    record: dict = {"source_id": source_id, "fps": fps, "n_frames": n, "n_shots_detected": n_detected}
    decisions = []
    long_shots = []
    for s in shots:
        d = {"start_frame": s.start, "end_frame": s.end, "start_s": s.start / fps, "end_s": s.end / fps}
        if s.n_frames < min_frames:
            d.update(keep=False, reason="short_shot")
        else:
            d.update(keep=True, reason=None)
            long_shots.append((len(decisions), s))
        decisions.append(d)

    pairs, people = analysis_plan([s for _, s in long_shots], fps, cfg)
    analysed = _analyse(video, pairs, people, fps, cfg)
    for li, (di, _s) in enumerate(long_shots):
        d = decisions[di]
        res = analysed.get(li, {})
        if "static" in cfg.skip:
            d["static"] = "skipped"
        elif "flow_speed" in res:
            d["flow_speed"] = round(res["flow_speed"], 6)
            d["flow_speed_pairs"] = [round(v, 6) for v in res["flow_speed_pairs"]]
            if res["flow_speed"] < cfg.static_threshold:
                d.update(keep=False, reason="static")
        if "person" in cfg.skip:
            d["person"] = "skipped"
        elif d["keep"] and "person" in res:
            pdec = res["person"]
            d["person"] = pdec.to_dict()
            if not pdec.keep:
                d.update(keep=False, reason=pdec.reason)
    record["shots"] = decisions

    kept = [Shot(d["start_frame"], d["end_frame"]) for d in decisions if d["keep"]]
    windows = draw_windows(kept, fps, cfg.policy, cfg.seed, source_id)
    if not windows:
        reasons = sorted({d["reason"] for d in decisions if d["reason"]}) or ["no_frames"]
        long_reasons = sorted({d["reason"] for d in decisions if d["reason"] and d["reason"] != "short_shot"})
        record.update(decision="filtered", reason=",".join(long_reasons or reasons), clips=[])
        return record

    out_dir = Path(payload["out_dir"])
    rel_dir = Path("clips") / "internet" / source_id
    (out_dir / rel_dir).mkdir(parents=True, exist_ok=True)
    video_rel = [rel_dir / f"{w.spec.clip_id}.mp4" for w in windows]
    audio = None
    if info.has_audio and cfg.policy.audio:
        samples, sr = load_audio(video, sr=None, mono=True)
        audio = (samples, sr)
    clip_recs = write_clips(video, windows, fps, [out_dir / p for p in video_rel], cfg.policy, audio)

    provenance = json.dumps(
        {
            "generator": "ma_data.crawl",
            "url": payload["url"],
            "source_sha256": payload.get("source_sha256"),
            "shot_method": cfg.shot_method if "shots" not in cfg.skip else "skipped",
            "skipped_filters": list(cfg.skip),
            **payload.get("provenance", {}),
        },
        sort_keys=True,
    )
    rows = []
    for w, rel, rec in zip(windows, video_rel, clip_recs, strict=True):
        audio_rel = None
        if rec["audio"] is not None:
            audio_rel = rel.with_suffix(".wav")
            write_wav(out_dir / audio_rel, rec["audio"], rec["audio_sr"])
        spec = w.spec
        rows.append(
            {
                "clip_id": spec.clip_id,
                "subset": "internet",
                "source_id": source_id,
                "source_uri": payload["url"],
                "start_s": spec.start_s,
                "end_s": spec.end_s,
                "start_frame": spec.start_frame,
                "end_frame": spec.end_frame,
                "n_frames": spec.n_frames,
                "fps": spec.fps,
                "width": rec["width"],
                "height": rec["height"],
                "duration_s": spec.duration_s,
                "genre": payload.get("genre"),
                "split": None,
                "video_path": rel.as_posix(),
                "audio_path": audio_rel.as_posix() if audio_rel else None,
                "music_features_path": None,
                "motion_path": None,
                "keypoints_path": None,
                "pose_video_path": None,
                "sha256": sha256_file(out_dir / rel),
                "license": payload.get("license") or "unknown",
                "creator": payload.get("creator"),
                "provenance": provenance,
                "status": "ok",
                "error": None,
                "phash": rec["phash"],
                "shot_index": w.shot_index,
            }
        )
    record.update(decision="kept", reason=None, clips=rows)
    return record


def quiet_av_logs() -> None:
    """Silence FFmpeg (x264/AAC print per-file statistics in every worker; a crawl writes thousands).

    PySceneDetect re-installs FFmpeg's own stderr logger, so this runs again after shot detection. It sets
    PyAV's level to ``None``, which drops FFmpeg's messages in C. Any other level routes every FFmpeg message
    through a Python callback that needs the GIL from FFmpeg's decoder threads, and that can deadlock a
    frame-threaded decode stopped before its end (PyAV issues #751, #909, #1849): seen here as an
    intermittent hang of a later decode in the same process.
    """
    try:
        import av.logging

        av.logging.set_level(None)
    except Exception:  # noqa: BLE001 - cosmetic only
        pass
