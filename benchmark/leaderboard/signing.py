"""Ed25519 signatures over a bundle's integrity list (via the ``cryptography`` package).

The signature covers the exact bytes of ``integrity.json``, which holds the sha256 of every other member, so
one signature covers the whole bundle. ``signature.json`` records the algorithm, the signer's raw public key
(base64) and the signature (base64). Keys are read as PEM (PKCS#8 / SubjectPublicKeyInfo) or OpenSSH
(``ssh-keygen -t ed25519``); :func:`generate_keypair` writes a PEM pair.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Any

from ma_data.core.errors import MaceError

ALGORITHM = "ed25519"


def _crypto():
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise MaceError(
            "signing needs the Python package 'cryptography' (pip install 'mace-dance[leaderboard]')"
        ) from None
    return serialization, ed25519


def generate_keypair(private_path: Path) -> tuple[Path, Path]:
    """Write a new private key (PEM, mode 0600) and ``<private>.pub`` (PEM); refuses to overwrite."""
    serialization, ed25519 = _crypto()
    public_path = private_path.with_name(private_path.name + ".pub")
    for p in (private_path, public_path):
        if p.exists():
            raise MaceError(f"{p}: already exists (refusing to overwrite a key)")
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def load_private_key(path: Path):
    serialization, ed25519 = _crypto()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MaceError(f"{path}: cannot read the key ({exc.strerror or exc})") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise MaceError(f"{path}: not an unencrypted PEM or OpenSSH private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise MaceError(f"{path}: not an ed25519 key ({type(key).__name__})")
    return key


def load_public_key(path: Path):
    """A trusted public key: PEM, an OpenSSH ``ssh-ed25519`` line, or the raw key in base64."""
    serialization, ed25519 = _crypto()
    try:
        data = Path(path).read_bytes().strip()
    except OSError as exc:
        raise MaceError(f"{path}: cannot read the key ({exc.strerror or exc})") from None
    try:
        if data.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        elif data.startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(data)
        else:
            key = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(data, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise MaceError(f"{path}: not a PEM, OpenSSH or base64 public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise MaceError(f"{path}: not an ed25519 public key ({type(key).__name__})")
    return key


def raw_public(key) -> bytes:
    serialization, _ = _crypto()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(raw: bytes) -> str:
    """Short, stable name of a public key: ``ed25519:`` + the first 16 hex digits of its sha256."""
    return f"{ALGORITHM}:{hashlib.sha256(raw).hexdigest()[:16]}"


def sign(private_key, data: bytes) -> dict[str, str]:
    """The ``signature.json`` document for ``data`` (the integrity list's bytes)."""
    return {
        "algorithm": ALGORITHM,
        "public_key": base64.b64encode(raw_public(private_key.public_key())).decode(),
        "signature": base64.b64encode(private_key.sign(data)).decode(),
        "signed_file": "integrity.json",
    }


def verify(doc: Any, data: bytes, trusted: list) -> tuple[str, str | None, str | None]:
    """Check ``signature.json`` against ``data``.

    Returns ``(status, key fingerprint, problem)``: status ``verified`` (signed by a trusted key),
    ``self-consistent`` (valid signature by the embedded key; no trusted key given), or ``invalid`` with the
    problem. A valid signature by a key that is not trusted is ``untrusted``.
    """
    _, ed25519 = _crypto()
    from cryptography.exceptions import InvalidSignature

    if not isinstance(doc, dict) or doc.get("algorithm") != ALGORITHM:
        return "invalid", None, f"signature.json: algorithm must be {ALGORITHM!r}"
    if doc.get("signed_file") != "integrity.json":
        return "invalid", None, "signature.json: must sign 'integrity.json'"
    try:
        raw = base64.b64decode(str(doc.get("public_key", "")), validate=True)
        sig = base64.b64decode(str(doc.get("signature", "")), validate=True)
        key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return "invalid", None, "signature.json: public_key/signature are not valid base64 ed25519 values"
    fp = fingerprint(raw)
    try:
        key.verify(sig, data)
    except InvalidSignature:
        return "invalid", fp, f"the signature by {fp} does not match the bundle's integrity list"
    if not trusted:
        return "self-consistent", fp, None
    if any(raw_public(k) == raw for k in trusted):
        return "verified", fp, None
    return "untrusted", fp, f"signed by {fp}, which is not one of the given public keys"
