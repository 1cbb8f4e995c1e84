"""The internet (appearance-centric) subset of MA-Data: crawl URLs with yt-dlp, then curate into clips.

Modules:

- ``urls`` — the URL manifest (CSV/TSV/JSON/Parquet/plain list: url, start, end, genre, license, creator),
  the URL normal form, credential stripping; ``rows`` — rows (URL + window) and their downloads and clips;
- ``settings`` — every crawl setting once, as ``ma-data crawl`` flags and as build-config YAML keys;
- ``takedown`` — the deny list every run honours (``manifests/takedown.txt`` plus ``--deny-list``);
- ``errors`` — error classes, Retry-After parsing, the exponential-backoff retry policy;
- ``download`` — one yt-dlp attempt (format/size/duration caps, info JSON, safe names), classified;
- ``verify`` — every download demuxed end to end before use (truncated/corrupt never become clips);
- ``pipeline`` — the ledger-driven crawl: download rounds, source dedupe, curation stage, manifest rows;
- ``upgrade`` — brings crawl folders of older versions to today's source-id rules;
- ``status`` — each URL's fate (done / filtered / failed / pending);
- ``cli`` — ``ma-data crawl`` and ``ma-data status``; ``subset`` — ``ma-data build --subsets internet``;
- ``loopback`` — a local HTTP server with Range support and injected faults (tests, demo);
- ``synthetic`` / ``demo`` — synthetic sources with known cuts and the ``make build-data`` demo crawl.

Curation itself lives in :mod:`ma_data.curation`.
"""
