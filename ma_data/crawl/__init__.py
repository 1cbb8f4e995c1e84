"""The internet (appearance-centric) subset of MA-Data: crawl URLs with yt-dlp, then curate into clips.

Modules: ``urls`` (URL manifest), ``takedown`` (deny list), ``errors`` (classification, retry policy),
``download`` (one yt-dlp attempt), ``verify`` (probe every download), ``pipeline`` (ledger-driven crawl),
``status`` (per-URL fate), ``loopback`` (local HTTP server with faults, for tests and the demo), ``demo``.
"""
