"""Archive hygiene: hostile zips are rejected with their own reason, never extracted, never crash the validator."""

from __future__ import annotations

import random
import stat
import zipfile

import pytest

from benchmark.leaderboard.archive import Limits, check_name, read_archive
from benchmark.leaderboard.safejson import JsonError, loads_strict
from benchmark.leaderboard.testset import load_testset
from benchmark.leaderboard.validate import validate_bundle
from tests.benchmark.leaderboard.lb_helpers import SAMPLE, bundle, codes, members_of, raw_zip


@pytest.fixture(scope="module")
def testset():
    return load_testset(SAMPLE)


@pytest.fixture()
def honest(scored, tmp_path):
    return members_of(bundle(tmp_path / "honest.zip", [scored["on-beat/motion"]]))


def _info(name: str, mode: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.create_system = 3
        info.external_attr = mode << 16
    return info


def _with(honest, *extra):
    return list(honest) + list(extra)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("../evil.json", "path traversal"),
        ("results/../../evil.json", "path traversal"),
        ("/etc/passwd", "absolute path"),
        ("..\\evil.json", "backslash"),
        ("C:/evil.json", "drive-letter"),
        ("results//x.json", "empty or '.'"),
        ("./submission.json", "empty or '.'"),
        ("evil\x01.json", "control character"),
    ],
)
def test_unsafe_names(honest, testset, tmp_path, name, reason):
    path = raw_zip(tmp_path / "b.zip", _with(honest, (_info(name), b"{}")))
    report = validate_bundle(path, testset)
    assert codes(report) == {"archive.unsafe_path"}, report.lines()
    assert reason in report.problems[0].message


def test_nothing_is_written_outside_memory(honest, testset, tmp_path):
    (tmp_path / "sub").mkdir()
    path = raw_zip(tmp_path / "sub" / "b.zip", _with(honest, (_info("../../escaped.json"), b"{}")))
    validate_bundle(path, testset)
    assert not (tmp_path / "escaped.json").exists() and sorted(
        p.name for p in (tmp_path / "sub").iterdir()
    ) == ["b.zip"]


def test_symlink_and_special_files(honest, testset, tmp_path):
    link = raw_zip(
        tmp_path / "l.zip", _with(honest, (_info("keypoints/x.json", stat.S_IFLNK | 0o777), b"/etc/passwd"))
    )
    fifo = raw_zip(tmp_path / "f.zip", _with(honest, (_info("keypoints/y.json", stat.S_IFIFO | 0o644), b"")))
    assert codes(validate_bundle(link, testset)) == {"archive.link"}
    assert "symlink" in validate_bundle(link, testset).problems[0].message
    assert codes(validate_bundle(fifo, testset)) == {"archive.not_a_file"}


def test_hard_link_two_names_for_one_body(honest, testset, tmp_path):
    """Two central-directory entries pointing at one local header (how a zip says 'hard link')."""
    path = raw_zip(
        tmp_path / "h.zip",
        _with(honest, (_info("keypoints/a.json"), b"{}"), (_info("keypoints/b.json"), b"{}")),
    )
    data = bytearray(path.read_bytes())
    offsets = {}
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = int.from_bytes(data[pos + 28 : pos + 30], "little")
        offsets[bytes(data[pos + 46 : pos + 46 + name_len])] = pos
        pos = data.find(b"PK\x01\x02", pos + 4)
    a, b = offsets[b"keypoints/a.json"], offsets[b"keypoints/b.json"]
    data[b + 42 : b + 46] = data[a + 42 : a + 46]  # b's local-header offset := a's
    path.write_bytes(bytes(data))
    report = validate_bundle(path, testset)
    assert "archive.link" in codes(report), report.lines()
    assert any("hard link" in p.message for p in report.problems)


def test_zip_bomb_by_ratio(honest, testset, tmp_path):
    path = raw_zip(
        tmp_path / "bomb.zip", _with(honest, (_info("keypoints/sample_000.json"), b"0" * (20 * 1024 * 1024)))
    )
    assert path.stat().st_size < 200_000
    report = validate_bundle(path, testset)
    assert codes(report) == {"archive.compression_ratio"}, report.lines()


def test_oversize_member_total_and_count(honest, testset, tmp_path):
    path = raw_zip(tmp_path / "big.zip", _with(honest, (_info("keypoints/sample_000.json"), b"{}" * 4000)))
    small = Limits(max_member_bytes=4000)
    assert "archive.file_too_large" in codes(validate_bundle(path, testset, limits=small))
    assert "archive.too_large" in codes(validate_bundle(path, testset, limits=Limits(max_total_bytes=5000)))
    assert codes(validate_bundle(path, testset, limits=Limits(max_members=3))) == {"archive.too_many_files"}
    assert codes(validate_bundle(path, testset, limits=Limits(max_archive_bytes=100))) == {
        "archive.too_large"
    }


