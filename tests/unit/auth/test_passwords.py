"""Passwords: argon2id, Better Auth's scrypt format (vector computed from the reference formula), rehash, laziness."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import unicodedata

import pytest

from authlib_core.auth.passwords import PasswordHasher, better_auth_scrypt, js_length


def reference_scrypt(password: str, salt_hex: str) -> str:
    """Better Auth's own values, verbatim."""
    key = hashlib.scrypt(
        unicodedata.normalize("NFKC", password).encode(),
        salt=salt_hex.encode(),
        n=16384,
        r=16,
        p=1,
        dklen=64,
        maxmem=64 * 1024 * 1024 + 2**20,
    ).hex()
    return f"{salt_hex}:{key}"


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


def test_scrypt_vector_from_the_reference_formula(hasher: PasswordHasher) -> None:
    salt = "1e40a3f0c2b14d5e8f9a0b1c2d3e4f50"
    stored = reference_scrypt("correct horse battery", salt)
    assert better_auth_scrypt("correct horse battery", salt) == stored
    assert hasher.verify(stored, "correct horse battery")
    assert not hasher.verify(stored, "correct horse batterY")
    assert hasher.needs_rehash(stored)


def test_scrypt_normalizes_nfkc(hasher: PasswordHasher) -> None:
    salt = "00112233445566778899aabbccddeeff"
    stored = reference_scrypt("\uff50\uff41\uff53\uff53word123", salt)  # fullwidth "pass" → NFKC "password123"
    assert hasher.verify(stored, "password123")


def test_argon2id_parameters_and_verify(hasher: PasswordHasher) -> None:
    stored = hasher.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(stored, "correct horse battery")
    assert not hasher.verify(stored, "wrong password")
    assert not hasher.needs_rehash(stored)
    assert PasswordHasher(time_cost=3).needs_rehash(stored)


def test_garbage_hashes_do_not_verify(hasher: PasswordHasher) -> None:
    for stored in ["", "plain", "$argon2id$broken", "zz:zz"]:
        assert not hasher.verify(stored, "whatever1")


def test_burn_runs(hasher: PasswordHasher) -> None:
    hasher.burn("anything")


def test_js_length_counts_utf16_code_units() -> None:
    assert js_length("abc") == 3
    assert js_length("😀") == 2
    assert js_length("é") == 1


def test_argon2_is_not_imported_until_needed() -> None:
    code = (
        "import sys\n"
        "import authlib_core.auth.service, authlib_core.auth.passwords\n"
        "assert 'argon2' not in sys.modules, 'argon2 imported eagerly'\n"
        "from authlib_core.auth.passwords import PasswordHasher\n"
        "PasswordHasher().hash('x' * 8)\n"
        "assert 'argon2' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
