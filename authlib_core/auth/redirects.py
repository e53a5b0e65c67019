"""The one place that turns client input into a redirect target or a response header value.

``callbackURL`` (sign-in, sign-up, delete-user) comes back to the client as ``url`` and as the ``Location`` header,
so it is checked where it enters, with the rules browsers apply when they follow it (the WHATWG URL standard):

* **Control characters are refused** (HTTP 400 ``INVALID_CALLBACK_URL``): C0 controls (CR and LF would split the
  header; tab and newline are *deleted* by WHATWG parsers, so ``"/\\t/evil.example"`` is ``//evil.example``), DEL,
  and spaces at either end (WHATWG strips them, so ``" //evil.example"`` would be protocol-relative). So is a
  backslash anywhere (WHATWG reads ``\\`` as ``/`` in http(s) URLs) and a value longer than
  :data:`MAX_CALLBACK_LENGTH`.
* **Same-site paths** start with exactly one ``/`` (``/dashboard``); ``//host`` is another site and refused unless
  that origin is trusted (403 ``INVALID_CALLBACK_URL``, Better Auth's answer).
* **Absolute URLs** must be ``http(s)`` with an ASCII host whose origin is the server's own or a trusted one.
* **Non-ASCII characters** are percent-encoded as UTF-8 (``/€`` → ``/%E2%82%AC``), as a browser does before it sends
  the URL, so the value is a valid header value and means the same page.

:func:`header_value` is the last check on every header value the auth API emits: visible ASCII and spaces only.

Example:
    >>> from authlib_core.auth.origin import OriginPolicy
    >>> from authlib_core.auth.transport import AuthHttpRequest
    >>> request = AuthHttpRequest("POST", "/sign-in/email", base_url="https://api.example.com")
    >>> redirect_target("/caf\\u00e9?x=1", request, OriginPolicy(()))
    '/caf%C3%A9?x=1'
    >>> redirect_target("/\\t/evil.example", request, OriginPolicy(()))
    Traceback (most recent call last):
    ...
    authlib_core.auth.transport.APIError: Invalid callbackURL: it contains a control character (U+0009) ...
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from authlib_core.auth.transport import APIError

if TYPE_CHECKING:
    from authlib_core.auth.origin import OriginPolicy
    from authlib_core.auth.transport import AuthHttpRequest

__all__ = ["MAX_CALLBACK_LENGTH", "UnsafeHeaderValueError", "header_value", "redirect_target"]

#: Longest ``callbackURL`` accepted (browsers and proxies commonly cap URLs near 8 KiB; a redirect needs far less).
MAX_CALLBACK_LENGTH: Final = 2048

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_SAFE = re.compile(r"[\x20-\x7e]*\Z")
# Everything printable in ASCII stays as sent (existing %XX escapes too); only non-ASCII is percent-encoded.
_KEEP = "".join(chr(c) for c in range(0x21, 0x7F))


class UnsafeHeaderValueError(ValueError):
    """A header value that would change the response's framing (CR, LF, other controls) or is not ASCII."""


def header_value(name: str, value: str) -> str:
    """``value`` if it is safe as the value of header ``name`` (visible ASCII and spaces), else raise.

    Raises:
        UnsafeHeaderValueError: the value holds a control character or a non-ASCII character.
    """
    if not _HEADER_SAFE.match(value):
        raise UnsafeHeaderValueError(f"the value of the {name} header holds a control or non-ASCII character")
    return value


def _invalid(reason: str) -> APIError:
    return APIError(400, "INVALID_CALLBACK_URL", f"Invalid callbackURL: {reason}")


def redirect_target(url: str, request: AuthHttpRequest, origins: OriginPolicy) -> str:
    """The checked, header-safe form of a ``callbackURL`` (rules in the module docstring).

    Raises:
        APIError: 400 ``INVALID_CALLBACK_URL`` for a malformed value, 403 ``INVALID_CALLBACK_URL`` for another site.
    """
    if len(url) > MAX_CALLBACK_LENGTH:
        raise _invalid(f"it is {len(url)} characters long; the limit is {MAX_CALLBACK_LENGTH}")
    control = _CONTROL.search(url)
    if control is not None:
        raise _invalid(
            f"it contains a control character (U+{ord(control.group()):04X}); browsers delete or reject these, so "
            "the page reached would not be the one checked. Percent-encode it or remove it."
        )
    if url != url.strip(" "):
        raise _invalid("it starts or ends with a space; remove the spaces")
    if "\\" in url:
        raise _invalid("it contains a backslash, which browsers read as '/'; use '/' or percent-encode it as %5C")
    try:
        target = quote(url, safe=_KEEP)
    except UnicodeEncodeError:
        raise _invalid("it is not valid Unicode (a lone surrogate)") from None
    same_site_path = target.startswith("/") and not target.startswith("//")
    if same_site_path or (target.isascii() and origins.is_trusted(target, request)):
        return header_value("Location", target)
    raise APIError(403, "INVALID_CALLBACK_URL", "Invalid callbackURL")
