"""151-d encoding: Y-up -> Z-up, contacts, 6D rows, and the decode round trip."""

from __future__ import annotations

import numpy as np
import torch

from ma_data.core.formats.motion import Motion, from_finedance_array
from models.motion_expert.losses import motion_losses
from models.motion_expert.normalizer import MinMaxNormalizer
from models.motion_expert.representation import contact_labels, decode_features, encode_motion


def test_encode_decode_round_trip_is_z_up(dance_array):
    motion = from_finedance_array(dance_array(40, 120))  # Y-up
    feats = encode_motion(motion)
    assert feats.shape == (40, 151) and feats.dtype == np.float32
    decoded, contacts = decode_features(feats)
    z_up = motion.to_up_axis("z")
    assert decoded.up_axis == "z"
    np.testing.assert_allclose(decoded.joints(), z_up.joints(), atol=1e-4)
    np.testing.assert_allclose(decoded.trans, z_up.trans, atol=1e-6)
    # Y-up height becomes Z-up height: (x, y, z) -> (x, -z, y)
    np.testing.assert_allclose(feats[:, 6], motion.trans[:, 1], atol=1e-6)
    np.testing.assert_allclose(feats[:, 5], -motion.trans[:, 2], atol=1e-6)
    assert set(np.unique(contacts)) <= {0.0, 1.0}


def test_contacts_mark_still_feet_and_the_last_frame():
    joints = np.zeros((5, 24, 3))
    joints[:, 7, 0] = [0.0, 0.5, 1.0, 1.0, 1.0]  # L-ankle moves then stops
    c = contact_labels(joints)
    np.testing.assert_array_equal(c[:, 0], [0, 0, 1, 1, 1])
    assert c[:, 1:].all()


def test_rest_pose_encoding_is_identity_6d():
    m = Motion(poses=np.zeros((3, 24, 3)), trans=np.zeros((3, 3)), up_axis="z")
    feats = encode_motion(m)
    np.testing.assert_allclose(feats[:, 7:13], [[1, 0, 0, 0, 1, 0]] * 3)


def test_normalizer_fit_round_trip_and_constant_channels():
    x = np.random.default_rng(0).normal(size=(100, 5)).astype(np.float32)
    x[:, 2] = 3.0
    n = MinMaxNormalizer.fit(x)
    y = n.normalize(x)
    assert y.min() >= -1 and y.max() <= 1
    np.testing.assert_allclose(y.min(0)[[0, 1, 3, 4]], -1, atol=1e-6)
    np.testing.assert_allclose(n.unnormalize(y), x, atol=1e-5)
    np.testing.assert_allclose(n.unnormalize(torch.from_numpy(y)).numpy(), x, atol=1e-5)
    again = MinMaxNormalizer.from_state_dict(n.state_dict())
    np.testing.assert_array_equal(again.scale, n.scale)


def test_losses_zero_at_target_and_weighted():
    x = torch.rand(2, 10, 151) * 2 - 1
    total, parts = motion_losses(x, x)
    assert parts["rec"] == 0 and parts["vel"] == 0 and parts["fk"] == 0
    # The foot term penalises the prediction's own foot motion where it predicts contact (> 0.95)
    x_still = x.clone()
    x_still[..., :4] = -1.0
    assert motion_losses(x_still, x_still)[0] == 0
    total, parts = motion_losses(x + 0.1, x)
    expect = 0.636 * parts["rec"] + 2.964 * parts["vel"] + 0.646 * parts["fk"] + 10.942 * parts["foot"]
    torch.testing.assert_close(total, expect)
    assert abs(parts["rec"].item() - 0.01) < 1e-6
