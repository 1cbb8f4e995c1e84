"""Protocol-agnostic numerics shared by the 2D and 3D motion protocols.

Every function here reproduces what the public reference implementations (AIST++/Bailando, LODGE, EDGE,
MACE-Dance ``Evaluation-Motion``) compute, including the floating-point types at each step, because those
details move the printed digits. The parity-relevant choices are spelled out next to the code:

- :func:`frechet_distance` uses, by default, the Schur-based ``sqrtm`` of SciPy <= 1.15 (which the references
  ran with). SciPy >= 1.16 replaced it with a different algorithm that no longer returns NaN for some
  singular products, which would change when the "+eps*I" retry fires. ``sqrtm="scipy"`` uses whatever
  SciPy is installed instead.
- :func:`diversity` computes pairwise distances in float32 exactly as the references' dense (n, n, c) code
  does, in row blocks so memory stays bounded.
- :func:`normalize_own_stats` mirrors ``(x - x.mean(0)) / (x.std(0) + eps)`` on float32 *torch* tensors
  bit for bit: torch's float32 mean is a cascade sum in SIMD column groups (:func:`torch_sum_dim0`), its std
  a float64 two-pass computation.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.linalg
from scipy.ndimage import gaussian_filter
from scipy.signal import argrelextrema

__all__ = [
    "FID_SANITY_BOUND",
    "bas_warning",
    "VARIANCE_SPREAD_BOUND",
    "SqrtmFailed",
    "beat_align_score",
    "diversity",
    "diversity_fast",
    "feature_stats",
    "frechet_distance",
    "frechet_distance_fast",
    "frechet_warnings",
    "fid_interval_warning",
    "gt_constant_columns",
    "kinetic_velocity",
    "motion_beats",
    "normalize_by_gt",
    "normalize_by_gt_guarded",
    "normalize_own_stats",
    "sqrtm_legacy",
    "torch_sum_dim0",
    "TORCH_SUM_LANES",
]


class SqrtmFailed(np.linalg.LinAlgError):
    """The triangular square-root recurrence hit a zero denominator with a non-zero numerator."""


# --------------------------------------------------------------------------------------------------------------
# Matrix square root (SciPy <= 1.15 algorithm)
# --------------------------------------------------------------------------------------------------------------


def _sqrtm_upper_triangular(t: np.ndarray) -> np.ndarray:
    """Square root of an upper-triangular matrix by the Bjorck-Hammarling recurrence.

    Filled one superdiagonal at a time (vectorised over the diagonal): entry (i, j) needs only entries on
    nearer diagonals. A pair of zero diagonal entries with a non-zero coupling has no square root; like SciPy
    <= 1.15 we raise then, which the Frechet distance turns into its "+eps*I" retry.
    """
    diag = np.diag(t)
    real = np.isrealobj(t) and (diag.size == 0 or np.min(diag) >= 0)
    dtype = np.float64 if real else np.complex128
    t = np.asarray(t, dtype=dtype)
    n = t.shape[0]
    r = np.diag(np.sqrt(np.asarray(diag, dtype=dtype)))
    for d in range(1, n):
        i = np.arange(n - d)
        j = i + d
        if d > 1:
            k = i[:, None] + np.arange(1, d)[None, :]
            s = np.sum(r[i[:, None], k] * r[k, j[:, None]], axis=1)
        else:
            s = 0.0
        denom = r[i, i] + r[j, j]
        num = t[i, j] - s
        zero = denom == 0
        if np.any(zero & (num != 0)):
            raise SqrtmFailed("failed to find the matrix square root")
        safe = np.where(zero, 1.0, denom)
        r[i, j] = np.where(zero, 0.0, num / safe)
    return r


def sqrtm_legacy(a: np.ndarray) -> np.ndarray:
    """Principal matrix square root as SciPy 1.11 (pinned by the official code) ``scipy.linalg.sqrtm`` computed it.

    Real Schur form, converted to complex Schur form when it has 2x2 blocks, then the triangular recurrence;
    returns a NaN matrix where the recurrence fails (SciPy's ``failflag`` path). Real input with a real result
    stays float64; otherwise the result is complex128.
    """
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        a = a.astype(np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"sqrtm needs a square matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("array must not contain infs or NaNs")
    if np.isrealobj(a):
        t, z = scipy.linalg.schur(a)
        # SciPy 1.11 (the official requirements' pin) tests the real Schur form with ``allclose``, so tiny
        # 2x2 blocks (~1e-13, common with rank-deficient covariances) do not trigger the complex conversion.
        if not np.allclose(t, np.triu(t)):
            t, z = scipy.linalg.rsf2csf(t, z)
    else:
        t, z = scipy.linalg.schur(a, output="complex")
    try:
        r = _sqrtm_upper_triangular(t)
    except SqrtmFailed:
        return np.full(a.shape, np.nan, dtype=np.float64 if np.isrealobj(a) else np.complex128)
    x = z.dot(r).dot(np.conjugate(z).T)
    if not np.iscomplexobj(x):
        x = x.astype(np.float64)
    return x


def _sqrtm(a: np.ndarray, method: str) -> np.ndarray:
    if method == "legacy":
        return sqrtm_legacy(a)
    if method == "scipy":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(scipy.linalg.sqrtm(a))
    raise ValueError(f"unknown sqrtm method {method!r} (use 'legacy' or 'scipy')")


# --------------------------------------------------------------------------------------------------------------
# Frechet distance
# --------------------------------------------------------------------------------------------------------------


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (in the features' own dtype, as ``np.mean`` gives it) and sample covariance (``np.cov``, ddof 1,
    float64) over rows. This is exactly what the references feed into the Frechet distance."""
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(f"features must be (n_samples, n_dims), got shape {features.shape}")
    return np.mean(features, axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    *,
    complex_mode: Literal["real", "bailando"] = "real",
    eps: float = 1e-5,
    sqrtm: Literal["legacy", "scipy"] = "legacy",
    info: dict[str, Any] | None = None,
) -> float | complex:
    """``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrtm(S1 S2)`` the way the references compute it.

    - ``sqrtm(S1 @ S2)``; if any entry is not finite, retry with ``eps * I`` added to *both* covariances.
    - ``complex_mode="real"`` (MACE-Dance 2D): a complex square root always contributes its real part.
    - ``complex_mode="bailando"`` (Bailando, LODGE): the square root stays complex, so the distance can be a
      complex number, unless the imaginary part of its diagonal exceeds 1e-3 (``np.allclose(..., atol=1e-3)``
      fails), in which case only the real part is used.

    Pass a dict as ``info`` to learn whether the retry fired (``offset_applied``) and the largest imaginary
    magnitude of the square root (``max_imag``).
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    diff = mu1 - mu2
    covmean = _sqrtm(sigma1.dot(sigma2), sqrtm)
    offset_applied = False
    if not np.isfinite(covmean).all():
        offset_applied = True
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = _sqrtm((sigma1 + offset).dot(sigma2 + offset), sqrtm)
    max_imag = float(np.max(np.abs(covmean.imag))) if np.iscomplexobj(covmean) else 0.0
    if np.iscomplexobj(covmean):
        if complex_mode == "real":
            covmean = covmean.real
        elif complex_mode == "bailando":
            if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
                covmean = covmean.real
        else:
            raise ValueError(f"unknown complex_mode {complex_mode!r} (use 'real' or 'bailando')")
    if info is not None:
        info["offset_applied"] = offset_applied
        info["max_imag"] = max_imag
    value = diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)
    if np.iscomplexobj(value):
        return complex(value)
    return float(value)


#: Frechet distances of z-scored motion features above this are flagged as untrustworthy. The features are
#: standardised, so each dimension contributes on the order of 1-10; published FID_k/FID_g values (AIST++,
#: FineDance, MA-Data) are all below 200. A value past 1e4 means a few dimensions are blown up (see
#: :func:`gt_constant_columns`) or the square root failed numerically.
FID_SANITY_BOUND = 1e4

#: A covariance whose non-zero variances (its diagonal) span more than this ratio is ill-conditioned: the
#: Frechet distance then measures the few dimensions with huge variance, not the distribution.
VARIANCE_SPREAD_BOUND = 1e12


def frechet_warnings(name: str, value: float, *sigmas: np.ndarray) -> list[str]:
    """Why the Frechet distance ``value`` of metric ``name`` should not be trusted, if it should not: above
    :data:`FID_SANITY_BOUND`, or computed from a covariance whose variances span more than
    :data:`VARIANCE_SPREAD_BOUND` (a scale-aware condition number: rank deficiency from few samples is
    reported separately as a small-sample warning)."""
    out = []
    if np.isfinite(value) and value > FID_SANITY_BOUND:
        out.append(
            f"{name} = {value:.4g} exceeds the sanity bound {FID_SANITY_BOUND:g} for standardised features; "
            "it is dominated by a few blown-up dimensions and does not rank methods"
        )
    for which, sigma in zip(("generated", "GT"), sigmas, strict=False):
        var = np.abs(np.diagonal(np.asarray(sigma, dtype=np.float64)))
        var = var[np.isfinite(var) & (var > 0)]
        if var.size and var.max() / var.min() > VARIANCE_SPREAD_BOUND:
            out.append(
                f"{name}: the {which} covariance is ill-conditioned (its variances span {var.min():.3g} to "
                f"{var.max():.3g}); the distance is dominated by the largest ones"
            )
    return out


def fid_interval_warning(name: str, value: float, ci_high: float | None) -> str | None:
    """A warning when the bootstrap interval of a Frechet distance reaches past :data:`FID_SANITY_BOUND`
    while the value does not: on some resamples the distance blew up (typically a feature column constant
    in the resampled GT set), so the interval's upper end is not a measure of uncertainty."""
    if ci_high is None or not np.isfinite(ci_high) or ci_high <= FID_SANITY_BOUND:
        return None
    if np.isfinite(value) and value > FID_SANITY_BOUND:
        return None  # the value itself is flagged
    return (
        f"{name}: the 95% interval reaches {ci_high:.3g} (> {FID_SANITY_BOUND:g}): on some resamples the "
        "distance blows up, so the interval's upper end does not measure uncertainty"
    )


def gt_constant_columns(gt: np.ndarray, pred: np.ndarray) -> list[int]:
    """Feature columns that are constant over the GT set (std at float32 rounding level) but vary in the
    generated set. Normalising by the GT std (+ a tiny eps) scales such a column's differences by 1/eps:
    Bailando's normalisation turns a boolean feature that never fires in GT and fires in one generated
    frame into a 1e7-sized coordinate, and FID_g into ~1e15-1e19."""
    g = np.asarray(gt, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    if g.ndim != 2 or p.ndim != 2 or g.shape[1] != p.shape[1] or not len(g) or not len(p):
        return []
    mean = g.mean(axis=0)
    tol = 1e-7 * (1.0 + np.abs(mean))
    constant = g.std(axis=0) <= tol
    varies = np.max(np.abs(p - mean), axis=0) > tol
    return [int(i) for i in np.flatnonzero(constant & varies)]


# --------------------------------------------------------------------------------------------------------------
# Diversity
# --------------------------------------------------------------------------------------------------------------


def _pairwise_distances(feat: np.ndarray, block_bytes: int = 64 << 20) -> np.ndarray:
    """(n, n) Euclidean distances computed elementwise like ``sqrt(sum((a[:, None] - a[None]) ** 2, -1))``.

    Per entry this is the same sequence of operations as the dense reference code (difference, square,
    sum over the contiguous feature axis, sqrt), so the values agree to the bit; only the (n, n, c)
    temporary is split into row blocks.
    """
    n, c = feat.shape
    out = np.empty((n, n), dtype=feat.dtype)
    rows = max(1, block_bytes // max(1, n * c * feat.itemsize))
    for start in range(0, n, rows):
        block = feat[start : start + rows, None, :] - feat[None, :, :]
        out[start : start + rows] = np.sqrt(np.sum(block**2, axis=2))
    return out


def _diversity_loop(feat: np.ndarray) -> float:
    """Bailando/LODGE ``calculate_avg_distance``: a Python loop over pairs i < j adding norms into a running
    sum in the features' dtype (sequentially), then dividing by the pair count. The sequential float32 sum
    carries a rounding error of ~1e-6 relative that the references' printed numbers include, so it is kept."""
    n = len(feat)
    iu, ju = np.triu_indices(n, 1)
    d = np.sqrt(np.sum((feat[iu].astype(np.float64) - feat[ju]) ** 2, axis=1)).astype(feat.dtype)
    total = np.cumsum(d, dtype=feat.dtype)[-1]
    return float(total / feat.dtype.type((n * n - n) / 2))


def diversity(
    features: np.ndarray,
    dtype: np.dtype | type | str = np.float32,
    *,
    mode: Literal["triu", "full", "loop"] = "triu",
) -> float:
    """Average Euclidean distance over all unordered pairs of feature vectors in one set.

    Computed in ``dtype`` (float32 in every reference). ``mode`` picks how the reference sums the distances,
    which matters only in the last float32 digit:

    - ``"triu"`` (MACE-Dance): ``sum(triu(D, 1)) / (n (n - 1) / 2)``;
    - ``"full"`` (Bailando/LODGE ``calc_diversity``): ``sum(D) / n / (n - 1)``;
    - ``"loop"`` (Bailando/LODGE ``calculate_avg_distance``): a sequential running sum over pairs i < j.

    Fewer than two samples give NaN.
    """
    feat = np.asarray(features, dtype=dtype)
    if feat.ndim != 2:
        raise ValueError(f"features must be (n_samples, n_dims), got shape {feat.shape}")
    n = feat.shape[0]
    if n < 2:
        return float("nan")
    mode = getattr(mode, "value", mode)
    if mode == "loop":
        return _diversity_loop(feat)
    dist = _pairwise_distances(feat)
    if mode == "triu":
        total = np.sum(np.triu(dist, 1))
        return float(np.float64(total) / ((n * (n - 1)) / 2))
    if mode == "full":
        return float(np.float64(dist.sum()) / n / (n - 1))
    raise ValueError(f"unknown diversity mode {mode!r} (use 'triu', 'full' or 'loop')")


# --------------------------------------------------------------------------------------------------------------
# Bootstrap resamples: the same quantities in plain float64 (no reference emulation), fast
# --------------------------------------------------------------------------------------------------------------


def frechet_distance_fast(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between the row sets ``a`` and ``b`` in float64, ``tr sqrtm(S1 S2)`` from the
    eigenvalues of ``S1 S2`` (real and >= 0 for PSD covariances). For bootstrap resamples only: the point
    estimate always uses :func:`frechet_distance`, whose square root follows the references."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    s1, s2 = np.cov(a64, rowvar=False), np.cov(b64, rowvar=False)
    diff = a64.mean(0) - b64.mean(0)
    ev = np.linalg.eigvals(s1 @ s2).real
    trace_sqrt = float(np.sum(np.sqrt(np.clip(ev, 0, None))))
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt)


def diversity_fast(x: np.ndarray, idx: np.ndarray | None = None) -> float:
    """Mean pairwise distance in float64 (Gram form), for bootstrap resamples. With ``idx`` (the resampled
    item ids), pairs that are two copies of the same item are left out: their zero distance is an artefact
    of resampling with replacement and would bias the interval low."""
    x = x.astype(np.float64)
    n = x.shape[0]
    sq = np.sum(x * x, axis=1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * (x @ x.T), 0, None)
    a, b = np.triu_indices(n, 1)
    if idx is not None:
        keep = idx[a] != idx[b]
        a, b = a[keep], b[keep]
    return float(np.mean(np.sqrt(d2[a, b]))) if a.size else float("nan")


# --------------------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------------------


def _ceil_log2(x: int) -> int:
    return 1 if x <= 2 else int(x - 1).bit_length()


def _cascade_sum0(x: np.ndarray) -> np.ndarray:
    """Per-column float32 sum over axis 0 in the order of ATen's ``multi_row_sum`` (4-level cascade with
    chunks of ``2**max(4, ceil_log2(n) // 4)`` rows)."""
    n = x.shape[0]
    power = max(4, _ceil_log2(n) // 4)
    step, mask = 1 << power, (1 << power) - 1
    acc = np.zeros((4,) + x.shape[1:], np.float32)
    i = 0
    while i + step <= n:
        for _ in range(step):
            acc[0] += x[i]
            i += 1
        for level in range(1, 4):
            acc[level] += acc[level - 1]
            acc[level - 1] = 0
            if i & (mask << (level * power)):
                break
    while i < n:
        acc[0] += x[i]
        i += 1
    for level in range(1, 4):
        acc[0] += acc[level]
    return acc[0]


def _ilp_sum0(x: np.ndarray) -> np.ndarray:
    """ATen ``row_sum``: four interleaved cascades (rows k, k+4, ...), the tail added to the first, then the
    four partial sums folded left to right."""
    n = x.shape[0]
    s = n // 4
    if s > 0:
        part = _cascade_sum0(x[: 4 * s].reshape((s, 4) + x.shape[1:])).copy()
    else:
        part = np.zeros((4,) + x.shape[1:], np.float32)
    for i in range(4 * s, n):
        part[0] += x[i]
    for k in range(1, 4):
        part[0] += part[k]
    return part[0]


#: float32 lanes of the column groups in torch's CPU ``sum`` on every machine torch ships for. ATen registers
#: ``sum_stub`` with plain ``REGISTER_DISPATCH``, which leaves the AVX-512 slot empty, so AVX-512 CPUs run the
#: AVX2 kernel (8 lanes); NEON, SVE-256 and the generic DEFAULT build use 8-lane ``Vectorized<float>`` too.
#: Measured: torch 2.13 with ``ATEN_CPU_CAPABILITY`` default/avx2/avx512 gives identical bits, all equal to
#: this order. The reduction order is therefore a constant, never detected from the CPU.
TORCH_SUM_LANES = 8


def torch_sum_dim0(x: np.ndarray, width: int = TORCH_SUM_LANES) -> np.ndarray:
    """``torch.sum(x, 0)`` for a C-contiguous float32 (n, d) array, bit for bit (single-threaded CPU path).

    ATen's ``cascade_sum`` reduces columns in SIMD groups: groups of ``4 * width`` columns use one cascade,
    then groups of ``width`` and the remaining columns use the four-way interleaved ``row_sum``. ``width`` is
    the float32 vector width of the kernel: :data:`TORCH_SUM_LANES` (8) is what torch runs everywhere; other
    widths exist only to show what a 16-lane kernel would give. Only the summation order matters, so this is an
    exact emulation, not an approximation (checked bit for bit against torch 2.13 for 2..5000 rows and 1..8
    threads, with the DEFAULT, AVX2 and AVX-512 kernels).
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    width = int(width)
    n, d = x.shape
    out = np.zeros(d, np.float32)
    j = 0
    if d >= width:
        while j + 4 * width <= d:
            out[j : j + 4 * width] = _cascade_sum0(x[:, j : j + 4 * width])
            j += 4 * width
        while j + width <= d:
            out[j : j + width] = _ilp_sum0(x[:, j : j + width])
            j += width
    else:
        while j + 3 < d:
            out[j : j + 4] = _cascade_sum0(x[:, j : j + 4])
            j += 4
    if j < d:
        out[j:] = _ilp_sum0(x[:, j:])
    return out


def normalize_own_stats(
    features: np.ndarray, eps: float = 1e-4, ddof: int = 1, *, width: int = TORCH_SUM_LANES
) -> np.ndarray:
    """Z-score a set by its own mean and std exactly as MACE-Dance does on float32 torch tensors.

    ``(x - x.mean(0)) / (x.std(0) + eps)`` in float32 where:

    - the mean is torch's float32 cascade sum divided by n (:func:`torch_sum_dim0`, bit-exact);
    - the std (``ddof=1``: torch's default unbiased one) is a two-pass float64 computation rounded to float32,
      which is what torch's CPU kernel returns bit for bit.

    The last bit matters: with fewer samples than dimensions the covariance product is singular and whether
    ``sqrtm`` fails (and the FID takes its +eps*I branch) depends on it.
    """
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"features must be (n_samples, n_dims), got shape {x.shape}")
    mean, std = _torch_mean_std(x, ddof, width)
    return (x - mean) / (std + np.float32(eps))


def _torch_mean_std(x: np.ndarray, ddof: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    mean = torch_sum_dim0(x, width) / np.float32(n)
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.sum((x64 - x64.mean(axis=0)) ** 2, axis=0) / (n - ddof) if n > ddof else np.nan * x64[0]
    return mean, np.sqrt(var).astype(np.float32)


def normalize_by_gt(
    gt: np.ndarray,
    pred: np.ndarray,
    eps: float = 1e-10,
    ddof: int = 0,
    *,
    torch_like: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Z-score both sets with the GT set's mean and std.

    Defaults are Bailando/LODGE's (numpy population std, ``eps=1e-10``, computed in the input's dtype).
    MACE-Dance's 3D metric uses ``ddof=1, eps=1e-4`` on float32 tensors: pass ``torch_like=True`` for the
    float32/torch arithmetic of :func:`normalize_own_stats`.
    """
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.ndim != 2 or pred.ndim != 2 or gt.shape[1] != pred.shape[1]:
        raise ValueError(f"gt and pred must be (n, d) with the same d, got {gt.shape} and {pred.shape}")
    if torch_like:
        g = gt.astype(np.float32)
        mean, std = _torch_mean_std(g, ddof, TORCH_SUM_LANES)
        std = std + np.float32(eps)
        return (g - mean) / std, (pred.astype(np.float32) - mean) / std
    mean = gt.mean(axis=0)
    std = gt.std(axis=0, ddof=ddof)
    return (gt - mean) / (std + eps), (pred - mean) / (std + eps)


def normalize_by_gt_guarded(
    gt: np.ndarray, pred: np.ndarray, eps: float, ddof: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both sets z-scored by the GT mean and std (float64, then float32), guarded against constant columns.

    A column that is constant over the GT set (std ~ 0) would divide the generated set's variation by
    ``eps`` and blow FID up by many orders of magnitude (Bailando's failure mode, see
    :func:`gt_constant_columns`). Such columns take their scale from the pooled GT + generated std instead;
    columns constant in both sets become 0.
    """
    g, p = gt.astype(np.float64), pred.astype(np.float64)
    mean = g.mean(axis=0)
    std_g = g.std(axis=0, ddof=ddof) if g.shape[0] > ddof else np.zeros(g.shape[1])
    both = np.concatenate([g, p])
    std_pool = both.std(axis=0, ddof=ddof)
    constant = std_g <= 1e-7 * (1.0 + np.abs(mean))
    scale = np.where(constant, std_pool, std_g) + eps
    return ((g - mean) / scale).astype(np.float32), ((p - mean) / scale).astype(np.float32)


# --------------------------------------------------------------------------------------------------------------
# Beats
# --------------------------------------------------------------------------------------------------------------


def kinetic_velocity(positions: np.ndarray, *, keep_dtype: bool = False) -> np.ndarray:
    """Mean over joints of each joint's per-frame displacement norm: (T, J, D) -> (T - 1,) float64.

    ``keep_dtype=True`` computes in the positions' own dtype, as the 3D references do (float32 joints stay
    float32, which can move a minimum of the smoothed curve by a frame against a float64 computation).
    """
    p = np.asarray(positions) if keep_dtype else np.asarray(positions, dtype=np.float64)
    if p.ndim != 3:
        raise ValueError(f"positions must be (T, J, D), got shape {p.shape}")
    return np.mean(np.sqrt(np.sum((p[1:] - p[:-1]) ** 2, axis=2)), axis=1)


def motion_beats(velocity: np.ndarray, sigma: float, *, keep_dtype: bool = False) -> np.ndarray:
    """Motion beats: strict local minima (order 1, never the end points) of the Gaussian-smoothed speed.

    ``scipy.ndimage.gaussian_filter`` with its defaults (mode ``reflect``, truncate 4.0), then
    ``argrelextrema(..., np.less)``, in float64 (``keep_dtype=True``: in the speed's own dtype). Returns
    frame indices into ``velocity`` (int64).
    """
    v = np.asarray(velocity) if keep_dtype else np.asarray(velocity, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"velocity must be 1-D, got shape {v.shape}")
    if v.size == 0:
        return np.zeros(0, dtype=np.int64)
    smooth = gaussian_filter(v, sigma)
    return argrelextrema(smooth, np.less)[0].astype(np.int64)


def bas_warning(problems: dict[str, str], undefined: bool, unit: str, reference: str) -> str:
    """The warning for the samples (stem -> why) whose BAS measures nothing (no music beat in the compared
    range, music shorter than the motion): left out of the mean (``undefined``), or averaged in as the
    ``reference`` does."""
    listed = "; ".join(f"{k} ({v})" for k, v in sorted(problems.items())[:5])
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    if undefined:
        return f"BAS undefined for {len(problems)} {unit}(s), left out of the BAS means: {listed}{more}"
    return (
        f"BAS of {len(problems)} {unit}(s) measures nothing; as in {reference} they are averaged in with the "
        f"score computed (0 without beats): {listed}{more}"
    )


def beat_align_score(
    music_beats: np.ndarray,
    motion_beats: np.ndarray,
    sigma_kernel: float = 3.0,
) -> float:
    """Beat Align Score of one sample: mean over *music* beats of ``exp(-d^2 / (2 sigma^2))``, d the frame
    distance to the nearest motion beat. An empty music- or motion-beat list scores 0 (as the references).

    The per-beat terms are summed left to right, like the references' Python loop.
    """
    mb = np.asarray(music_beats).reshape(-1)
    db = np.asarray(motion_beats).reshape(-1)
    if mb.size == 0 or db.size == 0:
        return 0.0
    d2 = np.min((db[None, :] - mb[:, None]) ** 2, axis=1)
    terms = np.exp(-d2 / 2 / sigma_kernel**2)
    return float(np.add.accumulate(terms)[-1] / mb.size)
