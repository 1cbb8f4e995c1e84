"""Strings from results files, table files and flags reach LaTeX/Markdown/HTML only escaped; `mace-bench table`
bolds only rows it calls comparable, and a malformed results file is one line naming the file and key."""

import json

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.markup import html_escape, latex_escape, latex_markup, markdown_escape, number_text
from benchmark.paper_tables import load_table, render, rows_from_results

HOSTILE = r"\input{/etc/passwd} } % # & _ ^ ~ $ \ <script>alert(1)</script> | a" + "\nnext | row"


def test_latex_escape_leaves_no_command_or_group():
    out = latex_escape(HOSTILE)
    # Every backslash in the output starts one of our escapes; no raw braces, $, %, #, &, ^, ~ survive.
    stripped = out
    for esc in (
        r"\textbackslash{}",
        r"\textasciicircum{}",
        r"\textasciitilde{}",
        r"\textless{}",
        r"\textgreater{}",
        r"\textbar{}",
        r"\{",
        r"\}",
        r"\$",
        r"\&",
        r"\%",
        r"\#",
        r"\_",
    ):
        stripped = stripped.replace(esc, "")
    assert not set(stripped) & set("\\{}$&%#_^~<>|\n")
    assert r"\textbackslash{}input\{/etc/passwd\}" in out
    assert latex_escape("a_b & c") == r"a\_b \& c"


def test_latex_markup_allows_only_sub_and_superscripts():
    assert latex_markup("FID$_k$") == "FID$_k$"
    assert latex_markup("Div$_{kg}$") == "Div$_{kg}$"
    assert latex_markup(r"FID$\input{x}$") == r"FID\$\textbackslash{}input\{x\}\$"
    assert latex_markup("a}b") == r"a\}b"


def test_markdown_and_html_escape():
    md = markdown_escape(HOSTILE)
    assert "\n" not in md and "<script>" not in md and "&lt;script&gt;" in md
    assert md.count("|") == md.count("\\|")  # every pipe escaped: no new table cell
    assert markdown_escape("a\\|b") == "a\\\\\\|b"  # an escaped pipe in the input cannot un-escape ours
    h = html_escape("<script>\"x\" & 'y'</script>")
    assert "<" not in h and ">" not in h and '"' not in h and "'" not in h
    assert number_text(-1e-13, ".4f") == "0.0000" and number_text(-0.5, ".4f") == "-0.5000"


def _results(protocol="finedance3d", **metrics):
    return {"protocols": [{"name": protocol}], "metrics": {k: {"value": v} for k, v in metrics.items()}}


def test_rows_not_comparable_are_never_bold():
    """A 2D result in the 3D table is labelled not comparable; it must not win (or steal) a bold column."""
    t = load_table("table2")
    ours = rows_from_results(t, _results("finedance3d", fid_k=30.0), label="Ours")
    other = rows_from_results(t, _results("mace2d-official", fid_k=1.0, bas=0.9), label="TwoD")
    assert ours[0].comparable and not other[0].comparable
    md = render(t, ours + other, "md")
    assert "| *TwoD* | 1.00 |" in md and "0.900" in md and "**0.900**" not in md
    assert "| Motion Expert (Full) | **17.83** |" in md  # the paper's best FID_k keeps its bold
    assert "not comparable" in md
    tex = render(t, ours + other, "latex")
    assert "TwoD & 1.00" in tex and r"\textbf{1.00}" not in tex and r"\textbf{17.83}" in tex


def test_table1_accepts_its_appearance_protocol():
    t1 = load_table("table1")
    doc = {
        "protocols": [{"name": "mace2d-official"}, {"name": "vbench-appearance"}],
        "metrics": {
            "fid_k": {"value": 1.0, "protocol": "mace2d-official"},
            "imaging_quality": {"value": 0.99, "protocol": "vbench-appearance"},
        },
    }
    row = rows_from_results(t1, doc)[0]
    assert row.comparable
    assert "**99.00**" in render(t1, [row], "md")


def _write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def test_table_cli_escapes_hostile_protocol_names_and_labels(tmp_path):
    hostile = r"\input{/etc/passwd}"
    res = _write(tmp_path / "r.json", _results(hostile, fid_k=12.0))
    run = CliRunner().invoke(
        main, ["table", "--results", str(res), "--format", "latex", "--label", hostile + " & \\write18{x}"]
    )
    assert run.exit_code == 0, run.output
    assert r"\input" not in run.output and r"\write18" not in run.output
    assert r"\textbackslash{}input\{/etc/passwd\}" in run.output
    # the results' protocol name reaches the note; as text only
    run = CliRunner().invoke(main, ["table", "--results", str(res), "--format", "latex"])
    assert run.exit_code == 0 and r"\input{" not in run.output
    md = CliRunner().invoke(
        main, ["table", "--results", str(res), "--label", "x | y\n<script>alert(1)</script>"]
    )
    assert md.exit_code == 0
    row = next(line for line in md.output.splitlines() if line.startswith("| *x"))
    assert row.startswith(r"| *x \| y &lt;script&gt;") and "<script>" not in md.output


def test_table_yaml_strings_are_escaped(tmp_path):
    table = tmp_path / "evil.yaml"
    table.write_text(
        "name: 'x}\\input{a}'\ntitle: '\\input{t}'\nsource: '$\\write18$'\nprotocol: p\n"
        "columns:\n  - {key: fid_k, label: 'F|K', latex: '\\input{c}', higher_is_better: false}\n"
        "rows:\n  - {method: '\\input{m}', values: {fid_k: 1.0}}\nnotes: ['<b>n</b>']\n"
    )
    tex = render(load_table(table), [], "latex")
    assert r"\input" not in tex and r"\write18" not in tex
    assert r"\label{tab:x--input-a-}" in tex
    md = render(load_table(table), [], "md")
    assert "F\\|K" in md and "<b>" not in md


def test_string_metric_is_one_line_naming_file_and_key(tmp_path):
    res = _write(
        tmp_path / "r.json", {"protocols": [{"name": "finedance3d"}], "metrics": {"fid_k": {"value": "12"}}}
    )
    run = CliRunner().invoke(main, ["table", "--results", str(res)])
    assert run.exit_code == 2
    assert run.output.count("\n") == 1 and str(res) in run.output and "'fid_k'" in run.output
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    run = CliRunner().invoke(main, ["table", "--results", str(deep)])
    assert run.exit_code == 2 and run.output.count("\n") == 1 and str(deep) in run.output


@pytest.mark.parametrize("fmt", ["md", "latex"])
def test_flagged_values_carry_a_dagger(fmt):
    t = load_table("table2")
    doc = _results(fid_g=4e19)
    doc["metrics"]["fid_g"]["warnings"] = ["fid_g = 4e+19 exceeds the sanity bound"]
    out = render(t, rows_from_results(t, doc), fmt)
    assert ("4e+19†" if fmt == "md" else r"4e+19$^\dagger$") in out and "untrustworthy" in out


def test_malformed_table_yaml_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: [a: b: c\n")
    run = CliRunner().invoke(main, ["table", "--table", str(bad)])
    assert run.exit_code == 2 and run.output.count("\n") == 1
    assert str(bad) in run.output and "line 2, column 13" in run.output
