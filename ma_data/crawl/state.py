"""Names of the crawl's persistent state: ledger stages, ledger meta keys and folders under the output root.

Shared by the pipeline (which writes this state) and ``ma-data status`` (which reads it).
"""

from __future__ import annotations

DOWNLOAD = "internet.download"
CURATE = "internet.curate"
LEDGER_NAME = ".build/ledger.sqlite"  # the same ledger file as ``ma-data build``
RAW_DIR = "raw/internet"
ARCHIVE_NAME = "raw/internet/download_archive.txt"
META_ORDER = "internet.url_order"
META_DROPPED = "internet.dropped_clips"
META_CONFIG = "internet.curate_config"
META_RETRY = "internet.retry_due"  # keys failed with a retryable error and a retry still to come
