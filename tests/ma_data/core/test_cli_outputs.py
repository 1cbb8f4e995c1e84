"""`check_outputs`: output paths are checked before any work, and checking creates nothing."""

import os

import pytest

from ma_data.core.cli import check_outputs
from ma_data.core.errors import MaceError


def test_output_paths_are_checked_without_creating_anything(tmp_path):
    check_outputs(
        files={"--out": tmp_path / "r.json", "--markdown": None}, folders={"--plots": tmp_path / "p"}
    )
    assert sorted(tmp_path.iterdir()) == []  # nothing created
    with pytest.raises(MaceError, match=r"^--out .*x\.json: folder .*dir does not exist"):
        check_outputs(files={"--out": tmp_path / "nonexistent" / "dir" / "x.json"})
    with pytest.raises(MaceError, match="is a folder"):
        check_outputs(files={"--out": tmp_path})
    (tmp_path / "file").write_text("x")
    with pytest.raises(MaceError, match="not a folder"):
        check_outputs(files={"--out": tmp_path / "file" / "r.json"})
    with pytest.raises(MaceError, match="exists and is not a folder"):
        check_outputs(folders={"--plots": tmp_path / "file"})
    with pytest.raises(MaceError, match="does not exist"):
        check_outputs(folders={"--plots": tmp_path / "a" / "b"})
    assert not (tmp_path / "nonexistent").exists() and not (tmp_path / "a").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(MaceError, match="not writable"):
            check_outputs(files={"--out": ro / "r.json"})
    finally:
        ro.chmod(0o755)
