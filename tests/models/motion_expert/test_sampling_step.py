"""The hoisted DDIM sampler against the literal per-step loop; capture safety; CUDA graphs on CUDA."""

from __future__ import annotations

import pytest
import torch

from models.motion_expert.denoiser import DenoiserConfig, MotionDenoiser
from models.motion_expert.diffusion import MotionDiffusion
from models.motion_expert.editing import inbetween_constraint
from models.motion_expert.sampling_step import DenoiseStep, captured_graphs, predict_x0

# The 'tiny' training preset's shape (two dance layers, one music layer).
TINY = DenoiserConfig(width=64, ff_size=128, num_heads=4, dance_layers=2, music_layers=1, d_state=8)


def tiny_model(seed: int = 0, scan_impl: str = "auto") -> MotionDenoiser:
    torch.manual_seed(seed)
    cfg = DenoiserConfig(**{**TINY.to_dict(), "scan_impl": scan_impl})
    return MotionDenoiser(cfg).eval()


def inputs(b: int = 2, t: int = 45, seed: int = 0, device: str = "cpu"):
    g = torch.Generator().manual_seed(seed)
    music = torch.randn(b, t, 35, generator=g)
    return music.to(device), torch.tensor([3, 7, 11, 0][:b], device=device)


def sample_both(diff, music, genre, seed=1, **kw):
    device = music.device
    gen = lambda: torch.Generator(device=device).manual_seed(seed)  # noqa: E731
    fast = diff.ddim_sample(music, genre, generator=gen(), **kw)
    ref = diff.ddim_sample_reference(music, genre, generator=gen(), **kw)
    return fast, ref


@pytest.mark.parametrize(
    "kw",
    [
        dict(guidance="gft", steps=10),
        dict(guidance="cfg", steps=10, cfg_scale=2.5),
        dict(guidance="gft", steps=7, eta=0.0, beta=0.3),
        dict(guidance="gft", steps=5, n_frames=30),
    ],
)
def test_hoisted_sampler_equals_reference_loop_bit_for_bit(kw):
    diff = MotionDiffusion(tiny_model())
    music, genre = inputs()
    fast, ref = sample_both(diff, music, genre, **kw)
    assert torch.equal(fast, ref)


def test_hoisted_sampler_with_constraint_equals_reference():
    diff = MotionDiffusion(tiny_model())
    music, genre = inputs(b=1, t=24)
    value = torch.rand(1, 24, 151, generator=torch.Generator().manual_seed(5)) * 2 - 1
    c = inbetween_constraint(value, keep_frames=[0, 1, 22, 23])
    fast, ref = sample_both(diff, music, genre, steps=6, constraint=c)
    assert torch.equal(fast, ref)


@pytest.mark.parametrize("guidance", ["gft", "cfg"])
def test_default_scan_samples_what_the_former_default_did(guidance):
    """The blocked scan (default now) against the chunked one (default before), whole DDIM runs."""
    music, genre = inputs()
    diff_new = MotionDiffusion(tiny_model(scan_impl="auto"))
    diff_old = MotionDiffusion(tiny_model(scan_impl="chunked"))
    gen = lambda: torch.Generator().manual_seed(2)  # noqa: E731
    new = diff_new.ddim_sample(music, genre, steps=20, guidance=guidance, generator=gen())
    old = diff_old.ddim_sample_reference(music, genre, steps=20, guidance=guidance, generator=gen())
    torch.testing.assert_close(new, old, rtol=1e-5, atol=1e-5)


def test_network_call_counts_and_step_embedding():
    model = tiny_model()
    music, genre = inputs()
    step = DenoiseStep(model, music, genre, guidance="cfg", cfg_scale=2.0)
    x = torch.randn(2, 45, 151)
    before = model.n_calls
    out = step(x, step.timesteps([500])[0])
    assert model.n_calls - before == 2
    t = torch.full((2,), 500)
    cond = model(x, t, 1.0, music, genre)
    uncond = model(x, t, 1.0)
    torch.testing.assert_close(out, uncond + 2.0 * (cond - uncond), rtol=0, atol=0)


def test_step_reads_no_tensor_data_on_the_host():
    """Capture safety by construction: the per-step network runs on data-less meta tensors.

    Any ``.item()``, ``float(tensor)`` or data-dependent branch would raise here, and would break (or
    silently bake into) a CUDA graph capture.
    """
    model = tiny_model().to("meta")
    x = torch.empty(1, 33, 151, device="meta")
    t = torch.empty(1, dtype=torch.long, device="meta")
    beta_emb = torch.empty(1, TINY.width, device="meta")
    cond = torch.empty(1, 40, TINY.width, device="meta")
    with torch.no_grad():
        for cfg_scale in (None, 2.0):
            assert predict_x0(model, x, t, cond, beta_emb, cfg_scale).shape == (1, 33, 151)


def test_cuda_graph_needs_cuda():
    music, genre = inputs()
    model = tiny_model()
    with pytest.raises(ValueError, match="CUDA"):
        MotionDiffusion(model).ddim_sample(music, genre, steps=2, cuda_graph=True)
    MotionDiffusion(model).ddim_sample(music, genre, steps=2)  # auto: eager on the CPU
    assert captured_graphs(model) == 0


@pytest.mark.slow
def test_torch_compile_flag_samples_the_same(tmp_path, monkeypatch):
    pytest.importorskip("torch._inductor")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    torch.manual_seed(0)
    small = DenoiserConfig(width=32, ff_size=64, num_heads=4, dance_layers=1, music_layers=1, d_state=4)
    diff = MotionDiffusion(MotionDenoiser(small).eval())  # the smallest graph: compile time
    music, genre = inputs(b=1, t=8)
    gen = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    try:
        compiled = diff.ddim_sample(music, genre, steps=3, generator=gen(), compile=True)
    except Exception as exc:  # no C++ compiler for inductor on this machine
        pytest.skip(f"torch.compile unavailable: {type(exc).__name__}: {exc}")
    eager = diff.ddim_sample_reference(music, genre, steps=3, generator=gen())
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("guidance", ["gft", "cfg"])
def test_cuda_graph_sampling_equals_eager_and_reference(guidance):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    model = tiny_model().cuda()
    diff = MotionDiffusion(model)
    music, genre = inputs(b=1, t=64, device="cuda")
    gen = lambda: torch.Generator(device="cuda").manual_seed(4)  # noqa: E731
    before = model.n_calls
    graphed = diff.ddim_sample(music, genre, steps=12, guidance=guidance, generator=gen(), cuda_graph=True)
    assert model.n_calls - before == 12 * (1 if guidance == "gft" else 2)
    assert captured_graphs(model) == 1
    again = diff.ddim_sample(music, genre, steps=12, guidance=guidance, generator=gen(), cuda_graph=True)
    eager = diff.ddim_sample(music, genre, steps=12, guidance=guidance, generator=gen(), cuda_graph=False)
    ref = diff.ddim_sample_reference(music, genre, steps=12, guidance=guidance, generator=gen())
    torch.testing.assert_close(again, graphed, rtol=0, atol=0)  # the cached graph replays the same
    torch.testing.assert_close(graphed, eager, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(eager, ref, rtol=0, atol=0)
    # Other music of the same shape reuses the graph with the new condition.
    music2, _ = inputs(b=1, t=64, seed=9, device="cuda")
    a = diff.ddim_sample(music2, genre, steps=12, guidance=guidance, generator=gen(), cuda_graph=True)
    b = diff.ddim_sample(music2, genre, steps=12, guidance=guidance, generator=gen(), cuda_graph=False)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
