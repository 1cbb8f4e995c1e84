"""The takedown / deny list every crawl honours.

One entry per line, ``#`` starts a comment:

- a full URL (matched after normalisation: scheme and host case, default ports, ``localhost``/``127.0.0.1``/
  ``[::1]``, percent-escapes, ``./`` and ``../`` segments and fragments do not matter; see
  :func:`ma_data.crawl.urls.normalize_url`),
- ``domain:example.com`` (the host and its subdomains; ``localhost``, ``127.0.0.1`` and ``::1`` are one host),
- ``id:<extractor>:<video id>`` (e.g. ``id:youtube:dQw4w9WgXcQ``; matched after extraction, so every URL
  form of a video is covered),
- ``source:<source_id>`` (our source id as written in the manifest),
- ``creator:<name>`` (matched case-insensitively against the URL manifest's creator or the uploader).

The packaged list is ``manifests/takedown.txt``; ``--deny-list FILE`` adds more. A denied source is never
downloaded, and clips already built from it are dropped from the manifest and deleted on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ma_data.core.errors import FormatError
from ma_data.core.packaged import packaged_path
from ma_data.crawl.urls import normalize_host, normalize_url

__all__ = ["DenyList", "default_takedown_path", "load_deny_list"]


def default_takedown_path() -> Path:
    return packaged_path("takedown.txt")


@dataclass
class DenyList:
    urls: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)  # "extractor:id", lower-cased extractor
    sources: set[str] = field(default_factory=set)
    creators: set[str] = field(default_factory=set)

    def add_line(self, line: str, where: str = "<deny list>") -> None:
        stripped = line.strip()
        if stripped.lower().startswith(("http://", "https://")):
            line = stripped.split()[0]  # a URL may hold '#'; anything after whitespace is a comment
        else:
            line = stripped.split("#", 1)[0].strip()
        if not line:
            return
        kind, _, value = line.partition(":")
        kind = kind.lower()
        if kind in ("http", "https"):
            try:
                self.urls.add(normalize_url(line))
            except FormatError as exc:
                raise FormatError(f"{where}: {exc}") from None
        elif kind == "domain" and value.strip():
            self.domains.add(normalize_host(value.strip().lstrip(".")))
        elif kind == "id" and ":" in value:
            ext, _, vid = value.strip().partition(":")
            self.ids.add(f"{ext.strip().lower()}:{vid.strip()}")
        elif kind == "source" and value.strip():
            self.sources.add(value.strip())
        elif kind == "creator" and value.strip():
            self.creators.add(value.strip().lower())
        else:
            raise FormatError(f"{where}: cannot parse deny-list entry {line!r}")

    def check_url(self, url: str) -> str | None:
        """Reason the URL is denied before any request, or ``None``."""
        norm = normalize_url(url)
        if norm in self.urls:
            return "takedown: url"
        host = (urlsplit(norm).hostname or "").lower()
        for d in self.domains:
            if host == d or host.endswith("." + d):
                return f"takedown: domain {d}"
        return None

    def check(
        self,
        url: str,
        *,
        extractor: str | None = None,
        video_id: str | None = None,
        source_id: str | None = None,
        creators: Iterable[str | None] = (),
    ) -> str | None:
        """Reason the item is denied (URL, extracted id, source id or creator), or ``None``."""
        reason = self.check_url(url)
        if reason:
            return reason
        if extractor and video_id and f"{extractor.lower()}:{video_id}" in self.ids:
            return f"takedown: id {extractor.lower()}:{video_id}"
        if source_id and source_id in self.sources:
            return f"takedown: source {source_id}"
        for c in creators:
            if c and c.strip().lower() in self.creators:
                return f"takedown: creator {c.strip()}"
        return None

    def __len__(self) -> int:
        return len(self.urls) + len(self.domains) + len(self.ids) + len(self.sources) + len(self.creators)


def load_deny_list(paths: Iterable[str | Path] = (), include_default: bool = True) -> DenyList:
    """Merge the packaged takedown list (when present) with the given files."""
    deny = DenyList()
    files = [default_takedown_path()] if include_default else []
    files += [Path(p) for p in paths]
    for f in files:
        if not f.is_file():
            if include_default and f == default_takedown_path():
                continue
            raise FormatError(f"{f}: deny list not found")
        try:
            text = f.read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the first entry
        except UnicodeDecodeError as exc:
            raise FormatError(f"{f}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        for n, line in enumerate(text.splitlines(), start=1):
            deny.add_line(line, where=f"{f}:{n}")
    return deny
