"""The SMPL-mesh body path, exercised with a fake SMPL model file built from the mannequin.

Real SMPL files cannot be shipped; this writes a structurally valid ``smpl/SMPL_NEUTRAL.pkl`` (6890+ vertices,
one-hot skinning weights, a sparse joint regressor that picks the rest joints, as in the released files, zero
shape/pose blend shapes) so the restricted model reader, smplx's batched forward pass and per-frame mesh
rendering run for real.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse

pytest.importorskip("pyrender")
pytest.importorskip("smplx")
pytest.importorskip("torch")

from ma_data.core.body import PARENTS, forward_kinematics, rest_joints  # noqa: E402
from ma_data.render import PRESETS  # noqa: E402
from ma_data.render.mannequin import build_mannequin  # noqa: E402
from ma_data.render.renderer import ClipRenderer  # noqa: E402
from ma_data.sample import DEMO_SEQUENCES, dance_motion  # noqa: E402


@pytest.fixture(scope="module")
def fake_smpl_dir(tmp_path_factory):
    rest = rest_joints()
    verts, faces, owner = [], [], []
    base = 0
    for part in build_mannequin():
        v = np.asarray(part.mesh.vertices) + rest[part.joint]  # rest pose: identity rotations
        verts.append(v)
        faces.append(np.asarray(part.mesh.faces) + base)
        owner += [part.joint] * len(v)
        base += len(v)
    v = np.concatenate(verts)
    owner = np.array(owner)
    n_surface = len(v)
    pad = np.arange(6890 + 24 - n_surface - 24) % n_surface  # copies of surface vertices, same skinning
    v = np.concatenate([v, v[pad], rest])
    owner = np.concatenate([owner, owner[pad], np.arange(24)])
    n = len(v)
    weights = np.zeros((n, 24))
    weights[np.arange(n), owner] = 1.0
    jreg = np.zeros((24, n))
    jreg[np.arange(24), n - 24 + np.arange(24)] = 1.0
    model = {
        "v_template": v,
        "f": np.concatenate(faces).astype(np.int64),
        "weights": weights,
        "J_regressor": scipy.sparse.csc_matrix(jreg),
        "shapedirs": np.zeros((n, 3, 10)),
        "posedirs": np.zeros((n, 3, 207)),
        "kintree_table": np.array([[4294967295, *PARENTS[1:]], list(range(24))], dtype=np.int64),
    }
    root = tmp_path_factory.mktemp("smpl_models")
    (root / "smpl").mkdir()
    with open(root / "smpl" / "SMPL_NEUTRAL.pkl", "wb") as fh:
        pickle.dump(model, fh, protocol=2)  # the released files are Python 2 pickles
    return root


@pytest.mark.slow
def test_smpl_body_renders_and_matches_skeleton(fake_smpl_dir):
    poses, trans, _ = dance_motion(DEMO_SEQUENCES[2])
    poses, trans = poses[:60:12], trans[:60:12]
    cfg = PRESETS["demo"].with_(body="smpl", smpl_model_dir=str(fake_smpl_dir))
    r = ClipRenderer(cfg)
    prep = r.prepare(poses, trans)
    assert prep.vertices.shape[0] == 5 and prep.vertices.shape[2] == 3
    # smplx's LBS on the fake model reproduces our FK joints
    assert np.allclose(prep.joints, forward_kinematics(poses, trans), atol=1e-4)
    frames = list(r.frames(prep, with_depth=True))
    for t, (rgb, depth) in enumerate(frames):
        assert rgb.shape == (320, 180, 3)
        xy = np.floor(prep.keypoints2d[t, :, :2]).astype(int)
        _, kp_depth = prep.camera.project(prep.keypoints3d[t])
        assert (np.abs(depth[xy[:, 1], xy[:, 0]] - kp_depth) < 0.3).mean() > 0.9


@pytest.mark.slow
def test_smpl_body_paths_match_the_reference(fake_smpl_dir):
    from ma_data.render.reference import reference_frames

    poses, trans, _ = dance_motion(DEMO_SEQUENCES[2])
    poses, trans = poses[:60:20], trans[:60:20]
    out = {}
    for path in ("cpu-composite", "gpu-scene"):
        r = ClipRenderer(
            PRESETS["demo"].with_(body="smpl", smpl_model_dir=str(fake_smpl_dir), render_path=path)
        )
        prep = r.prepare(poses, trans)
        out[path] = np.stack(list(r.frames(prep)))
    ref = np.stack(list(reference_frames(r, prep)))
    assert np.array_equal(out["cpu-composite"], ref)
    d = np.abs(out["gpu-scene"].astype(int) - ref).max(-1)
    assert (d > 0).mean() < 0.01 and (d > 2).mean() < 1e-4 and d.max() <= 48  # test_render_paths' tolerance
