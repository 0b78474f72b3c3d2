"""The token signing key: an RSA key generated on first use and kept in the data folder (mode 0600)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from homeroom.secretfiles import create_private_file

KEY_FILE = "api-signing-key.pem"


def load_signing_key(data_dir: Path) -> RSAPrivateKey:
    """The data folder's signing key, created (2048-bit RSA) if it does not exist yet."""
    path = data_dir / KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        create_private_file(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]

