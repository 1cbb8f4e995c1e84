import pytest

from benchmark.paper_tables import available_tables, load_table, render, rows_from_results
from ma_data.core.errors import FormatError


def test_packaged_tables():
    assert {"table1", "table2"} <= set(available_tables())
    t2 = load_table("table2")
    assert [c.key for c in t2.columns] == ["fid_k", "fid_g", "fsr", "div_k", "div_g", "bas", "fps"]
    rows = {r.method: r for r in t2.rows}
    assert rows["Motion Expert (Full)"].values == {
        "fid_k": 17.83, "fid_g": 25.09, "fsr": 0.210, "div_k": 10.30, "div_g": 8.09, "bas": 0.229, "fps": 770
    }  # fmt: skip
    assert rows["Ground Truth"].kind == "gt" and "fid_k" not in rows["Ground Truth"].values
    assert t2.protocol == "finedance3d"
    t1 = load_table("table1")
    assert next(c for c in t1.columns if c.key == "aesthetic_quality").scale == 100


def _results(protocol="finedance3d", **metrics):
    return {"protocols": [{"name": protocol}], "metrics": {k: {"value": v} for k, v in metrics.items()}}


def test_results_rows_and_bolding():
    t = load_table("table2")
    extra = rows_from_results(t, _results(fid_k=10.0, bas=0.3, bas_gt=0.25, fsr_gt=0.2), with_gt=True)
    assert extra[0].method == "Yours (finedance3d)" and extra[0].values == {"fid_k": 10.0, "bas": 0.3}
    assert extra[1].values == {"bas": 0.25, "fsr": 0.2}
    md = render(t, extra, "md")
    assert "| *Yours (finedance3d)* | **10.00** | – |" in md
    assert "| Motion Expert (Full) | 17.83 |" in md  # no longer the best FID_k
    assert "**0.300**" in md and "0.250" in md  # GT rows never win a column
    assert "not comparable" not in md
    other = rows_from_results(t, _results("bailando3d", fid_k=1.0), label="B")
    assert "not comparable" in render(t, other, "md")


def test_scale_and_latex():
    t1 = load_table("table1")
    row = rows_from_results(t1, _results("mace2d-official", aesthetic_quality=0.5234))[0]
    assert row.values["aesthetic_quality"] == pytest.approx(52.34)
    tex = render(t1, [row], "latex")
    assert "\\midrule\nYours (mace2d-official) & --" in tex and "52.34" in tex
    assert "MEGA(Dance) [NeurIPS'25] (+Wan-Animate)" in tex
    with pytest.raises(ValueError):
        render(t1, [], "rtf")


def test_bad_table_files(tmp_path):
    with pytest.raises(FormatError, match="no such paper table"):
        load_table("table99")
    bad = tmp_path / "t.yaml"
    bad.write_text("name: x\ncolumns: 3\n")
    with pytest.raises(FormatError, match="malformed"):
        load_table(bad)


def test_ground_truth_and_other_test_set_rows_are_never_bold():
    from benchmark.paper_tables import on_testset

    t1 = load_table("table1")
    rows = rows_from_results(t1, _results("mace2d-official", div_k=20.0, div_k_gt=20.0), with_gt=True)
    md = render(t1, rows, "md")
    assert "**20.00**" in md and md.count("**20.00**") == 1  # yours wins; your GT row equals it, not bold
    assert "| *Ground Truth (mace2d-official)* | – | – | – | – | – | – | – | – | 20.00 |" in md
    elsewhere = on_testset(rows_from_results(t1, _results("mace2d-official", div_k=20.0)), "sample-v1")
    md = render(t1, elsewhere, "md")
    assert "**20.00**" not in md and "**9.74**" in md  # the paper's best stays bold
    assert "Rows scored on sample-v1 are not comparable with the paper's numbers" in md
    html = render(t1, elsewhere, "html")
    assert "not comparable</span>" in html and "<strong>9.74</strong>" in html


def test_table_command_checks_the_test_set(tmp_path):
    from click.testing import CliRunner

    from benchmark.cli import main
    from tests.benchmark.leaderboard.lb_helpers import evaluate_motion, sample_dir

    results = evaluate_motion(sample_dir(), tmp_path / "r.json")  # the GT itself, on sample-v1
    args = ["table", "--table", "table1", "--results", str(results), "--label", "GT copy"]
    res = CliRunner().invoke(main, [*args, "--testset", "sample-v1"])
    assert res.exit_code == 0, res.output
    assert "test set sample v1;" in res.output and "Rows scored on sample-v1 are not comparable" in res.output
    assert "| *GT copy* | – | – | – | – | – | – | 0.00 |" in res.output  # FID 0, not bold
    res = CliRunner().invoke(main, [*args, "--testset", "ma-data-test-v1"])
    assert res.exit_code == 2 and "not scored on test set ma-data-test v1" in res.output
