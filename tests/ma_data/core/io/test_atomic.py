"""Atomic writes: files get the permissions a plain open() would give them (the umask, not a fixed 0600)."""

from __future__ import annotations

import contextlib
import os
import stat

import numpy as np
import pytest

from ma_data.core.io.atomic import atomic_path, atomic_write
from ma_data.core.io.video import write_video


@contextlib.contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_new_files_follow_the_umask(tmp_path, mask):
    with _umask(mask):
        with atomic_write(tmp_path / "a.json", "w", encoding="utf-8") as fh:
            fh.write("{}")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"x")
        with open(tmp_path / "plain.txt", "w") as fh:  # what the atomic writer must match
            fh.write("x")
    expected = 0o666 & ~mask
    assert _mode(tmp_path / "plain.txt") == expected
    assert _mode(tmp_path / "a.json") == expected
    assert _mode(tmp_path / "b.bin") == expected


def test_group_can_read_an_encoded_video(tmp_path):
    with _umask(0o022):
        path = write_video(tmp_path / "v.mp4", [np.zeros((16, 16, 3), np.uint8)] * 2, 10)
    assert _mode(path) == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    with _umask(0o022), atomic_write(target, "w") as fh:
        fh.write("new")
    assert target.read_text() == "new" and _mode(target) == 0o600


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_write(tmp_path / "x.txt", "w") as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