def test_declared_size_that_lies(honest, testset, tmp_path):
    """The central directory claims 10 bytes for a 5000-byte member: reading stops at the claim and fails."""
    path = raw_zip(tmp_path / "lie.zip", _with(honest, (_info("keypoints/zzz.json"), b"1" * 5000)))
    data = bytearray(path.read_bytes())
    last = data.rfind(b"PK\x01\x02")
    data[last + 24 : last + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    report = validate_bundle(path, testset)
    assert codes(report) == {"archive.corrupt"}, report.lines()
    assert "CRC" in report.problems[0].message and "zzz.json" in report.problems[0].where


def test_duplicate_and_colliding_names(honest, testset, tmp_path):
    with pytest.warns(UserWarning):
        dup = raw_zip(tmp_path / "d.zip", _with(honest, (_info("results/1.json"), b"{}")))
    case = raw_zip(tmp_path / "c.zip", _with(honest, (_info("Submission.JSON"), b"{}")))
    r1, r2 = validate_bundle(dup, testset), validate_bundle(case, testset)
    assert codes(r1) == {"archive.duplicate_name"}, r1.lines()
    assert codes(r2) == {"archive.duplicate_name"} and "collides" in r2.problems[0].message


def test_non_utf8_names(honest, testset, tmp_path, monkeypatch):
    # A name whose bytes are not valid UTF-8 but flagged UTF-8, and a non-ASCII name without the flag.
    monkeypatch.setattr(
        zipfile.ZipInfo,
        "_encodeFilenameFlags",
        lambda self: (self.filename.encode("latin-1"), self.flag_bits | 0x800),
    )
    flagged = raw_zip(tmp_path / "f.zip", _with(honest, (_info("keypoints/\xe9.json"), b"{}")))
    monkeypatch.setattr(
        zipfile.ZipInfo,
        "_encodeFilenameFlags",
        lambda self: (self.filename.encode("latin-1"), self.flag_bits & ~0x800),
    )
    unflagged = raw_zip(tmp_path / "u.zip", _with(honest, (_info("keypoints/\xe9.json"), b"{}")))
    monkeypatch.undo()
    assert codes(validate_bundle(flagged, testset)) == {"archive.non_utf8_name"}
    assert codes(validate_bundle(unflagged, testset)) == {"archive.non_utf8_name"}


def test_unexpected_and_missing_members(honest, testset, tmp_path):
    extra = raw_zip(tmp_path / "e.zip", _with(honest, (_info("run.sh"), b"rm -rf /")))
    report = validate_bundle(extra, testset)
    assert codes(report) == {"archive.unexpected_member", "integrity.missing_entry"}
    assert all(p.where.endswith("run.sh") for p in report.problems)
    gone = raw_zip(tmp_path / "g.zip", [(n, d) for n, d in honest if n != "submission.json"])
    report = validate_bundle(gone, testset)
    assert "archive.missing_member" in codes(report) and "submission.json" in report.problems[-1].message


@pytest.mark.parametrize(
    "content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40, b"PK\x05\x06" + b"\0" * 18]
)
def test_garbage_is_a_clean_rejection(testset, tmp_path, content):
    path = tmp_path / "g.zip"
    path.write_bytes(content)
    report = validate_bundle(path, testset)
    assert not report.accepted and codes(report) <= {"archive.unreadable", "archive.missing_member"}


def test_missing_file_and_directory(testset, tmp_path):
    assert codes(validate_bundle(tmp_path / "nope.zip", testset)) == {"archive.unreadable"}
    assert codes(validate_bundle(tmp_path, testset)) == {"archive.unreadable"}


def test_random_corruption_never_crashes(scored, testset, tmp_path):
    """Flip bytes of an honest bundle: every outcome is a report, never an exception; accepted only if the
    members are intact."""
    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"]])
    good = path.read_bytes()
    rng = random.Random(0)
    for i in range(40):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        p = tmp_path / f"f{i}.zip"
        p.write_bytes(bytes(data))
        report = validate_bundle(p, testset, rescore=False)
        assert "validator.error" not in codes(report), report.lines()
        if report.accepted:  # only bytes no rule covers changed (e.g. a zip timestamp): the content is intact
            assert read_archive(p).members == read_archive(path).members


def test_check_name_accepts_the_layout():
    for name in ("submission.json", "results/1.json", "keypoints/sample_000.npz", "integrity.json"):
        assert check_name(name) is None


def test_strict_json_rules():
    assert loads_strict(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    cases = {
        b'{"a": NaN}': "json.non_finite",
        b'{"a": -Infinity}': "json.non_finite",
        b'{"a": 1e999}': "json.non_finite",
        b'{"a": 1, "a": 2}': "json.duplicate_key",
        b"[" * 100 + b"]" * 100: "json.too_deep",
        b"[" * 200000 + b"]" * 200000: "json.too_deep",
        b'{"a": "\xff"}': "json.invalid",
        b'{"a": 1': "json.invalid",
        b"1" * 5000: "json.non_finite",  # an integer no float holds
    }
    for data, code in cases.items():
        with pytest.raises(JsonError) as exc:
            loads_strict(data)
        assert exc.value.code == code, data[:20]


def test_read_archive_returns_members_in_memory(scored, tmp_path):
    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"]])
    archive = read_archive(path)
    assert not archive.problems
    assert sorted(archive.members) == ["integrity.json", "results/1.json", "submission.json"]
