"""The shared metric tester (the torchmetrics ``MetricTester`` habit): every metric and appearance dimension
goes through the same checks, through the ``metric_tester`` fixture.

- **reference**: the value equals an independent implementation (a plain loop, a textbook formula, a
  reference forward pass) within the stated tolerance (``rtol = atol = 0`` means bit for bit);
- **batch / chunk invariance**: a feature of a sample does not depend on the batch it is computed in; an
  appearance dimension gives the same per-video values whatever the frame-chunk size of the decoder and the
  batch size of its model;
- **order invariance** of set-level metrics (FID, diversity, BAS means): permuting the samples changes the
  value only by float rounding;
- **dtype**: float32 input gives the float64 input's values (bit for bit where the metric casts, within a
  tolerance where it computes in the input's dtype as the references do);
- **device**: a torch-backed dimension gives the CPU values on CUDA when a GPU is present (skipped without).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def _assert_close(actual: Any, expected: Any, rtol: float, atol: float, what: str) -> None:
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if rtol == 0 and atol == 0:
        assert a.shape == e.shape and np.array_equal(a, e, equal_nan=True), f"{what}: {a!r} != {e!r}"
    else:
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


class MetricTester:
    """One object, one set of checks for every metric of the benchmark."""

    close = staticmethod(_assert_close)

    # ---------------------------------------------------------------- per-sample functions (features)

    def batch_function(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        batch: np.ndarray,
        *,
        reference: Callable[[np.ndarray], np.ndarray] | None = None,
        rtol: float = 0.0,
        atol: float = 0.0,
        dtype_rtol: float = 0.0,
        dtype_atol: float = 0.0,
    ) -> np.ndarray:
        """``fn`` maps a batch (B, ...) to one row per sample. Checks the reference per sample, that every
        row is what the sample alone gives and what each half of the batch gives (bit for bit), and that
        float32 input gives the values of the same numbers as float64 (within ``dtype_rtol``)."""
        batch = np.asarray(batch)
        out = np.asarray(fn(batch))
        assert out.shape[0] == batch.shape[0], "one row per sample"
        for i in range(batch.shape[0]):
            self.close(fn(batch[i : i + 1])[0], out[i], 0.0, 0.0, f"sample {i} alone vs in the batch")
            if reference is not None:
                self.close(out[i], reference(batch[i]), rtol, atol, f"sample {i} vs the reference")
        half = max(1, batch.shape[0] // 2)
        parts = np.concatenate([np.asarray(fn(batch[:half])), np.asarray(fn(batch[half:]))])
        self.close(parts, out, 0.0, 0.0, "the batch in two parts")
        as32 = batch.astype(np.float32)
        self.close(fn(as32), fn(as32.astype(np.float64)), dtype_rtol, dtype_atol, "float32 vs float64 input")
        return out

    def sample_function(
        self,
        fn: Callable[[np.ndarray], Any],
        samples: Sequence[np.ndarray],
        *,
        reference: Callable[[np.ndarray], Any],
        rtol: float = 0.0,
        atol: float = 0.0,
        dtype_rtol: float | None = None,
    ) -> list[Any]:
        """``fn`` scores one sample (a joint sequence, a beat list). Checks the reference on every sample
        and, with ``dtype_rtol``, that float32 input stays within it of the float64 value."""
        out = []
        for i, s in enumerate(samples):
            value = fn(s)
            self.close(value, reference(s), rtol, atol, f"sample {i} vs the reference")
            if dtype_rtol is not None:
                self.close(
                    fn(np.asarray(s, np.float32)), value, dtype_rtol, 1e-12, f"sample {i} float32 input"
                )
            out.append(value)
        return out

    # ---------------------------------------------------------------- set-level metrics

    def set_function(
        self,
        fn: Callable[..., float],
        *sets: np.ndarray,
        reference: Callable[..., float] | None = None,
        rtol: float = 0.0,
        atol: float = 0.0,
        order_rtol: float = 1e-6,
        order_atol: float = 1e-9,
        seed: int = 0,
    ) -> float:
        """``fn(*sets)`` is a set-level value (rows are samples). Checks the reference and that permuting
        the rows of every set changes the value only by rounding."""
        value = fn(*sets)
        if reference is not None:
            self.close(value, reference(*sets), rtol, atol, "set value vs the reference")
        rng = np.random.default_rng(seed)
        shuffled = [np.asarray(s)[rng.permutation(len(s))] for s in sets]
        self.close(fn(*shuffled), value, order_rtol, order_atol, "samples in another order")
        return value

    # ---------------------------------------------------------------- appearance dimensions

    def dimension(
        self,
        make: Callable[..., Any],
        videos: Mapping[str, Path],
        gt: Mapping[str, Path] | None = None,
        *,
        reference: Mapping[str, Mapping[str, float]] | None = None,
        set_reference: Mapping[str, float] | None = None,
        rtol: float = 0.0,
        atol: float = 0.0,
        chunks: Sequence[int] = (1, 3, 16),
        batch_sizes: Sequence[int] = (1, 16),
        invariance_rtol: float = 0.0,
        invariance_atol: float = 0.0,
        devices: Sequence[str] = ("cpu",),
        device_rtol: float = 1e-3,
    ) -> dict[str, dict[str, float]]:
        """Score ``videos`` (stem -> path; ``gt`` the paired GT videos) with a dimension built by
        ``make(batch_size=..., device=...)``, decoded in chunks of every size in ``chunks`` with every model
        batch size in ``batch_sizes``: the per-video values (and set-level values such as FVD) must agree
        within ``invariance_rtol`` and match ``reference`` (stem -> key -> value) / ``set_reference`` within
        ``rtol``. On each CUDA device of ``devices`` (skipped without a GPU) the values must match the CPU
        ones within ``device_rtol``. Returns the per-video values of the first run."""
        from benchmark.appearance.api import score_video

        def run(chunk: int, batch: int, device: str) -> tuple[dict, dict]:
            dim = make(batch_size=batch, device=device)
            per = {}
            for stem in sorted(videos):
                values = score_video(Path(videos[stem]), Path(gt[stem]) if gt else None, [dim], chunk)
                per[stem] = {k: v.value for k, v in values.items()}
            return per, dim.set_level()

        first, first_set = run(chunks[0], batch_sizes[0], "cpu")
        for chunk in chunks:
            for batch in batch_sizes:
                per, set_values = run(chunk, batch, "cpu")
                what = f"chunk {chunk}, batch {batch} vs chunk {chunks[0]}, batch {batch_sizes[0]}"
                self._same(per, first, invariance_rtol, invariance_atol, what)
                self._same({"set": set_values}, {"set": first_set}, invariance_rtol, invariance_atol, what)
        if reference is not None:
            self._same(first, reference, rtol, atol, "per-video value vs the reference")
        if set_reference is not None:
            self._same({"set": first_set}, {"set": set_reference}, rtol, atol, "set value vs the reference")
        for device in devices:
            if device == "cpu":
                continue
            torch = pytest.importorskip("torch")
            if device.startswith("cuda") and not torch.cuda.is_available():
                continue
            per, set_values = run(chunks[-1], batch_sizes[-1], device)
            self._same(per, first, device_rtol, 1e-6, f"{device} vs cpu")
            self._same({"set": set_values}, {"set": first_set}, device_rtol, 1e-6, f"{device} vs cpu")
        return first

    def _same(self, got: Mapping, want: Mapping, rtol: float, atol: float, what: str) -> None:
        assert set(got) == set(want), f"{what}: stems {sorted(got)} != {sorted(want)}"
        for stem in want:
            assert set(got[stem]) == set(want[stem]), f"{what}: {stem} keys {sorted(got[stem])}"
            for key in want[stem]:
                self.close(got[stem][key], want[stem][key], rtol, atol, f"{what}: {stem} {key}")


@pytest.fixture
def metric_tester() -> MetricTester:
    return MetricTester()


# ------------------------------------------------------------------------------------------ headless browser
#: Debian's chromium + chromium-driver (``make apt``): the static pages (leaderboard, reports) are opened in a
#: real headless browser by the tests marked ``browser``-dependent.
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1800",
)


def browser_available() -> bool:
    import shutil

    return bool(
        (shutil.which("chromium") or Path(CHROMIUM).is_file())
        and (shutil.which("chromedriver") or Path(CHROMEDRIVER).is_file())
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium (selenium) logging the console and the network, for one test module."""
    import shutil

    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not browser_available():
        pytest.skip("Debian chromium + chromium-driver not installed (run `make apt` as root)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def _page_requests(driver, page_uri: str) -> list[str]:
    import json

    sent = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    sent = [m["params"] for m in sent if m["method"] == "Network.requestWillBeSent"]
    return [p["request"]["url"] for p in sent if p.get("documentURL") == page_uri]


@pytest.fixture
def page_requests():
    """``page_requests(driver, uri)``: the URLs the page at ``uri`` requested (the page itself included),
    from the browser's performance log."""
    return _page_requests
