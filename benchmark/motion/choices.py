"""The choices of the motion protocols: the values their typed fields take and their ``params`` record.

The 2D and 3D protocols share the FID, diversity and BAS choices; the others belong to one family.
"""

from __future__ import annotations

import enum

__all__ = [
    "AxisAlign",
    "BasJoints",
    "BasWithoutBeats",
    "BeatsUnit",
    "Centering",
    "DiversityMode",
    "FidComplexMode",
    "FidSqrtm",
    "FileMatch",
    "FsrGround",
    "FsrTangent",
    "JointMap",
    "KeypointChannels",
    "Kinetic",
    "ManualFeatures",
    "MissingFrames",
    "MusicBeatsCut",
    "MusicRecipe",
    "Normalization",
    "Window",
]


class FidSqrtm(str, enum.Enum):
    """Matrix square root of the Frechet distance (:func:`benchmark.motion.common.frechet_distance`)."""

    LEGACY = "legacy"  # SciPy <= 1.15's Schur algorithm, as the references ran
    SCIPY = "scipy"  # the installed SciPy's


class FidComplexMode(str, enum.Enum):
    """What happens to a complex square root (:func:`benchmark.motion.common.frechet_distance`)."""

    REAL = "real"
    BAILANDO = "bailando"


class DiversityMode(str, enum.Enum):
    """How the pairwise distances are summed (:func:`benchmark.motion.common.diversity`)."""

    TRIU = "triu"
    FULL = "full"
    LOOP = "loop"


class BasWithoutBeats(str, enum.Enum):
    """A sample whose music has no beat in the compared range (or ends before it): the reference's score (0
    without beats), averaged in; or undefined, left out of the mean and listed."""

    ZERO = "zero"
    UNDEFINED = "undefined"


# ---- 2D keypoint protocols (benchmark.motion.protocols2d)


class KeypointChannels(str, enum.Enum):
    """How the official JSON's ``(y, x, conf)`` rows reach the features."""

    AS_STORED = "as stored in the official JSON (y, x, conf)"
    SWAPPED = "(y, x, conf) input swapped to (x, y)"


class JointMap(str, enum.Enum):
    """Which rows the features read for each named joint (see :mod:`benchmark.motion.joints2d`)."""

    OFFICIAL = "official"
    COCO25 = "coco25"


class Window(str, enum.Enum):
    """The scored window: the first ``n_frames`` frames, or the seconds both tracks have in common."""

    FIRST = "first"
    COMMON = "common"


class BeatsUnit(str, enum.Enum):
    """The unit motion and music beats are compared in."""

    FRAMES = "frames"
    SECONDS = "seconds"


class MissingFrames(str, enum.Enum):
    """What happens to all-zero (missed detection) frames."""

    ZEROS = "zeros"
    INTERPOLATE = "interpolate"


class Normalization(str, enum.Enum):
    """How features are z-scored before FID/Div: each set by its own stats, or both by the GT set's."""

    OWN = "own"
    GT = "gt"


class FileMatch(str, enum.Enum):
    """How input files are matched by suffix (see :class:`benchmark.inputs.InputRule`)."""

    #: exactly ``Path.glob("*.json")`` as the official script: case-sensitive suffix, hidden files included
    GLOB = "glob"
    #: any-case suffix, hidden files ignored
    ANY_CASE = "any-case"


# ---- 3D motion protocols (benchmark.motion.protocols3d)


class Kinetic(str, enum.Enum):
    """Kinetic features: AIST++/Bailando's (:func:`kinetic_features_aist`) or MACE-Dance's vectorised ones."""

    AIST = "aist"
    MACE = "mace"


class ManualFeatures(str, enum.Enum):
    """Geometric features: the AIST++ 32 boolean manual features (``manual_new``)."""

    AIST_MANUAL_NEW_32 = "aist_manual_new_32"


class Centering(str, enum.Enum):
    FRAME0_ROOT = "frame0_root"
    FRAME0_ROOT_THEN_ROOT_RELATIVE = "frame0_root_then_root_relative"


class AxisAlign(str, enum.Enum):
    """MACE-Dance's ``align_axis``: Y-up joints rotated +90 degrees about Z (None: no alignment)."""

    ROT_Z_90 = "rot_z_+90"


class BasJoints(str, enum.Enum):
    """Joints whose mean speed gives the motion beats."""

    ALL = "all"


class MusicBeatsCut(str, enum.Enum):
    """Where the music-beat vector is cut before BAS (None: not cut, LODGE's slicing slip)."""

    T_MINUS_1 = "T-1"
    T = "T"


class MusicRecipe(str, enum.Enum):
    """The :func:`ma_data.core.music_features.beat_vector` recipe for ``--music`` audio."""

    EDGE = "edge"
    LODGE = "lodge"


class FsrTangent(str, enum.Enum):
    """Foot speed of FSR: the reference's |mean(v_x, v_z)|, or the horizontal speed norm."""

    MEAN = "mean"
    NORM = "norm"


class FsrGround(str, enum.Enum):
    """The floor of FSR: LODGE's estimate from the toes at frame 0."""

    FRAME0_TOES = "frame0_toes"
