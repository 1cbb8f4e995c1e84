"""`mace-bench evaluate` on a keypoint set written by :func:`tools.synthetic_keypoints.make_demo_set`."""

from __future__ import annotations

import shutil
from pathlib import Path


def evaluate_args(dirs: dict[str, Path], *extra, n_boot: int = 0) -> list[str]:
    """``evaluate`` arguments scoring the set's generated keypoints against its GT, with its audio."""
    return [
        "evaluate",
        "--gt-keypoints", str(dirs["gt_keypoints"]),
        "--pred-keypoints", str(dirs["pred_keypoints"]),
        "--audio", str(dirs["audio"]),
        "--n-boot", str(n_boot),
        *map(str, extra),
    ]  # fmt: skip


def copy_set(dirs: dict[str, Path], dest: Path) -> dict[str, Path]:
    """A private copy of the set's folders under ``dest``, for tests that add or break files."""
    new = {k: dest / k for k in dirs}
    for k, v in dirs.items():
        shutil.copytree(v, new[k], symlinks=True)
    return new
