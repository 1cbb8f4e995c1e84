"""Leaderboard: test sets as data, verifiable submission bundles, a validator that trusts nothing, a static board.

One module per job:

* :mod:`.testset` — versioned test-set manifests (sha256 of every GT file per stem), ``testset create``;
* :mod:`.bundle` — ``submission pack``: metadata, unmodified results, keypoints, integrity list, signature;
* :mod:`.archive` — reading a zip from a stranger in memory, with caps (traversal, links, bombs, names);
* :mod:`.safejson` — strict JSON (finite numbers, no duplicate keys, bounded depth);
* :mod:`.meta` — the submitter's metadata rules; :mod:`.signing` — ed25519 keys and signatures;
* :mod:`.results_reader` — the results-file fields the validator reads, one reader per schema version;
* :mod:`.aggregates` — set values recomputed from per-sample values; :mod:`.rescore` — motion re-scoring;
* :mod:`.validate` — ``submission validate``; :mod:`.report` — its JSON report;
* :mod:`.board` — ``leaderboard build`` (rows, ranks, JSON, CSV); :mod:`.html` — the static page.
"""
