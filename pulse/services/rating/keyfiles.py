"""The inbox epochs' private keys, kept by the mixer in files of its own, never in the database."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey


class KeyFiles:
    """The epochs' private keys: one small file each, named by the public key, in a folder only the mixer
    reads. Destroying a key overwrites its file in place, flushes it to disk, and removes it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, public_key: bytes) -> Path:
        return self.folder / f"epoch-{public_key.hex()}.key"

    def write(self, public_key: bytes, private_key: X25519PrivateKey) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(public_key)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, private_key.private_bytes_raw())
            os.fsync(fd)
        finally:
            os.close(fd)
        self._sync_folder()

    def read(self, public_key: bytes) -> X25519PrivateKey | None:
        try:
            raw = self._path(public_key).read_bytes()
        except FileNotFoundError:
            return None
        return X25519PrivateKey.from_private_bytes(raw)

    def destroy(self, public_key: bytes) -> None:
        path = self._path(public_key)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return
        try:
            os.write(fd, bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        self._sync_folder()

    def public_keys(self) -> list[bytes]:
        if not self.folder.is_dir():
            return []
        return [bytes.fromhex(p.name[6:-4]) for p in self.folder.glob("epoch-*.key")]

    def _sync_folder(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
