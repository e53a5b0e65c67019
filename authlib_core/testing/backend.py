"""``TestBackend``: your functions on a fresh temporary store, called from plain ``pytest`` tests.

Each backend owns a new SQLite file in a temporary folder (deleted by :meth:`TestBackend.close`, or when the
backend is garbage-collected), so tests never see each other's documents. The functions folder is imported once
per process and re-imported only when one of its files changes, which keeps a backend cheap to build: hundreds of
tests take seconds (``python -m bench.testing_helper`` measures it).

Calls go through the same executor as the dev server and Lambda: arguments are validated against ``args=``,
queries run in a read transaction, mutations in a write transaction, results are Convex values (a plain ``int``
comes back as a ``float``, as over the wire). Internal functions can be called too, as in ``convex-test``.

Example:
    >>> from authlib_core.testing import TestBackend
    >>> with TestBackend("functions") as t:                          # doctest: +SKIP
    ...     alice = t.create_user(email="alice@example.com")
    ...     note_id = alice.mutation("myData:add", text="hello")
    ...     [note["text"] for note in alice.query("myData:getMyData")]
    ['hello']
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from authlib_core.auth.identity import NoAuth, StaticAuth, UserIdentity
from authlib_core.auth.tables import USERS_TABLE
from authlib_core.config import Settings
from authlib_core.errors import ConfigError, FunctionNotFoundError
from authlib_core.functions import Executor, FunctionDefinition, Kind, LoadedApp, load_functions
from authlib_core.functions.http_messages import Request, Response
from authlib_core.runtime import connect_database

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.auth.identity import Auth
    from authlib_core.database import Database
    from authlib_core.functions import DatabaseWriter, FunctionRef
    from authlib_core.values import Value

__all__ = ["TEST_ISSUER", "RunCtx", "TestBackend"]

T = TypeVar("T")

#: The ``issuer`` (and ``tokenIdentifier`` prefix) of identities made by :meth:`TestBackend.with_identity`.
TEST_ISSUER = "https://authlib-core.test"

_apps: dict[Path, tuple[tuple[tuple[str, int, int], ...], LoadedApp]] = {}
_apps_lock = threading.Lock()


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(root.rglob("*.py"))
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def _load(functions_dir: Path) -> LoadedApp:
    """The loaded functions folder, re-imported only when a file of it changed since the last load."""
    root = functions_dir.resolve()
    with _apps_lock:
        fingerprint = _fingerprint(root) if root.is_dir() else ()
        cached = _apps.get(root)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        app = load_functions(functions_dir)
        _apps[root] = (fingerprint, app)
        return app


@dataclasses.dataclass(frozen=True, slots=True)
class RunCtx:
    """What :meth:`TestBackend.run` passes to its callback: ``db`` (read and write) and ``auth``."""

    db: DatabaseWriter
    auth: Auth


@dataclasses.dataclass(slots=True)
class _Store:
    folder: Path
    database: Database
    executor: Executor
    app: LoadedApp
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.database.close()
            shutil.rmtree(self.folder, ignore_errors=True)


class TestBackend:
    """A backend on a fresh temporary store, for tests (the spirit of Convex's ``convex-test``).

    ``functions_dir`` is the folder with your ``schema.py`` and function modules (default ``functions``, relative
    to the current directory; pass an absolute path, e.g. ``Path(__file__).parent.parent / "functions"``, to be
    independent of it). Use it as a context manager or call :meth:`close`; views made by :meth:`with_identity`
    and :meth:`create_user` share the store and need no closing of their own.

    Example (``tests/conftest.py`` and a test)::

        import pytest
        from authlib_core.testing import TestBackend

        @pytest.fixture
        def t():
            with TestBackend("functions") as backend:
                yield backend

        def test_notes_are_private(t):
            alice = t.create_user(email="alice@example.com")
            bob = t.create_user(email="bob@example.com")
            alice.mutation("myData:add", text="mine")
            assert bob.query("myData:getMyData") == []
            assert [n["text"] for n in t.table("myData")] == ["mine"]

    Raises:
        FunctionLoadError: the functions folder is missing or cannot be imported (the message names the file).
    """

    __test__ = False  # not a pytest test class, despite its name
    __slots__ = ("__weakref__", "_auth", "_store", "identity")

    def __init__(self, functions_dir: str | Path = "functions") -> None:
        directory = Path(functions_dir)
        app = _load(directory)
        folder = Path(tempfile.mkdtemp(prefix="authlib-test-"))
        try:
            settings = Settings(
                engine="sqlite",
                functions_dir=directory,
                sqlite_path=folder / "test.sqlite3",
                secrets=(secrets.token_urlsafe(32),),
            )
            database = connect_database(settings, app.schema)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._store = _Store(folder, database, Executor(app.registry, database), app)
        weakref.finalize(self, self._store.close)
        #: The identity calls are made with (``None``: anonymous).
        self.identity: UserIdentity | None = None
        self._auth: Auth = NoAuth()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> TestBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store and delete its temporary folder (idempotent; closes every view of this store)."""
        self._store.close()

    # ------------------------------------------------------------------ identity
    def _view(self, identity: UserIdentity | None) -> TestBackend:
        view = object.__new__(TestBackend)
        view._store = self._store
        view.identity = identity
        view._auth = NoAuth() if identity is None else StaticAuth(identity)
        return view

    @property
    def user_id(self) -> str | None:
        """The signed-in user's id (what ``get_auth_user_id(ctx)`` returns in calls made through this view)."""
        return None if self.identity is None or self.identity.external else self.identity.subject

    def with_identity(
        self,
        identity: UserIdentity | None = None,
        *,
        subject: str | None = None,
        email: str | None = None,
        name: str | None = None,
    ) -> TestBackend:
        """A view of this backend whose calls carry ``identity`` (Convex's ``t.withIdentity``).

        Pass a :class:`~authlib_core.UserIdentity`, or just the fields: ``subject`` defaults to a fixed test user
        id, ``tokenIdentifier`` is ``"<issuer>|<subject>"``. ``with_identity(None)`` without fields is anonymous.
        The identity's user need not exist in the ``users`` table; use :meth:`create_user` when your functions read
        the user document.

        Example:
            >>> t.with_identity(subject="user-1", email="a@example.com").query("whoami:me")  # doctest: +SKIP
        """
        if identity is None and subject is None and email is None and name is None:
            return self._view(None)
        if identity is None:
            subject = subject or "test-user"
            identity = UserIdentity(
                subject=subject,
                token_identifier=f"{TEST_ISSUER}|{subject}",
                issuer=TEST_ISSUER,
                email=email,
                name=name,
            )
        elif subject is not None or email is not None or name is not None:
            raise TypeError("with_identity() takes an identity or fields (subject=, email=, name=), not both")
        return self._view(identity)

    def create_user(self, *, email: str | None = None, name: str = "Test User") -> TestBackend:
        """Insert a user into the ``users`` table (as sign-up does) and return a view signed in as that user.

        ``email`` defaults to a fresh unique address. The user has no password; tests of sign-in itself belong
        against the HTTP server. Needs ``auth_tables`` in your schema.

        Example:
            >>> alice = t.create_user(email="alice@example.com")                     # doctest: +SKIP
            >>> alice.user_id == alice.get(alice.user_id)["_id"]                     # doctest: +SKIP
            True

        Raises:
            ConfigError: the schema has no ``users`` table (spread ``auth_tables`` into it).
            ValueError: a user with this email exists already.
        """
        schema = self._store.app.schema
        if schema is None or USERS_TABLE not in schema.tables:
            raise ConfigError(
                "create_user() needs the users table: spread auth_tables into your schema "
                "(from authlib_core.auth import auth_tables), or use with_identity() for an identity without a user."
            )
        now = float(time.time_ns() // 1_000_000)

        def insert(db: DatabaseWriter) -> str:
            address = email if email is not None else f"user-{uuid.uuid4().hex[:12]}@example.test"
            if db.query(USERS_TABLE).with_index("by_email", lambda q: q.eq("email", address)).first() is not None:
                raise ValueError(f"create_user(): a user with email {address!r} exists already; pick another email")
            fields = {"name": name, "email": address, "emailVerified": False, "createdAt": now, "updatedAt": now}
            return db.insert(USERS_TABLE, fields)

        user_id = self._store.database.run_mutation(insert)
        user = self._store.database.run_query(lambda db: db.get(user_id))
        assert user is not None
        return self._view(
            UserIdentity(
                subject=user_id,
                token_identifier=f"{TEST_ISSUER}|{user_id}",
                issuer=TEST_ISSUER,
                email=str(user["email"]),
                name=str(user["name"]),
                email_verified=False,
            )
        )

    # ------------------------------------------------------------------ calls
    def _path(self, ref: FunctionRef) -> str:
        if isinstance(ref, str):
            return ref
        if not isinstance(ref, FunctionDefinition):
            raise TypeError(f"expected a function path like 'myData:add' or a decorated function, got {ref!r}")
        registry = self._store.app.registry
        try:
            return registry.path_of(ref)
        except FunctionNotFoundError:
            # The same function imported another way (the test imported the module itself): match by module + name.
            module = getattr(ref.handler, "__module__", "") or ""
            tail = module.split(".", 1)[1] if "." in module else module
            path = f"{tail.replace('.', '/')}:{ref.name}"
            if path in registry and registry[path].definition.handler.__qualname__ == ref.handler.__qualname__:
                return path
            raise

    def _call(self, kind: Kind, ref: FunctionRef, args: Mapping[str, Any] | None, kwargs: dict[str, Any]) -> Any:
        if self._store.closed:
            raise RuntimeError("this TestBackend is closed; make a new one (one per test)")
        if args is not None and kwargs:
            raise TypeError("pass the arguments either as a dict or as keywords, not both")
        from authlib_core.values import to_value

        arguments = to_value(dict(args if args is not None else kwargs))
        assert isinstance(arguments, dict)
        return self._store.executor.call(self._path(ref), arguments, kind=kind, auth=self._auth, public_only=False)

    def query(self, ref: FunctionRef, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Run a query by path (``"myData:getMyData"``) or function object; arguments as a dict or keywords.

        Example:
            >>> t.query("tasks:list", {"done": False}) == t.query("tasks:list", done=False)  # doctest: +SKIP
            True

        Raises whatever the function raises (``ConvexError`` included), ``ArgumentValidationError`` for arguments
        that do not match ``args=``, ``WrongFunctionKindError`` when the function is not a query.
        """
        return self._call(Kind.QUERY, ref, args, kwargs)

    def mutation(self, ref: FunctionRef, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Run a mutation (public or internal) in one transaction; see :meth:`query`."""
        return self._call(Kind.MUTATION, ref, args, kwargs)

    def action(self, ref: FunctionRef, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Run an action (its ``ctx.run_query`` / ``run_mutation`` use this store); see :meth:`query`."""
        return self._call(Kind.ACTION, ref, args, kwargs)

    def fetch(
        self,
        method: str,
        path: str,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Call the HTTP action ``functions/http.py`` routes ``method path`` to (Convex's ``t.fetch``).

        ``path`` may carry a query string. The handler runs with this view's identity; what it raises is raised
        here (the servers answer it 500). No route: a 404 ``Response``, as the servers answer.

        Example:
            >>> reply = t.fetch("POST", "/webhooks/notes", body, {"X-Webhook-Signature": sig})  # doctest: +SKIP
            >>> reply.status, reply.json()                                                     # doctest: +SKIP
            (200, {'noteId': '...', 'duplicate': False})
        """
        if self._store.closed:
            raise RuntimeError("this TestBackend is closed; make a new one (one per test)")
        router = self._store.app.http
        route = None if router is None else router.lookup(path.partition("?")[0], method)  # as the servers route
        if route is None:
            return Response({"code": "NotFound", "message": f"No route for {method} {path}"}, status=404)
        content = body.encode("utf-8") if isinstance(body, str) else body
        route_path, _, query = path.partition("?")
        request = Request(
            method,
            f"http://localhost{path}",
            headers=dict(headers or {}),
            body=content,
            path=route_path,
            raw_query=query,
        )
        response = route.handler.handler(self._store.executor.action_context(self._auth), request)
        if not isinstance(response, Response):
            raise TypeError(f"the HTTP action for {method} {path} returned {type(response).__name__}, not a Response")
        return response

    # ------------------------------------------------------------------ direct access
    def run(self, fn: Callable[[RunCtx], T]) -> T:
        """Run ``fn(ctx)`` in one write transaction, ``ctx.db`` being the full ``ctx.db`` (Convex's ``t.run``).

        For seeding and inspecting in ways no function of yours offers. The return value must not hold the
        transaction's objects (return documents or ids, not queries).

        Example:
            >>> t.run(lambda ctx: ctx.db.query("myData").order("desc").first())  # doctest: +SKIP
        """
        return self._store.database.run_mutation(lambda db: fn(RunCtx(db=db, auth=self._auth)))

    def insert(self, table: str, document: Mapping[str, Any]) -> str:
        """Insert one document (validated against the schema) and return its id.

        Example:
            >>> note_id = t.insert("myData", {"userId": alice.user_id, "text": "seeded"})  # doctest: +SKIP
        """
        return self.run(lambda ctx: ctx.db.insert(table, document))

    def get(self, document_id: str) -> dict[str, Value] | None:
        """The document with this id, or ``None``."""
        return self._store.database.run_query(lambda db: db.get(document_id))

    def table(self, name: str) -> list[dict[str, Value]]:
        """Every document of table ``name``, oldest first.

        Example:
            >>> [note["text"] for note in t.table("myData")]  # doctest: +SKIP
            ['hello']
        """
        return self._store.database.run_query(lambda db: db.query(name).collect())
