"""The person filter inside `curate_source`, on real footage from Debian's opencv-doc."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ma_data.core.io.video import write_video
from ma_data.curation.curate import curate_source

pytestmark = pytest.mark.slow
DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def _need(name: str) -> Path:
    p = DATA / name
    if not p.is_file():
        pytest.skip(f"{p} missing: install Debian's opencv-doc (make apt) for real human footage")
    return p


def _curate(video: Path, out: Path, **extra) -> dict:
    payload = {
        "source_id": video.stem,
        "key": "k",
        "video": str(video),
        "out_dir": str(out),
        "url": "file://x",
    }
    payload["config"] = {"skip": ["dedupe"], "person_samples": 4}
    payload.update(extra)
    return curate_source(payload)


def test_pedestrian_plaza_is_multi_person(tmp_path):
    rec = _curate(_need("vtest.avi"), tmp_path, start=0.0, end=6.0)
    assert rec["decision"] == "filtered" and rec["reason"] == "multi_person", rec["shots"]
    shot = rec["shots"][0]
    assert shot["flow_speed"] > 0.02  # people walk: not static
    assert sum(c >= 2 for c in shot["person"]["people_counts"]) >= 2
    assert not list(tmp_path.rglob("*.mp4"))


def test_one_still_person_panned_is_no_human_motion(tmp_path):
    import cv2

    img = cv2.cvtColor(cv2.imread(str(_need("messi5.jpg"))), cv2.COLOR_BGR2RGB)  # 548x342, one player
    h, w, n = 300, 480, int(30 * 5.2)
    from ma_data.curation.person import count_people_hog

    assert count_people_hog(img) <= 1

    def frames():  # a slow camera pan over a photo: the picture moves, the person does not
        for i in range(n):
            x = int(round(i * (img.shape[1] - w) / n))
            yield np.ascontiguousarray(img[20 : 20 + h, x : x + w])

    video = write_video(tmp_path / "pan.mp4", frames(), 30)
    rec = _curate(video, tmp_path / "out")
    shot = rec["shots"][0]
    assert shot["flow_speed"] > 0.02, shot  # the pan is motion, so the static filter keeps it
    assert shot["person"]["full_body_fraction"] >= 0.5, shot
    assert rec["decision"] == "filtered" and rec["reason"] == "no_human_motion", shot
