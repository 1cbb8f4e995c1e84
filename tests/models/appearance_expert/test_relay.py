"""Long videos by relay: exact requested length, each segment conditioned on the previous segment's frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from models.appearance_expert.encoding import Conditioner
from models.appearance_expert.inference import AppearanceExpert, plan_relay
from tests.models.appearance_expert.ae_helpers import SEGMENT, H, W


@pytest.mark.parametrize("n,overlap", [(1, 1), (9, 1), (10, 1), (77, 1), (200, 1), (200, 5), (1000, 5)])
def test_plan_relay_covers_exactly(n, overlap):
    seg = 77 if n >= 77 else SEGMENT
    plan = plan_relay(n, seg, overlap)
    covered = []
    for s in plan:
        covered.extend(range(s.start + s.keep_from, s.start + seg))
    # Every frame produced once, in order, and no segment starts past the end.
    assert covered[:n] == list(range(n))
    assert plan[-1].start < n and plan[-1].start + seg >= n
    assert all(b.start - a.start == seg - overlap for a, b in zip(plan, plan[1:], strict=False))
    assert plan[0].keep_from == 0 and all(s.keep_from == overlap for s in plan[1:])


def test_plan_relay_rejects_bad_overlap():
    with pytest.raises(ValueError):
        plan_relay(10, 9, 0)
    with pytest.raises(ValueError):
        plan_relay(0, 9, 1)


@pytest.mark.slow
def test_relay_generates_requested_length_conditioned_on_previous(tiny_pipe, monkeypatch):
    seen = []
    original = Conditioner.prev_segment_latents

    def spy(self, prev_frames, n_frames, height, width, first_segment):
        out = original(self, prev_frames, n_frames, height, width, first_segment)
        seen.append((None if prev_frames is None else prev_frames.copy(), out))
        return out

    monkeypatch.setattr(Conditioner, "prev_segment_latents", spy)
    ae = AppearanceExpert(tiny_pipe, "cpu", max_sequence_length=16)
    rng = np.random.default_rng(0)
    pose = rng.integers(0, 255, (20, H, W, 3), dtype=np.uint8)
    ref = Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    result = ae.animate(ref, pose, height=H, width=W, segment_frames=SEGMENT, steps=2, overlap=1, fps=16)

    assert result.frames.shape == (20, H, W, 3) and result.frames.dtype == np.uint8
    assert [r.segment.start for r in result.segments] == [0, 8, 16]
    assert seen[0][0] is None
    for i in (1, 2):
        prev_frames, latents = seen[i]
        # The relay frame is the last generated frame of the previous segment ...
        np.testing.assert_array_equal(prev_frames, result.segments[i - 1].frames[-1:])
        # ... and it is marked as given (mask 1) on the segment's first latent frame only.
        mask = latents[:, :4]
        assert torch.all(mask[:, :, 0] == 1) and torch.all(mask[:, :, 1:] == 0)
    assert torch.all(seen[0][1][:, :4] == 0)  # the first segment has no relay frame
    # Output = segment 0 whole, then each later segment without its re-generated relay frame.
    np.testing.assert_array_equal(result.frames[:SEGMENT], result.segments[0].frames)
    np.testing.assert_array_equal(result.frames[SEGMENT : 2 * SEGMENT - 1], result.segments[1].frames[1:])


@pytest.mark.slow
def test_same_seed_same_video(tiny_pipe):
    ae = AppearanceExpert(tiny_pipe, "cpu", max_sequence_length=16)
    pose = np.full((SEGMENT, H, W, 3), 128, np.uint8)
    ref = Image.new("RGB", (W, H), (10, 200, 30))
    a = ae.animate(ref, pose, height=H, width=W, segment_frames=SEGMENT, steps=2, seed=3).frames
    b = ae.animate(ref, pose, height=H, width=W, segment_frames=SEGMENT, steps=2, seed=3).frames
    np.testing.assert_array_equal(a, b)


def test_cfg_path_runs_and_differs(tiny_pipe):
    """guidance_scale > 1 adds the unconditional pass (blank face, negative prompt)."""
    ae = AppearanceExpert(tiny_pipe, "cpu", max_sequence_length=16)
    pose = np.full((SEGMENT, H, W, 3), 60, np.uint8)
    ref = Image.new("RGB", (W, H), (200, 30, 30))
    kw = dict(height=H, width=W, segment_frames=SEGMENT, steps=1, seed=0)
    a = ae.animate(ref, pose, **kw).frames
    b = ae.animate(ref, pose, guidance_scale=3.0, negative_prompt="a", **kw).frames
    assert a.shape == b.shape and not np.array_equal(a, b)
