"""The runtime as the sync protocol's :class:`~authlib_core.sync.ports.SyncBackend`.

Functions run through the same executor as ``/api/query`` and friends, and their errors become the same messages and
``errorData`` (:func:`~authlib_core.http.errors.describe_error`, ``convex_encoded_json``), so a live query fails
exactly as the HTTP call would. A query's read set is collected while it runs (what the engine recorded).

Example:
    >>> backend = RuntimeSyncBackend(dev_server.reloader.current, logger)  # doctest: +SKIP
    >>> backend.call("query", "myData:list", {}, NoAuth()).value           # doctest: +SKIP
    []
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import TYPE_CHECKING, Literal

from authlib_core.auth import StaticAuth
from authlib_core.auth.jwt_shape import looks_like_jwt, token_part
from authlib_core.auth.transport import AuthHttpRequest
from authlib_core.database.journal import journaling
from authlib_core.database.readset import ReadSet, recording_reads
from authlib_core.database.receipts import ReceiptExistsError, receipt_on_commit
from authlib_core.errors import AuthProviderUnavailableError, AuthTokenError
from authlib_core.functions.kinds import Kind
from authlib_core.functions.logs import LogCapture, capture_logs
from authlib_core.functions.paths import invalid_path_message
from authlib_core.http.app import CallRecord
from authlib_core.http.auth_bridge import external_identity
from authlib_core.http.errors import KindNotAllowedError, describe_error
from authlib_core.sync.ports import AuthRefused, Caller, Outcome
from authlib_core.values import decode, encode

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools import Logger

    from authlib_core.auth import Auth
    from authlib_core.database.receipts import Receipt
    from authlib_core.runtime import Runtime
    from authlib_core.values import JSONValue, Value

__all__ = ["RuntimeSyncBackend"]

_KINDS = {"query": Kind.QUERY, "mutation": Kind.MUTATION, "action": Kind.ACTION}


class RuntimeSyncBackend:
    """Runs the current runtime's public functions for sync sessions and checks their session tokens."""

    __slots__ = ("_base_url", "_clock", "_log_lines", "_logger", "_on_call", "_route", "_runtime", "_verified_jwt")

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        logger: Logger,
        base_url: str = "http://localhost",
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        route: str = "/api/sync",
        log_lines: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._runtime = runtime
        self._logger = logger
        self._on_call = on_call  # the dev server prints one line per call, as for HTTP calls
        self._route = route
        self._base_url = base_url  # the origin the client used: the issuer of identities, as over HTTP
        #: Deliver what functions print or log to the client (Convex does in development only).
        self._log_lines = log_lines
        #: The last JWT verified, with the runtime it was verified by and its caller (see :meth:`authenticate`).
        self._verified_jwt: tuple[str, Runtime, Caller] | None = None
        self._clock = clock  # seconds since the epoch, for a verified JWT's expiry

    def call(
        self,
        kind: Literal["query", "mutation", "action"],
        path: str,
        args: JSONValue,
        auth: Auth,
        journal: str | None = None,
        *,
        on_commit: Callable[[Outcome], Receipt | None] | None = None,
    ) -> Outcome:
        """Run ``path`` as ``kind``; failures become an unsuccessful :class:`Outcome` (never raised).

        ``on_commit`` (mutations): its receipt for the successful outcome is written in the mutation's commit; when
        another run of the same request committed first (its receipt has the key), the outcome says so
        (``committed_elsewhere``) and nothing of this run was written.
        """
        started = time.perf_counter()
        problem = invalid_path_message(path)  # as over HTTP, and before the path reaches a log line
        if problem is None:
            outcome = self._call(kind, path, args, auth, journal, on_commit)
        else:
            read_set = ReadSet() if kind == "query" else None
            outcome = Outcome(False, error=problem, read_set=read_set, label="rejected", request_id=uuid.uuid4().hex)
        if self._on_call is not None:
            self._on_call(
                CallRecord(
                    method="WS",
                    route=self._route,
                    function=path if problem is None else None,
                    kind=kind,
                    status=200,
                    outcome=outcome.label,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    request_id=outcome.request_id,
                    trace=outcome.trace,
                )
            )
        return outcome

    def _call(
        self,
        kind: Literal["query", "mutation", "action"],
        path: str,
        args: JSONValue,
        auth: Auth,
        journal: str | None,
        on_commit: Callable[[Outcome], Receipt | None] | None = None,
    ) -> Outcome:
        request_id = uuid.uuid4().hex
        source = None
        logs = LogCapture() if self._log_lines else None
        with recording_reads() as reads, journaling(journal if kind == "query" else None) as entry:
            try:
                runtime = self._runtime()
                source = runtime.settings.functions_dir if runtime.settings.expose_errors else None
                allowed = runtime.settings.allowed_kinds
                if allowed is not None and kind not in allowed:
                    raise KindNotAllowedError(path, kind, allowed)
                decoded = decode(args)
                keep: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
                if on_commit is not None and kind == "mutation":

                    def receipt(result: Value) -> Receipt | None:
                        encoded = encode(result, "convex_encoded_json")
                        return on_commit(Outcome(True, encoded, log_lines=_lines(logs), request_id=request_id))

                    keep = receipt_on_commit(receipt)
                with capture_logs(logs) if logs is not None else contextlib.nullcontext(), keep:
                    value = runtime.executor.call(
                        path, decoded if isinstance(decoded, dict) else None, kind=_KINDS[kind], auth=auth
                    )
                return Outcome(
                    True,
                    encode(value, "convex_encoded_json"),
                    read_set=_merged(reads, kind),
                    journal=entry.text(),
                    log_lines=_lines(logs),
                    request_id=request_id,
                )
            except ReceiptExistsError as exc:  # another run of this request committed: its receipt answers
                self._logger.info("mutation %s was committed by a concurrent run of the same request", path)
                return Outcome(
                    False,
                    error=exc.message,
                    log_lines=_lines(logs),
                    label="committed_elsewhere",
                    request_id=request_id,
                    committed_elsewhere=True,
                )
            except Exception as exc:
                error = describe_error(
                    exc, request_id=request_id, fmt="convex_encoded_json", logger=self._logger, source=source
                )
                body = error.body
                message = body.get("errorMessage", body.get("message", "Server Error"))
                return Outcome(
                    False,
                    error=str(message),
                    error_data=body.get("errorData"),
                    has_data="errorData" in body,
                    read_set=_merged(reads, kind),
                    journal=journal,
                    log_lines=_lines(logs),
                    label=error.outcome,
                    request_id=request_id,
                    trace=error.trace,
                )

    def authenticate(self, token: str) -> Caller:
        """The caller of a ``User`` token: a live session token of ours (checked against the session store now), or
        a JWT of a provider in ``functions/auth_config.py`` (verified as over HTTP).

        A JWT cannot be revoked: once verified it stands until it expires, so checking it again (after every commit)
        costs nothing and does not depend on the provider's keys being reachable; a reload of the functions (a new
        ``auth_config.py``) verifies it afresh.

        Raises:
            AuthRefused: not a live session, or a JWT that is invalid, expired or from no configured provider (or
                whose provider's keys cannot be fetched right now); the message says which.
        """
        if looks_like_jwt(token):
            runtime = self._runtime()
            known = self._verified_jwt
            if known is not None and known[0] == token and known[1] is runtime:
                expires_at = known[2].expires_at
                if expires_at is None or self._clock() < expires_at:
                    return known[2]
                raise AuthRefused(
                    "Could not verify the auth token: it has expired. Get a fresh token from the identity provider."
                )
            try:
                identity = external_identity(runtime, token)
            except (AuthTokenError, AuthProviderUnavailableError) as refused:
                raise AuthRefused(refused.message) from None
            verified = Caller(StaticAuth(identity), expires_at=_jwt_expiry(token))
            self._verified_jwt = (token, runtime, verified)
            return verified
        caller = self._identify({"authorization": f"Bearer {token}"}, {})
        if caller is None:
            raise AuthRefused(
                "The session token is not valid: the session does not exist, has expired or was revoked. Sign in again."
            )
        return caller

    def cookie_auth(self, cookies: Mapping[str, str], origin: str | None) -> Caller | None:
        """The caller of a WebSocket handshake's session cookie, else None.

        Checked like a cookie-carrying state change over HTTP (a socket can run mutations): the page's ``Origin`` must
        be this server's own origin or a trusted one, or the cookie is ignored (Better Auth's CSRF rule).
        """
        return self._identify({"origin": origin} if origin else {}, cookies)

    def _identify(self, headers: dict[str, str], cookies: Mapping[str, str]) -> Caller | None:
        service = self._runtime().auth
        if service is None:
            return None
        request = AuthHttpRequest(
            method="POST",
            path="/",
            base_url=self._base_url,
            query={},
            headers=headers,
            cookies=dict(cookies),
            body=b"",
            client_ip=None,
            is_https=self._base_url.startswith("https://"),
        )
        identity = service.auth_for(request).get_user_identity()
        if identity is None:
            return None
        record = None if identity.session_id is None else service.sessions.get(identity.subject, identity.session_id)
        # The session's end as stored now (using the session over HTTP may move it later: checked again then).
        return Caller(StaticAuth(identity), expires_at=None if record is None else record.ends_at() / 1000)


def _jwt_expiry(token: str) -> float | None:
    """When a verified JWT stops being accepted: its ``exp`` plus the clock skew the verifier allows."""
    from authlib_core.auth.jwt_verify import LEEWAY

    claims = token_part(token, 1)
    exp = claims.get("exp") if claims is not None else None
    return float(exp) + LEEWAY if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _lines(logs: LogCapture | None) -> tuple[str, ...]:
    return () if logs is None else tuple(logs.lines())


def _merged(reads: list[ReadSet], kind: str) -> ReadSet | None:
    if kind != "query":
        return None
    merged = ReadSet()
    for read_set in reads:
        merged = merged.union(read_set)
    return merged
