"""Password hashing: argon2id for new hashes; Better Auth's scrypt ``salt:key`` verified for migration.

* New hashes are argon2id (argon2-cffi) in the PHC string format, with the parameters of
  :class:`~authlib_core.config.AuthSettings` (default m=19 MiB, t=2, p=1: OWASP's recommended minimum; raising them
  later makes :meth:`PasswordHasher.needs_rehash` true, and the next sign-in upgrades the hash).
* Better Auth's format is ``<saltHex32>:<keyHex128>`` = scrypt(N=16384, r=16, p=1, dkLen=64) of the NFKC-normalized
  password, salted with the hex *string*. It verifies (in constant time, unlike Better Auth's ``===``) and always
  needs a rehash, so a migrated user is upgraded to argon2id at the first successful sign-in.
* :meth:`PasswordHasher.burn` spends the time of a real verification, for sign-ins of unknown emails.

argon2 is imported on first use only: sign-up, sign-in, change-password and delete-user need it; the cold path of a
Lambda that serves queries never loads it.

Example:
    >>> hasher = PasswordHasher()
    >>> stored = hasher.hash("correct horse battery")
    >>> hasher.verify(stored, "correct horse battery"), hasher.verify(stored, "wrong")
    (True, False)
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from typing import Any

__all__ = ["PasswordHasher", "better_auth_scrypt", "js_length"]

_SCRYPT = re.compile(r"^([0-9a-f]{32}):([0-9a-f]{128})\Z")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN = 16384, 16, 1, 64
_SCRYPT_MAXMEM = 128 * _SCRYPT_N * _SCRYPT_R * 2


def js_length(text: str) -> int:
    """``text.length`` in JavaScript: the number of UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _normalize(password: str) -> bytes:
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def better_auth_scrypt(password: str, salt_hex: str) -> str:
    """Better Auth's ``salt:key`` hash of ``password`` with the given 32-hex-digit salt (for migration tooling)."""
    key = hashlib.scrypt(
        _normalize(password),
        salt=salt_hex.encode("ascii"),
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=_SCRYPT_DKLEN,
        maxmem=_SCRYPT_MAXMEM,
    )
    return f"{salt_hex}:{key.hex()}"


class PasswordHasher:
    """Hashes and verifies passwords. Thread-safe; argon2 loads lazily on the first call."""

    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19_456, parallelism: int = 1) -> None:
        self.time_cost = time_cost
        self.memory_kib = memory_kib
        self.parallelism = parallelism
        self._lock = threading.Lock()
        self._argon2: Any = None
        self._dummy_hash: str | None = None

    def _hasher(self) -> Any:
        if self._argon2 is None:
            with self._lock:
                if self._argon2 is None:
                    from argon2 import PasswordHasher as Argon2Hasher
                    from argon2 import Type

                    hasher = Argon2Hasher(
                        time_cost=self.time_cost,
                        memory_cost=self.memory_kib,
                        parallelism=self.parallelism,
                        hash_len=32,
                        salt_len=16,
                        type=Type.ID,
                    )
                    # The dummy hash is made here, so the first sign-in of a process costs the same whether or not
                    # the email exists.
                    self._dummy_hash = hasher.hash(secrets.token_urlsafe(24))
                    self._argon2 = hasher
        return self._argon2

    def hash(self, password: str) -> str:
        """An argon2id PHC string for ``password`` (NFKC-normalized first, as Better Auth does)."""
        return str(self._hasher().hash(_normalize(password)))

    def verify(self, stored: str, password: str) -> bool:
        """True when ``password`` matches ``stored`` (argon2id PHC string or Better Auth scrypt). Constant time."""
        hasher = self._hasher()
        match = _SCRYPT.match(stored)
        if match is not None:
            expected = better_auth_scrypt(password, match.group(1))
            return hmac.compare_digest(expected.encode("ascii"), stored.encode("ascii"))
        if not stored.startswith("$argon2"):
            self.burn(password)
            return False
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            return bool(hasher.verify(stored, _normalize(password)))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True for Better Auth scrypt hashes and argon2 hashes made with other parameters."""
        if not stored.startswith("$argon2id$"):
            return True
        return bool(self._hasher().check_needs_rehash(stored))

    def burn(self, password: str) -> None:
        """Verify ``password`` against a dummy hash: the cost of a real verification, for unknown users."""
        hasher = self._hasher()
        from argon2.exceptions import VerificationError

        with contextlib.suppress(VerificationError):
            hasher.verify(self._dummy_hash, _normalize(password))
