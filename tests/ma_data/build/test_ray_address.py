"""The Ray executor refuses an address nobody listens on at once, in one line (no Ray cluster needed)."""

from __future__ import annotations

import socket
import time

import pytest

from ma_data.build import make_executor
from ma_data.core.errors import MaceError
from ma_data.core.executors import check_ray_address


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("form", ["127.0.0.1:{port}", "localhost:{port}", "ray://127.0.0.1:{port}"])
def test_unreachable_address_fails_fast(form):
    ray = pytest.importorskip("ray")
    address = form.format(port=_free_port())
    t0 = time.monotonic()
    with pytest.raises(MaceError) as ei:
        make_executor("ray", address=address)
    assert time.monotonic() - t0 < 20  # ray.init alone retries for minutes
    assert f"cannot reach a Ray cluster at {address}" in str(ei.value) and "\n" not in str(ei.value)
    assert not ray.is_initialized()


def test_malformed_address_is_named():
    with pytest.raises(MaceError, match="expected host:port"):
        check_ray_address("ray://")
    check_ray_address(None)  # None / auto / local are Ray's to resolve
    check_ray_address("auto")


def test_listening_address_passes_the_probe():
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        check_ray_address(f"127.0.0.1:{srv.getsockname()[1]}")
