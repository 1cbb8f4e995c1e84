"""The suite writes no cache under the user's home (tests/conftest.py points every cache at a temporary root)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CACHE_VARS

REPO = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter whose HOME is an empty folder: every cache the toolkit fills (keypoint tracks, the
# weights folder, file hashes, beats: all under ma_data.core.cache.cache_dir) and the libraries' own (matplotlib's font
# cache, Mesa's shader cache when a GL context is available) must land under the temporary root, never HOME.
_SCRIPT = r"""
import sys
from pathlib import Path

import numpy as np

work = Path(sys.argv[1])
from ma_data.core.formats.keypoints import KeypointTrack
from ma_data.core.pose.cache import TrackCache
from ma_data.core.cache import cache_dir
from ma_data.core.weights import cached_sha256, weights_dir

track = KeypointTrack(data=np.ones((2, 25, 3), np.float32), fps=30.0, width=8, height=8)
TrackCache().put(track, "ab" * 32, "test-backend", "1", "w")
weights_dir().mkdir(parents=True, exist_ok=True)
(work / "weight.bin").write_bytes(b"weights")
cached_sha256(work / "weight.bin")  # remembered in the file-hash cache
beats = cache_dir() / "beats"  # benchmark.motion.music_beats caches under the same root
beats.mkdir(parents=True, exist_ok=True)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

plt.plot([0, 1])
plt.savefig(work / "plot.png")
try:
    import ma_data.render  # noqa: F401 - EGL before OpenGL
    import pyrender
    import trimesh

    scene = pyrender.Scene()
    scene.add(pyrender.PerspectiveCamera(yfov=1.0), pose=np.eye(4))
    scene.add(pyrender.Mesh.from_trimesh(trimesh.creation.box()), pose=np.diag([1.0, 1.0, 1.0, 1.0]))
    r = pyrender.OffscreenRenderer(16, 16)
    r.render(scene)
    r.delete()
    print("rendered")
except Exception as exc:  # no EGL here: the other caches still count
    print("no render:", exc)
"""


def test_caches_point_into_the_session_root(hermetic_caches):
    from ma_data.core.cache import cache_dir
    from ma_data.core.pose.cache import default_cache_root

    for var, sub in CACHE_VARS.items():
        assert os.environ[var] == str(hermetic_caches / sub)
    assert cache_dir() == hermetic_caches / "mace-dance"
    assert default_cache_root().is_relative_to(hermetic_caches)


def test_cache_users_leave_home_untouched(hermetic_caches, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    res = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert written == [], f"written under HOME: {written}"
    mace = hermetic_caches / "mace-dance"
    assert list((mace / "keypoints" / "test-backend").rglob("*.npz")), "the track cache was not used"
    assert list((mace / "file-sha256").rglob("*.json")), "the file-hash cache was not used"
