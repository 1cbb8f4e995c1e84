"""One schema for the crawl's settings: the same names, defaults and checks for flags and build-config YAML."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from ma_data.core.errors import ConfigError, MaceError
from ma_data.crawl.cli import crawl
from ma_data.crawl.settings import CrawlSettings


def test_every_setting_is_a_flag_of_the_same_name():
    flags = {p.name: p.opts for p in crawl.params if p.name not in ("out", "help")}
    fields = {f.name for f in dataclasses.fields(CrawlSettings)}
    assert set(flags) == fields
    for name, opts in flags.items():
        assert "--" + name.replace("_", "-") in opts


def test_flags_and_yaml_give_the_same_crawl(tmp_path, monkeypatch):
    import ma_data.crawl.pipeline as pipeline

    seen = []
    monkeypatch.setattr(pipeline, "crawl", lambda urls, out, cfg: seen.append((urls, cfg)) or _Summary())
    deny = tmp_path / "deny.txt"
    deny.write_text("")
    args = ["--urls", "u.csv", "--skip-filter", "person", "--skip-filter", "static", "--max-retries", "5",
            "--backoff", "0.5", "--concurrency", "3", "--download-timeout", "60", "--deny-list", str(deny),
            "--people-detector", "hog", "--rate-limit", "0", "--retry-failed"]  # fmt: skip
    res = CliRunner().invoke(crawl, ["--out", str(tmp_path / "ds"), *args])
    assert res.exit_code == 0, res.output
    yaml_section = {"urls": "u.csv", "skip_filter": ["person", "static"], "max_retries": 5, "backoff": 0.5,
                    "concurrency": 3, "download_timeout": 60, "deny_list": [str(deny)], "people_detector": "hog",
                    "rate_limit": 0, "retry_failed": True}  # fmt: skip
    from_yaml = CrawlSettings.from_mapping(yaml_section, "cfg.yaml: internet")
    ((urls, cfg),) = seen
    assert urls == "u.csv" and cfg == from_yaml.to_config()
    assert cfg.curation.people_detector == "hog" and cfg.download.download_timeout_s == 60.0
    assert cfg.download.ratelimit is None and cfg.retry.max_retries == 5 and cfg.max_concurrent_downloads == 3


class _Summary:
    counts = {"done": 1}
    n_urls = n_clips = n_download_attempts = 1
    manifest_changed = False


@pytest.mark.parametrize(
    ("section", "msg"),
    [
        ({"urls": "u.csv", "max_retry": 3}, "unknown key 'max_retry'"),
        ({"backoff_s": 2.0}, "unknown key 'backoff_s'; renamed to 'backoff'"),
        ({"max_retries": -1}, "'max_retries' must be >= 0, got -1"),
        ({"max_retries": "many"}, "'max_retries' must be an integer"),
        ({"socket_timeout": 0}, "'socket_timeout' must be > 0"),
        ({"skip_filter": ["persons"]}, "'skip_filter' must be one of shots, static, person, dedupe"),
        ({"retry_failed": "yes"}, "'retry_failed' must be true or false"),
        ({"executor": "ray"}, "'executor' is a flag of the command"),
    ],
)
def test_yaml_errors_name_the_key_and_file(tmp_path, section, msg):
    import yaml

    from ma_data.build.pipeline import load_config

    cfg = tmp_path / "build.yaml"
    cfg.write_text(yaml.safe_dump({"internet": section}))
    with pytest.raises(ConfigError) as ei:
        load_config(cfg)
    assert msg in str(ei.value) and str(cfg) in str(ei.value) and "\n" not in str(ei.value)


def test_build_cli_refuses_a_bad_internet_section_before_any_work(tmp_path):
    from ma_data.cli import main

    cfg = tmp_path / "build.yaml"
    cfg.write_text("internet:\n  urls: u.csv\n  max_concurrent_downloads: 4\n")
    res = CliRunner().invoke(main, ["build", "--demo", "--out", str(tmp_path / "ds"), "--config", str(cfg)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "renamed to 'concurrency'" in res.stderr
    assert not (tmp_path / "ds").exists()


def test_defaults_are_the_runtime_defaults():
    from ma_data.crawl.download import DownloadOptions
    from ma_data.crawl.errors import RetryPolicy
    from ma_data.crawl.pipeline import CrawlConfig
    from ma_data.curation.curate import CurationConfig

    assert CrawlSettings().to_config() == CrawlConfig(
        download=DownloadOptions(), curation=CurationConfig(), retry=RetryPolicy()
    )


def test_library_callers_get_the_same_checks():
    with pytest.raises(ValueError, match="'concurrency' must be >= 1"):
        CrawlSettings(concurrency=0)
    with pytest.raises(MaceError, match="must be a mapping"):
        CrawlSettings.from_mapping(["urls"], "x.yaml: internet")
