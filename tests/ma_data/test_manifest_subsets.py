import pyarrow as pa

from ma_data.manifest import COLUMNS, rows_of_other_subsets, write_manifest


def _row(clip_id: str, subset: str) -> dict:
    """A minimal valid 'failed' row: required columns filled by type, optional ones null."""
    fill = {pa.string(): "x", pa.float64(): 0.0, pa.int64(): 0}
    row = {name: (fill.get(typ, None) if not nullable else None) for name, typ, nullable, _ in COLUMNS}
    row.update(clip_id=clip_id, subset=subset, status="failed")
    return row


def test_a_subset_rewrite_keeps_the_other_subsets(tmp_path):
    path = write_manifest(tmp_path / "manifest.parquet", [_row("r1", "render"), _row("i1", "internet")])
    kept = rows_of_other_subsets(path, {"render"})
    assert [r["clip_id"] for r in kept] == ["i1"] and kept[0]["subset"] == "internet"
    write_manifest(path, [_row("r2", "render")] + kept)  # what a render build does
    assert {r["clip_id"] for r in rows_of_other_subsets(path, set())} == {"r2", "i1"}
    assert rows_of_other_subsets(tmp_path / "absent.parquet", {"render"}) == []
