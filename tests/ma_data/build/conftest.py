"""A tiny FineDance-format sample and build config shared by the build tests.

Three clips of 2-2.5 s at 96x160: the build tests exercise the machinery, not the paper's 5-10 s rule
(tests/ma_data/test_slicing.py covers that, and the demo config uses it).
"""

from __future__ import annotations

import pytest
import yaml

from ma_data.sample import SampleSequence, write_sample

TINY_SEQUENCES = (
    SampleSequence("001", "Popping", "Street", 120.0, 5.6, 0.9, 110.0),  # train
    SampleSequence("012", "Dai", "Folk", 96.0, 3.0, 0.1, 146.8),  # FineDance@Genre test id
)

TINY_CONFIG = {
    "render": {"preset": "demo", "width": 96, "height": 160},
    "slicing": {
        "min_len_s": 2.0,
        "max_len_s": 2.5,
        "min_stride_s": 2.6,
        "max_stride_s": 2.8,
        "max_offset_s": 0.2,
    },
}


@pytest.fixture(scope="session")
def tiny_finedance(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("fd") / "finedance", sequences=TINY_SEQUENCES)


@pytest.fixture(scope="session")
def tiny_config_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    p.write_text(yaml.safe_dump(TINY_CONFIG))
    return p
