"""The crawl's settings: one schema for the ``ma-data crawl`` flags and the build config's ``internet:`` keys.

Every field of :class:`CrawlSettings` is one setting with one name: ``--max-retries`` on the command line is
``max_retries`` in YAML, with the same default, help, bounds and choices (both are generated from the field
metadata below). :meth:`CrawlSettings.to_config` is the one mapping onto the runtime
:class:`~ma_data.crawl.pipeline.CrawlConfig`. In a build config::

    internet:
      urls: manifests/urls/example.csv   # the URL manifest (required outside --demo)
      skip_filter: [person]              # any of shots, static, person, dedupe
      max_retries: 3
      backoff: 2.0
      concurrency: 2
      deny_list: [my_takedowns.txt]      # added to manifests/takedown.txt
      download_timeout: 1800

Unknown keys are refused in one line naming the key and the file. ``executor``, ``workers`` and ``address``
are flags only: in a build they are ``ma-data build``'s own. Paths are relative to the working directory.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ma_data.core.errors import ConfigError, check_choice
from ma_data.core.executors import EXECUTORS
from ma_data.core.pose.registry import BACKENDS, DEFAULT_BACKEND
from ma_data.curation.curate import FILTERS

__all__ = ["CrawlSettings", "check_internet_section", "crawl_options"]

#: Keys of earlier versions, named in the error so an old config is easy to fix.
RENAMED = {
    "skip_filters": "skip_filter",
    "backoff_s": "backoff",
    "max_concurrent_downloads": "concurrency",
    "deny_lists": "deny_list",
}


def _setting(
    default: Any,
    help: str,  # noqa: A002 - click's word
    *,
    kind: type = str,
    min: float | None = None,  # noqa: A002
    min_open: bool = False,
    choices: tuple[str, ...] | None = None,
    multiple: bool = False,
    existing_file: bool = False,
    yaml: bool = True,
    required_flag: bool = False,
) -> Any:
    meta = {
        "help": help,
        "kind": kind,
        "min": min,
        "min_open": min_open,
        "choices": choices,
        "multiple": multiple,
        "existing_file": existing_file,
        "yaml": yaml,
        "required_flag": required_flag,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class CrawlSettings:
    """Every setting of a crawl (see the module docstring). Sizes in bytes, times in seconds; 0 turns a cap
    off where the help says so. Construction validates every value (:class:`ConfigError`, a ``ValueError``)."""

    urls: str | None = _setting(
        None,
        "URL manifest (CSV/TSV/Parquet/JSON, or a plain list of URLs): url, optional start, end, genre, "
        "license, creator.",
        required_flag=True,
    )
    skip_filter: tuple[str, ...] = _setting(
        (), "Switch a curation stage off (repeatable).", choices=FILTERS, multiple=True
    )
    max_retries: int = _setting(3, "Retries of a retryable download failure.", kind=int, min=0)
    backoff: float = _setting(
        2.0,
        "First retry delay in seconds; doubles per retry (a longer Retry-After wins).",
        kind=float,
        min=0,
    )
    max_retry_after: float = _setting(
        600.0, "Longest Retry-After (seconds) honoured; longer waits are capped to this.", kind=float, min=0
    )
    concurrency: int = _setting(2, "Most downloads at once (politeness cap).", kind=int, min=1)
    rate_limit: int = _setting(8 * 1024**2, "Bytes per second per download (0 = none).", kind=int, min=0)
    height_cap: int = _setting(1080, "Tallest video format to download, pixels.", kind=int, min=1)
    max_duration: float = _setting(
        1800.0, "Longest source video accepted, seconds (0 = no cap).", kind=float, min=0
    )
    max_filesize: int = _setting(
        2 * 1024**3, "Largest source file accepted, bytes (0 = no cap).", kind=int, min=0
    )
    socket_timeout: float = _setting(
        30.0, "Longest silence on a connection, seconds.", kind=float, min=0, min_open=True
    )
    download_timeout: float = _setting(
        1800.0,
        "Longest whole download attempt, seconds (0 = none); a hit is a retryable 'deadline' failure.",
        kind=float,
        min=0,
    )
    cookies: str | None = _setting(
        None, "Netscape cookie file for yt-dlp (off unless given).", existing_file=True
    )
    proxy: str | None = _setting(None, "Proxy URL for yt-dlp (off unless given).")
    deny_list: tuple[str, ...] = _setting(
        (),
        "Extra takedown/deny list (added to manifests/takedown.txt; repeatable).",
        multiple=True,
        existing_file=True,
    )
    pose_backend: str = _setting(
        DEFAULT_BACKEND, "Pose backend of the person filter.", choices=tuple(BACKENDS)
    )
    people_detector: str = _setting(
        "auto",
        "Multi-person check: RT-DETR when its weights are cached (auto), else OpenCV's HOG.",
        choices=("auto", "hog"),
    )
    shot_detector: str = _setting(
        "content",
        "PySceneDetect ContentDetector, TransNetV2 (needs weights), or TransNetV2 when available.",
        choices=("content", "transnetv2", "auto"),
    )
    seed: int = _setting(0, "Seed of the clip windows.", kind=int)
    retry_failed: bool = _setting(False, "Retry URLs and sources that failed in earlier runs.", kind=bool)
    executor: str = _setting("process", "Where downloads and curation run.", choices=EXECUTORS, yaml=False)
    workers: int | None = _setting(
        None, "Curation workers (default: CPU count).", kind=int, min=1, yaml=False
    )
    address: str | None = _setting(
        None, "Ray cluster address for --executor ray (e.g. auto, ray://host:10001).", yaml=False
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str, **flags: Any) -> CrawlSettings:
        """Settings from a YAML mapping (``where`` names its file and section in errors), plus flag-only
        settings (``executor``, ``workers``, ``address``) given by the caller."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: must be a mapping of crawl settings, got {type(data).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key in data:
            f = known.get(key)
            if f is None:
                hint = f"; renamed to {RENAMED[key]!r}" if key in RENAMED else ""
                raise ConfigError(f"{where}: unknown key {key!r}{hint}")
            if not f.metadata["yaml"]:
                raise ConfigError(f"{where}: {key!r} is a flag of the command (--{key}), not a config key")
        try:
            return cls(**dict(data), **flags)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def to_config(self):
        """The runtime :class:`~ma_data.crawl.pipeline.CrawlConfig` (the one mapping from these settings)."""
        from ma_data.crawl.download import DownloadOptions
        from ma_data.crawl.errors import RetryPolicy
        from ma_data.crawl.pipeline import CrawlConfig
        from ma_data.curation.clips import ClipPolicy
        from ma_data.curation.curate import CurationConfig

        return CrawlConfig(
            download=DownloadOptions(
                height_cap=self.height_cap,
                max_filesize=self.max_filesize or None,
                max_duration_s=self.max_duration or None,
                ratelimit=self.rate_limit or None,
                socket_timeout_s=self.socket_timeout,
                download_timeout_s=self.download_timeout or None,
                cookiefile=self.cookies,
                proxy=self.proxy,
            ),
            curation=CurationConfig(
                skip=self.skip_filter,
                shot_method=self.shot_detector,
                pose_backend=self.pose_backend,
                people_detector=self.people_detector,
                seed=self.seed,
                policy=ClipPolicy(),
            ),
            retry=RetryPolicy(
                max_retries=self.max_retries, backoff_s=self.backoff, max_retry_after_s=self.max_retry_after
            ),
            max_concurrent_downloads=self.concurrency,
            executor=self.executor,
            workers=self.workers,
            ray_address=self.address,
            deny_lists=self.deny_list,
            retry_failed=self.retry_failed,
        )


