"""Single-dancer selection: per-frame best score (official) and the overlap tracker."""

from __future__ import annotations

import numpy as np

from ma_data.core.pose.tracking import DancerTracker, box_iou, select_by_score


def test_box_iou_closed_forms():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]])
    np.testing.assert_allclose(box_iou(a, b)[0], [1.0, 50 / 150, 0.0, 0.0])


def test_select_by_score():
    assert select_by_score(np.zeros((0, 5))) is None
    assert select_by_score(np.array([[0, 0, 1, 1, 0.4], [0, 0, 2, 2, 0.9], [0, 0, 3, 3, 0.5]])) == 1


def test_tracker_keeps_the_dancer_when_a_bystander_outscores_it():
    dancer = lambda x: [x, 100, x + 100, 400, 0.8]  # noqa: E731 - walks right 5 px per frame
    bystander = [500, 300, 540, 380, 0.95]  # small, confident, far away
    tracker = DancerTracker()
    picks = []
    for t in range(10):
        boxes = np.array([bystander, dancer(100 + 5 * t)] if t % 2 else [dancer(100 + 5 * t), bystander])
        idx = tracker.update(boxes, frame_size=(640, 480))
        picks.append(boxes[idx][0])
    np.testing.assert_allclose(picks, [100 + 5 * t for t in range(10)])
    # the per-frame official rule would have jumped to the bystander every time
    assert select_by_score(np.array([dancer(100), bystander])) == 1


def test_tracker_survives_a_short_gap_and_reacquires_after_a_long_one():
    tracker = DancerTracker(max_lost=2)
    dancer = np.array([[100, 100, 200, 400, 0.9]])
    elsewhere = np.array([[400, 100, 500, 400, 0.9]])
    assert tracker.update(dancer) == 0
    assert tracker.update(np.zeros((0, 5))) is None  # missed frame
    assert tracker.update(elsewhere) is None  # not the dancer (no overlap, far), still within the gap
    assert tracker.update(dancer) == 0  # back
    for _ in range(3):
        tracker.update(np.zeros((0, 5)))
    assert tracker.update(elsewhere) == 0  # lost for longer than max_lost: pick afresh
    assert tracker.last_box[0] == 400
