"""The test suite, one package per folder (so test modules are imported by their full name and may share
basenames).

Fixtures live in ``conftest.py`` files: suite-wide ones in ``tests/conftest.py``, the others beside the tests
that use them. Plain helpers (builders, constants, reference loops) are modules imported by their package path:
``tests.helpers`` for those several folders use, a module beside its tests for those one folder uses. Synthetic
inputs with known answers (click tracks, dances) come from ``ma_data.core.synthetic`` and ``ma_data.sample``.
"""
