"""3D motion test fixtures: ``dance_folders(root, n)`` writes GT, generated and beat folders of ``n`` stems
(dances from :func:`ma_data.core.synthetic.synthetic_dance_3d`)."""

import numpy as np
import pytest

from ma_data.core.synthetic import synthetic_dance_3d


@pytest.fixture
def dance_folders():
    def write(root, n: int = 5, frames: int = 70, beat_frames: int = 100):
        """``root/{gt,pred,beats}``: float32 .npy dances (seeds i and 50 + i) and 0/1 beats ``v[i::12] = 1``."""
        gt, pred, beats = root / "gt", root / "pred", root / "beats"
        for d in (gt, pred, beats):
            d.mkdir()
        for i in range(n):
            np.save(gt / f"{i:03d}.npy", synthetic_dance_3d(frames, i).astype(np.float32))
            np.save(pred / f"{i:03d}.npy", synthetic_dance_3d(frames, 50 + i).astype(np.float32))
            v = np.zeros(beat_frames, np.float32)
            v[i::12] = 1
            np.save(beats / f"{i:03d}.npy", v)
        return gt, pred, beats

    return write
