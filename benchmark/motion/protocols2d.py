"""The 2D keypoint protocols ``mace2d-official`` and ``mace2d-strict``: typed definitions.

``mace2d-official``
    Bit-compatible with the official ``Evaluation-Motion/calculate_metric.py`` (AMAP-ML/MACE-Dance @ 8f92d12),
    quirks included: the first 64 frames, own-set normalisation, a 1/30 s frame time for 16 fps clips, the
    official joint rows, missed detections kept as zero rows, the official script's file glob.
``mace2d-strict``
    The same measurement with the reference's defects fixed; each fix is listed in :data:`STRICT_FIXES`
    next to the quirk it replaces and recorded in the protocol (``fixes``).

The implementation reads these fields: features (:mod:`benchmark.motion.features2d`), windows and sample
rules (:mod:`benchmark.motion.windows2d`), music beats (:mod:`benchmark.motion.music_beats`), scoring
(:mod:`benchmark.motion.mace2d`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from benchmark.inputs import AUDIO_SUFFIXES, KEYPOINT_SUFFIXES, InputRule
from benchmark.motion.choices import (
    BasWithoutBeats,
    BeatsUnit,
    DiversityMode,
    FidComplexMode,
    FidSqrtm,
    FileMatch,
    JointMap,
    KeypointChannels,
    MissingFrames,
    Normalization,
    Window,
)
from benchmark.motion.metrics import MOTION_METRICS
from benchmark.protocol_base import (
    PER_FPS,
    PLAUSIBLE_FPS,
    Protocol,
    doc_field,
    frame_time,
    optional_field,
    unrecorded_field,
)
from ma_data.core.errors import MaceError

__all__ = [
    "BasWithoutBeats",
    "BeatTrack",
    "BeatsUnit",
    "FileMatch",
    "JointMap",
    "KeypointChannels",
    "MACE2D_OFFICIAL",
    "MACE2D_PROTOCOLS",
    "MACE2D_STRICT",
    "Mace2dProtocol",
    "MissingFrames",
    "Normalization",
    "STRICT_FIXES",
    "VideoKeypoints",
    "Window",
]


@dataclass(frozen=True)
class BeatTrack:
    """``librosa.beat.beat_track`` settings of the GT music beats."""

    hop_length: int = 512
    start_bpm: float = 120.0
    tightness: int = 100
    trim: bool = True


@dataclass(frozen=True)
class VideoKeypoints:
    """How ``--pose vitpose`` extracts keypoints from video inputs for a protocol.

    ``invisible_joints``: a joint whose heatmap is <= 0 is decoded as easy_ViTPose does (``easy_vitpose``: the
    argmax (-1, -1) and DARK-UDP neighbours read across joint maps, landing near the crop's top-left corner with
    its negative confidence, which the official features use) or marked missing (``missing``: confidence 0,
    listed in the track's ``meta["invisible_joints"]``). ``detector_preference``: the person detectors
    ``--detector auto`` tries, in order, among those whose weights are cached. What ran is recorded in the
    results under ``inputs.motion.keypoint_extraction`` (not in ``params``: keypoint inputs do not depend on it).
    """

    invisible_joints: str = "easy_vitpose"
    detector_preference: tuple[str, ...] = ("yolov8s", "rtdetr")


@dataclass(frozen=True, kw_only=True)
class Mace2dProtocol(Protocol):
    """A ``mace2d-*`` protocol: FID_k/FID_g/Div_k/Div_g/BAS on ViTPose-25 keypoint tracks.

    The field defaults are the official script's recipe; ``mace2d-strict`` replaces what it fixes.
    """

    kind: ClassVar[str] = "motion2d"
    METRICS: ClassVar = MOTION_METRICS

    reference: str = doc_field("")
    keypoint_channels: KeypointChannels = KeypointChannels.AS_STORED
    joint_map: JointMap = JointMap.OFFICIAL
    # -- the scored window: first n_frames (official) or the common duration in seconds (strict)
    window: Window = Window.FIRST
    n_frames: int | None = optional_field()
    min_frames: int | None = optional_field()
    max_seconds: float | None = optional_field()
    min_seconds: float | None = optional_field()
    default_fps: float | None = optional_field()
    #: the frame rate the official script assumes for every clip (file frame rates are ignored)
    fps: int | None = optional_field()
    # -- music beats
    beats_unit: BeatsUnit = BeatsUnit.FRAMES
    audio_sr: int = 8320
    audio_suffixes: tuple[str, ...] = (".mp4",)
    beat_track: BeatTrack = BeatTrack()
    # -- input files
    keypoint_suffixes: tuple[str, ...] = (".json",)
    file_match: FileMatch = FileMatch.GLOB
    # -- features
    kinetic_frame_time: float | str = 1 / 30.0
    reference_fps: float | None = optional_field()
    sliding_window: int = 2
    missing_frames: MissingFrames = MissingFrames.ZEROS
    min_detection_rate: float | None = optional_field()
    # -- FID / Div
    normalization: Normalization = Normalization.OWN
    normalize_eps: float = 1e-4
    normalize_ddof: int = 1
    fid_eps: float = 1e-5
    fid_sqrtm: FidSqrtm = FidSqrtm.LEGACY
    fid_complex_mode: FidComplexMode = FidComplexMode.REAL
    diversity_dtype: str = "float32"
    diversity_mode: DiversityMode = DiversityMode.TRIU
    warn_small_sample: bool = True
    # -- BAS: sigmas in frames (beats in frames) or in seconds (beats in seconds)
    bas_sigma_smooth: float | None = optional_field()
    bas_sigma_kernel: float | None = optional_field()
    bas_sigma_smooth_s: float | None = optional_field()
    bas_sigma_kernel_s: float | None = optional_field()
    bas_without_beats: BasWithoutBeats = BasWithoutBeats.ZERO
    plausible_fps: tuple[float, float] | None = optional_field()
    fixes: Mapping[str, str] | None = doc_field(None, omit_none=True)
    #: video inputs only (easy_ViTPose's rule and the official YOLOv8s first for the official protocol)
    video_keypoints: VideoKeypoints = unrecorded_field(VideoKeypoints())

    def __post_init__(self) -> None:
        super().__post_init__()
        need = {
            Window.FIRST: ("n_frames", "min_frames", "fps"),
            Window.COMMON: ("max_seconds", "min_seconds", "default_fps"),
        }[self.window]
        need += (
            ("bas_sigma_smooth", "bas_sigma_kernel")
            if self.beats_unit is BeatsUnit.FRAMES
            else ("bas_sigma_smooth_s", "bas_sigma_kernel_s")
        )
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise MaceError(f"protocol {self.name}: {self.window.value} window needs {', '.join(missing)}")

    # ---- derived values (each reads the fields it names) -------------------------------------------------

    def assumed_fps(self) -> float:
        """Frame rate used when a track declares none (the official protocol assumes it for every track)."""
        return float(self.default_fps if self.default_fps is not None else self.fps)

    def kinetic_dt(self, fps: float) -> float:
        return frame_time(self.kinetic_frame_time, fps)

    def threshold_scale(self, fps: float) -> float:
        """Factor on the geometric displacement thresholds: ``reference_fps / fps`` (1 when not set)."""
        return 1.0 if self.reference_fps is None else float(self.reference_fps) / fps

    def smoothing_sigma(self, fps: float) -> float:
        """Gaussian sigma of the speed curve in frames of a track at ``fps``."""
        if self.beats_unit is BeatsUnit.SECONDS:
            return float(self.bas_sigma_smooth_s) * fps
        return float(self.bas_sigma_smooth)

    def kernel_sigma(self) -> float:
        """BAS kernel sigma in the beat unit."""
        if self.beats_unit is BeatsUnit.SECONDS:
            return float(self.bas_sigma_kernel_s)
        return float(self.bas_sigma_kernel)

    def input_rule(self, role: str) -> InputRule:
        """The files this protocol reads for ``role`` (``"keypoints"`` or ``"audio"``)."""
        suffixes = self.audio_suffixes if role == "audio" else self.keypoint_suffixes
        exact = self.file_match is FileMatch.GLOB
        return InputRule(tuple(suffixes), case_sensitive=exact, hidden=exact)


MACE2D_OFFICIAL = Mace2dProtocol(
    name="mace2d-official",
    version="1.0",
    description=(
        "MACE-Dance Evaluation-Motion/calculate_metric.py (AMAP-ML/MACE-Dance @ 8f92d12), quirks included: "
        "first 64 frames, own-set normalisation, 1/30 s frame time, official joint rows, zero frames kept."
    ),
    reference="AMAP-ML/MACE-Dance@8f92d12 Evaluation-Motion/calculate_metric.py",
    n_frames=64,
    min_frames=64,
    fps=16,
    bas_sigma_smooth=3.5,
    bas_sigma_kernel=3.0,
)  # every other field: the class default, which is the official script's recipe

#: What ``mace2d-strict`` changes, each next to the official quirk it replaces (also in its ``fixes``).
STRICT_FIXES: dict[str, str] = {
    "normalization": "official: GT and generated sets each z-scored by their OWN mean/std, so FID cannot see "
    "mean or scale shifts -> strict: both sets z-scored by the GT mean and unbiased std (eps 1e-4); a column "
    "constant over GT takes the pooled GT+generated std so it cannot explode.",
    "joint_map": "official: COCO-17 row indices applied to coco_25 rows (its 'hips' are right wrist / left hip) "
    "-> strict: the real coco_25 rows for hips, shoulders, elbows, wrists, knees, ankles, toes.",
    "keypoint_channels": "official: (y, x) rows treated as (x, y), so 'horizontal' energy is vertical and the "
    "upright-torso test measures the wrong axis -> strict: channels swapped to (x, y) before features.",
    "missing_frames": "official: missed detections stay all-zero rows, creating huge jumps -> strict: linearly "
    "interpolated from neighbouring detections (ends held); clips below min_detection_rate are skipped.",
    "frame_time": "official: velocity divides by 1/30 s although clips are 16 fps -> strict: 1/fps of each "
    "track; displacement thresholds of the geometric features are scaled by 16/fps.",
    "window": "official: first 64 frames (4 s at 16 fps) regardless of fps -> strict: the first "
    "min(GT duration, generated duration, max_seconds) seconds of both tracks; clips shorter than "
    "min_seconds are skipped.",
    "bas_time": "official: motion and music beats compared as frame indices (velocity sample i vs frame i) -> "
    "strict: compared in seconds (velocity sample i at (i + 0.5)/fps), sigmas converted from 16 fps frames.",
    "sample_size": "official: silent when n_samples < feature dimension (singular covariances) -> strict: a "
    "warning in the results.",
    "bas_without_beats": "official: a clip whose GT music has no beat in the window (silent, beatless) or is "
    "shorter than the window scores BAS 0 and is averaged in -> strict: its BAS is undefined, left out of "
    "the mean and listed (v1.1).",
    "fps": "official: the file's fps is ignored -> strict: it sets the frame time; a declared fps outside "
    "plausible_fps skips the clip (v1.1; the official protocol skips it too, as a corrupt file).",
}

MACE2D_STRICT = dataclasses.replace(
    MACE2D_OFFICIAL,
    name="mace2d-strict",
    version="1.1",
    description="The mace2d-official measurement with its defects fixed (see params['fixes']).",
    reference="mace2d-official 1.0 with documented fixes",
    keypoint_channels=KeypointChannels.SWAPPED,
    joint_map=JointMap.COCO25,
    window=Window.COMMON,
    n_frames=None,
    min_frames=None,
    fps=None,
    max_seconds=10.0,
    min_seconds=4.0,
    default_fps=16.0,
    beats_unit=BeatsUnit.SECONDS,
    audio_suffixes=AUDIO_SUFFIXES,
    keypoint_suffixes=KEYPOINT_SUFFIXES,
    file_match=FileMatch.ANY_CASE,
    kinetic_frame_time=PER_FPS,
    reference_fps=16.0,
    missing_frames=MissingFrames.INTERPOLATE,
    min_detection_rate=0.5,
    normalization=Normalization.GT,
    bas_sigma_smooth=None,
    bas_sigma_kernel=None,
    bas_sigma_smooth_s=3.5 / 16,
    bas_sigma_kernel_s=3.0 / 16,
    bas_without_beats=BasWithoutBeats.UNDEFINED,
    plausible_fps=PLAUSIBLE_FPS,
    fixes=STRICT_FIXES,
    video_keypoints=VideoKeypoints(invisible_joints="missing", detector_preference=("rtdetr", "yolov8s")),
)

#: The family by name (the registry, :mod:`benchmark.protocols`, lists these objects).
MACE2D_PROTOCOLS: dict[str, Mace2dProtocol] = {p.name: p for p in (MACE2D_OFFICIAL, MACE2D_STRICT)}
