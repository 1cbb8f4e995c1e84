"""Synthetic music and dances with known answers: the one generator of each for the demo, the sample test set
and the tests.

- :func:`click_track` — clicks at a known tempo (optionally on a quiet drone or in noise), so beat tracking has
  a known answer.
- :func:`synthetic_dancer` — a ViTPose-25 stick dancer that moves between two key poses once per beat with a
  smoothstep, so its joint speed is zero exactly on the beats (motion beats = music beats, BAS near 1).
- :func:`synthetic_dance_3d` — SMPL-24 joints of a smooth random 3D dance (the 3D protocols' test input).

The beat-locked SMPL dances with music in FineDance's layout are :mod:`ma_data.sample` (built on the same
skeleton); this module stays free of anything but numpy and :mod:`ma_data.core.body`.
"""

from __future__ import annotations

import numpy as np

# A standing figure in a 512x512 image, (x, y) pixels, coco_25 rows (see ma_data.core.formats.keypoints).
_REST = np.array(
    [
        [256, 100],  # nose
        [249, 93],  # left_eye
        [263, 93],  # right_eye
        [240, 98],  # left_ear
        [272, 98],  # right_ear
        [256, 140],  # neck
        [226, 140],  # left_shoulder  (image-left is the dancer's right; irrelevant for the metrics)
        [286, 140],  # right_shoulder
        [216, 190],  # left_elbow
        [296, 190],  # right_elbow
        [212, 236],  # left_wrist
        [300, 236],  # right_wrist
        [238, 250],  # left_hip
        [274, 250],  # right_hip
        [256, 250],  # hip
        [236, 330],  # left_knee
        [276, 330],  # right_knee
        [234, 405],  # left_ankle
        [278, 405],  # right_ankle
        [226, 420],  # left_big_toe
        [230, 418],  # left_small_toe
        [238, 410],  # left_heel
        [286, 420],  # right_big_toe
        [282, 418],  # right_small_toe
        [274, 410],  # right_heel
    ],
    dtype=np.float64,
)

# Joint groups moved by the key poses: arms swing up, knees bend, hips sway.
_ARM_L, _ARM_R = [8, 10], [9, 11]
_LEGS = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]


def click_track(
    bpm: float,
    duration_s: float,
    sr: int = 22050,
    offset_s: float = 0.0,
    click_hz: float = 1000.0,
    *,
    drone: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Mono float32 audio with a 30 ms decaying ``click_hz`` click on every beat (first at ``offset_s``).

    Clicks peak at 0.8. ``drone`` adds a 220 Hz sine of that amplitude under them (no silent stretches);
    ``noise`` adds Gaussian noise of that standard deviation (``seed`` picks it). With neither, the output
    depends on the arguments only (the bundled sample test set's music is made this way).
    """
    n = int(round(duration_s * sr))
    audio = np.zeros(n, dtype=np.float32)
    t = np.arange(int(0.03 * sr)) / sr
    click = (np.sin(2 * np.pi * click_hz * t) * np.exp(-t / 0.006)).astype(np.float32)
    for beat in np.arange(offset_s, duration_s, 60.0 / bpm):
        start = int(round(beat * sr))
        stop = min(n, start + click.size)
        audio[start:stop] += click[: stop - start]
    audio = 0.8 * audio
    if drone:
        audio += (drone * np.sin(2 * np.pi * 220.0 * np.arange(n) / sr)).astype(np.float32)
    if noise:
        audio += (noise * np.random.default_rng(seed).normal(size=n)).astype(np.float32)
    return audio


def _key_pose(rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A random displacement of the rest pose: arms raised/lowered, knees bent, a hip sway."""
    pose = _REST.copy()
    arm = amplitude * rng.uniform(0.3, 1.0, size=2)
    pose[_ARM_L, 1] -= arm[0] * np.array([0.6, 1.2])
    pose[_ARM_L, 0] -= arm[0] * np.array([0.3, 0.5])
    pose[_ARM_R, 1] -= arm[1] * np.array([0.6, 1.2])
    pose[_ARM_R, 0] += arm[1] * np.array([0.3, 0.5])
    sway = amplitude * rng.uniform(-0.4, 0.4)
    pose[:, 0] += sway
    bend = amplitude * rng.uniform(0.0, 0.3)
    pose[5:, 1] += bend * 0.2
    pose[_LEGS, 1] -= bend * 0.2
    return pose


def synthetic_dancer(
    n_frames: int,
    fps: float,
    bpm: float,
    rng: np.random.Generator,
    offset_s: float = 0.0,
    amplitude: float = 40.0,
    noise_px: float = 0.0,
    phase_shift_beats: float = 0.0,
) -> np.ndarray:
    """(T, 25, 3) float32 ``(x, y, conf)`` keypoints of a dancer that pauses on every beat.

    Between consecutive beats the body moves between two random key poses with a smoothstep, so the speed is
    zero on the beats and largest half-way. ``phase_shift_beats`` moves the pauses off the beats (a
    badly synchronised dancer); ``noise_px`` adds per-frame jitter.
    """
    period = 60.0 / bpm
    t = np.arange(n_frames) / fps
    u = (t - offset_s) / period - phase_shift_beats  # beats elapsed
    k = np.floor(u).astype(int)
    frac = u - k
    s = frac * frac * (3 - 2 * frac)  # smoothstep: zero slope at both ends
    # Two key poses visited alternately: every beat-to-beat move has the same size, so the smoothed speed's
    # minima sit on the beats rather than drifting towards the smaller of two unequal moves.
    keys = np.stack([_key_pose(rng, amplitude), _key_pose(rng, amplitude)])
    a, b = keys[k % 2], keys[(k + 1) % 2]
    xy = a + (b - a) * s[:, None, None]
    if noise_px:
        xy = xy + rng.normal(0.0, noise_px, size=xy.shape)
    conf = np.full((n_frames, 25, 1), 0.9)
    return np.concatenate([xy, conf], axis=-1).astype(np.float32)


def synthetic_dance_3d(n_frames: int, seed: int, dtype: type = np.float64) -> np.ndarray:
    """(T, 24, 3) Y-up SMPL joints (metres, 30 fps) of a smooth random dance: sinusoidal joint rotations and a
    bouncing, drifting root, through forward kinematics of the SMPL skeleton."""
    from ma_data.core.body import forward_kinematics

    r = np.random.default_rng(seed)
    t = np.arange(n_frames) / 30.0
    amp = 0.35 * r.normal(size=(24, 3))
    freq = r.uniform(0.3, 2.0, size=(24, 3))
    phase = r.uniform(0, 2 * np.pi, size=(24, 3))
    poses = amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)
    trans = np.stack(
        [
            0.4 * np.sin(t * r.uniform(0.2, 1.0)),
            0.93 + 0.04 * np.sin(2 * np.pi * r.uniform(1, 3) * t),
            0.4 * np.cos(t * r.uniform(0.2, 1.0)),
        ],
        axis=1,
    )
    return forward_kinematics(poses, trans).astype(dtype)