def _check(f: dataclasses.Field, value: Any) -> Any:
    """``value`` of setting ``f`` checked and normalised (lists to tuples, ints to floats)."""
    m, name = f.metadata, f.name
    if m["multiple"]:
        items = (value,) if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"{name!r} must be a list of strings, got {value!r}")
        for v in items:
            _check_choice(name, v, m["choices"])
        return tuple(items)
    if value is None:
        if f.default is None:
            return None
        raise ConfigError(f"{name!r} must be set")
    kind = m["kind"]
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name!r} must be true or false, got {value!r}")
        return value
    if kind in (int, float):
        ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or (kind is float and not math.isfinite(value)):
            raise ConfigError(
                f"{name!r} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
            )
        value = kind(value)
        lo = m["min"]
        if lo is not None and (value <= lo if m["min_open"] else value < lo):
            raise ConfigError(f"{name!r} must be {'>' if m['min_open'] else '>='} {lo:g}, got {value:g}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{name!r} must be a string, got {value!r}")
    _check_choice(name, value, m["choices"])
    return value


def _check_choice(name: str, value: str, choices: tuple[str, ...] | None) -> None:
    if choices is not None:
        check_choice(repr(name), value, choices)


def check_internet_section(section: Any, where: str) -> None:
    """Validate a build config's ``internet:`` section at load time (called by ``ma_data.build``)."""
    CrawlSettings.from_mapping(section, f"{where}: internet")


# -- the flags ----------------------------------------------------------------------------------------------
def _click_type(f: dataclasses.Field):
    import click

    m = f.metadata
    if m["choices"] is not None:
        return click.Choice(list(m["choices"]))
    if m["existing_file"]:
        return click.Path(dir_okay=False, exists=True)
    if m["kind"] is int:
        return click.IntRange(min=m["min"], min_open=m["min_open"]) if m["min"] is not None else int
    if m["kind"] is float:
        if m["min"] is not None:
            return click.FloatRange(min=m["min"], min_open=m["min_open"])
        return float
    return str


#: Settings whose flags are the shared :func:`ma_data.core.cli.executor_options` (with this schema's defaults
#: and help), as on every command that spreads its work.
EXECUTOR_SETTINGS = ("executor", "workers", "address")


def crawl_options() -> Callable:
    """Decorator adding one click option per setting (``--name-with-dashes``)."""
    import click

    from ma_data.core.cli import executor_options

    def decorate(fn: Callable) -> Callable:
        settings = {f.name: f for f in dataclasses.fields(CrawlSettings)}
        fn = executor_options(
            default=settings["executor"].default,
            where=settings["executor"].metadata["help"],
            workers=settings["workers"].metadata["help"],
        )(fn)
        for f in reversed(settings.values()):
            if f.name in EXECUTOR_SETTINGS:
                continue
            flag = "--" + f.name.replace("_", "-")
            m = f.metadata
            if m["kind"] is bool:
                fn = click.option(flag, f.name, is_flag=True, help=m["help"])(fn)
                continue
            default = f.default if not m["multiple"] else ()
            fn = click.option(
                flag,
                f.name,
                type=_click_type(f),
                default=default,
                multiple=m["multiple"],
                required=m["required_flag"],
                help=m["help"],
            )(fn)
        return fn

    return decorate
