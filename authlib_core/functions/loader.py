"""``load_functions``: import every module of a functions folder and build the :class:`Registry`.

Which files are function modules (their module-level functions get paths):

- every ``*.py`` file in the folder and its sub-folders, named by its path: ``admin/users.py`` is ``admin/users``;
  ``admin/__init__.py`` is ``admin`` too (so ``admin.py`` beside it is a duplicate and an error);
- **not** the top-level ``__init__.py`` (the folder may be a package or not), nor ``schema.py`` (its ``schema``
  attribute is loaded as the app's schema), nor ``auth_config.py`` (its ``providers`` list names the identity
  providers whose JWTs are accepted, see :mod:`authlib_core.auth.jwt_config`; its optional ``on_user_created``
  / ``on_user_deleted`` name mutations run in the transaction that creates / deletes a user, ``after_user_deleted``
  a mutation or action scheduled by that deletion, ``delete_user = True`` serves ``POST /api/auth/delete-user`` and
  ``delete_user_verification = True`` makes it mail a confirmation link), nor ``http.py`` (its ``http`` attribute
  is loaded as the app's HTTP action router, see :mod:`authlib_core.functions.http_router`), nor ``crons.py`` (its
  ``crons`` attribute declares the cron jobs, see :mod:`authlib_core.functions.crons`);
- **not** files or folders whose name starts with ``_`` (``_helpers.py``, ``_lib/``) or ``.``: put shared helpers
  there. Function modules may import them (``from functions._helpers import ...`` or relatively).

A function is registered in the module whose body applied its decorator; importing it into another function
module (to call ``ctx.run_query(getMyData, ...)``) does not register it twice.

Example:
    >>> from pathlib import Path
    >>> app = load_functions(Path("functions"))                       # doctest: +SKIP
    >>> app.registry.lookup("myData:getMyData", public_only=True)     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import importlib
import keyword
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from authlib_core.errors import AuthlibError, FunctionLoadError
from authlib_core.functions._importing import forget_package, install_finder, loaded_by_us, owned_by
from authlib_core.functions.kinds import Kind
from authlib_core.functions.paths import identifier_problem, make_path
from authlib_core.functions.registry import RegisteredFunction, Registry
from authlib_core.functions.spec import FunctionDefinition
from authlib_core.schema import Schema

if TYPE_CHECKING:
    import types

    from authlib_core.auth.jwt_config import CustomJWTProvider, OIDCProvider
    from authlib_core.auth.social_config import SocialProvider
    from authlib_core.functions.crons import CronJob
    from authlib_core.functions.http_router import HttpRouter

__all__ = ["RESERVED_MODULES", "LoadedApp", "load_functions"]

#: Top-level module names that are never function modules (``schema`` is loaded for its ``schema`` attribute).
RESERVED_MODULES = frozenset({"schema", "auth_config", "http", "crons"})

_DEFAULT_PACKAGE = "authlib_user_functions"
_MISSING = object()


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedApp:
    """The result of loading a functions folder."""

    registry: Registry
    #: The ``schema`` attribute of ``schema.py``, or ``None`` when the folder has no ``schema.py``.
    schema: Schema | None
    #: Every ``.py`` file of the folder (what a reloader watches).
    source_files: tuple[Path, ...]
    #: The ``providers`` of ``auth_config.py`` (identity from external JWTs); empty without that file.
    auth_providers: tuple[OIDCProvider | CustomJWTProvider, ...] = ()
    #: The ``http`` router of ``http.py`` (HTTP actions); ``None`` without that file.
    http: HttpRouter | None = None
    #: The cron jobs of ``crons.py``, each with its function resolved to a path; empty without that file.
    crons: tuple[CronJob, ...] = ()
    #: ``on_user_created`` of ``auth_config.py``: the path of a mutation run with ``{"userId": id}`` in the
    #: transaction that creates a user (so it can schedule a welcome email atomically with the sign-up).
    on_user_created: str | None = None
    #: ``on_user_deleted`` of ``auth_config.py``: the path of a mutation run with ``{"userId": id}`` in the
    #: transaction that deletes a user (``POST /delete-user``), so the app's own documents go with the account.
    on_user_deleted: str | None = None
    #: ``after_user_deleted`` of ``auth_config.py``: the path of a mutation or action scheduled (to run right after
    #: the commit) by the transaction that deletes a user, with ``{"userId", "email", "name"}`` of the deleted user.
    after_user_deleted: str | None = None
    #: ``delete_user_verification`` of ``auth_config.py``: ``POST /delete-user`` mails a confirmation link instead of
    #: deleting (Better Auth's ``sendDeleteAccountVerification``; ``AUTHLIB_DELETE_USER_VERIFICATION`` overrides it).
    delete_user_verification: bool = False
    #: ``delete_user`` of ``auth_config.py``: whether ``POST /delete-user`` is served (Better Auth's
    #: ``user.deleteUser.enabled``, off by default; ``AUTHLIB_DELETE_USER`` overrides it).
    delete_user: bool = False
    #: The ``social_providers`` of ``auth_config.py`` (``POST /sign-in/social``); empty without them.
    social_providers: tuple[SocialProvider, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class _Module:
    file: Path  # as shown in messages
    module_path: str  # "admin/users"
    import_name: str  # "functions.admin.users"


def load_functions(functions_dir: Path, *, package_name: str | None = None) -> LoadedApp:
    """Import every function module of ``functions_dir`` and return the registry and schema.

    Calling it again re-imports everything from source, so the result reflects the files as they are now (the dev
    server reloads this way). Modules are imported as ``<package_name>.<module>``; ``package_name`` defaults to the
    folder's name (``functions``), so function modules can import each other absolutely
    (``from functions.myData import getMyData``) as well as relatively.

    Raises:
        FunctionLoadError: the folder is missing; a module fails to import; a module path or function name is not a
            valid identifier; two files map to one module path; ``args=`` does not match a handler. The message
            names the file (and the function).

    Common mistake: a module-level side effect (opening a connection, reading the network) in a function module. It
    runs on every load and on every cold start; do it lazily inside an action.
    """
    root = functions_dir.resolve()
    if not root.is_dir():
        raise FunctionLoadError(f"{functions_dir}: the functions folder does not exist (or is not a folder)")
    package = package_name or (root.name if _is_importable_name(root.name) else _DEFAULT_PACKAGE)
    if not all(_is_importable_name(part) for part in package.split(".")) or "." in package:
        raise FunctionLoadError(f"{functions_dir}: package name {package!r} is not a valid Python module name")
    existing = sys.modules.get(package)
    # A package this loader imported earlier (from any folder) may be replaced; anything else is someone's module.
    if existing is not None and not owned_by(existing, root) and not loaded_by_us(existing):
        raise FunctionLoadError(
            f"{functions_dir}: the module name {package!r} is already taken by "
            f"{getattr(existing, '__file__', existing)}; "
            "pass package_name= (or AUTHLIB_FUNCTIONS_DIR pointing at a differently named folder)"
        )
    forget_package(package)
    install_finder(package, root)
    try:
        return _load(functions_dir, root, package)
    except BaseException:
        forget_package(package)
        raise


def _load(shown_dir: Path, root: Path, package: str) -> LoadedApp:
    source_files = tuple(sorted(p for p in root.rglob("*.py") if not _hidden(p.relative_to(root))))
    modules = _function_modules(shown_dir, root, package, source_files)
    _import(shown_dir / "__init__.py" if (root / "__init__.py").is_file() else shown_dir, package, root)
    schema = _load_schema(shown_dir, root, package)
    auth = _load_auth_config(shown_dir, root, package)
    http = _load_http_router(shown_dir, root, package)
    imported = {module.import_name: _import(module.file, module.import_name, root) for module in modules}
    functions: list[RegisteredFunction] = []
    for module in modules:
        functions.extend(_definitions(module, imported[module.import_name], set(imported)))
    registry = Registry(functions)
    return LoadedApp(
        registry=registry,
        schema=schema,
        source_files=source_files,
        auth_providers=auth.providers,
        http=http,
        social_providers=auth.social_providers,
        crons=_load_crons(shown_dir, root, package, registry),
        on_user_created=_resolve_user_hook(shown_dir, "on_user_created", auth.on_user_created, registry),
        on_user_deleted=_resolve_user_hook(shown_dir, "on_user_deleted", auth.on_user_deleted, registry),
        after_user_deleted=_resolve_user_hook(shown_dir, "after_user_deleted", auth.after_user_deleted, registry),
        delete_user=auth.delete_user,
        delete_user_verification=auth.delete_user_verification,
    )


def _load_crons(shown_dir: Path, root: Path, package: str, registry: Registry) -> tuple[CronJob, ...]:
    if not (root / "crons.py").is_file():
        return ()
    from authlib_core.functions.crons import Crons  # only apps with crons.py load it

    shown = shown_dir / "crons.py"
    try:
        module = _import(shown, f"{package}.crons", root)
    except FunctionLoadError as exc:
        raise FunctionLoadError(
            exc.message.replace("the module failed to import", "the cron jobs are invalid")
        ) from None
    crons: object = getattr(module, "crons", None)
    if not isinstance(crons, Crons):
        raise FunctionLoadError(
            f"{shown}: defines no `crons`; write `crons = cron_jobs()` (from authlib_core) and add jobs to it "
            "(or delete the file)"
        )
    resolved: list[CronJob] = []
    for job in crons:
        try:
            function = registry.resolve(job.function, public_only=False)
        except AuthlibError as exc:
            raise FunctionLoadError(f"{shown}: cron job {job.name!r}: {exc.message}") from None
        if function.definition.kind is Kind.QUERY:
            raise FunctionLoadError(
                f"{shown}: cron job {job.name!r} runs {function.path}, a query; cron jobs run mutations or actions"
            )
        resolved.append(dataclasses.replace(job, function=function.path))
    return tuple(resolved)


def _function_modules(shown_dir: Path, root: Path, package: str, files: tuple[Path, ...]) -> list[_Module]:
    by_path: dict[str, _Module] = {}
    for file in files:
        rel = file.relative_to(root)
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
            if not parts:
                continue  # the top-level __init__.py: the package itself, not a function module
        if any(part.startswith("_") for part in parts):
            continue
        if len(parts) == 1 and parts[0] in RESERVED_MODULES:
            continue
        shown = shown_dir / rel
        for part in parts:
            problem = identifier_problem(part)
            if problem is not None:
                raise FunctionLoadError(f"{shown}: module path segment {part!r} {problem}; rename the file or folder")
            if keyword.iskeyword(part):
                raise FunctionLoadError(f"{shown}: module path segment {part!r} is a Python keyword; rename it")
        module_path = "/".join(parts)
        module = _Module(file=shown, module_path=module_path, import_name=".".join([package, *parts]))
        other = by_path.get(module_path)
        if other is not None:
            raise FunctionLoadError(
                f"{other.file} and {shown} both define module path {module_path!r}; keep one of them"
            )
        by_path[module_path] = module
    for module_path, module in by_path.items():
        parts = module_path.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            blocker = by_path.get(prefix)
            if blocker is not None and not blocker.file.name == "__init__.py":
                raise FunctionLoadError(
                    f"{blocker.file} hides the folder beside it that holds {module.file}: Python cannot import a "
                    f"module and a folder both named {parts[depth - 1]!r}; rename one of them"
                )
    return [by_path[key] for key in sorted(by_path)]


def _load_schema(shown_dir: Path, root: Path, package: str) -> Schema | None:
    if not (root / "schema.py").is_file():
        return None
    module = _import(shown_dir / "schema.py", f"{package}.schema", root)
    if not hasattr(module, "schema"):
        raise FunctionLoadError(
            f"{shown_dir / 'schema.py'}: defines no `schema`; write `schema = define_schema({{...}})` "
            "(or delete the file to run without a schema)"
        )
    schema: object = module.schema
    if not isinstance(schema, Schema):
        raise FunctionLoadError(
            f"{shown_dir / 'schema.py'}: `schema` is a {type(schema).__name__}, not a schema; write "
            "`schema = define_schema({...})` with define_schema from authlib_core"
        )
    return schema


@dataclasses.dataclass(frozen=True, slots=True)
class _AuthConfig:
    providers: tuple[OIDCProvider | CustomJWTProvider, ...] = ()
    social_providers: tuple[SocialProvider, ...] = ()
    on_user_created: object = None
    on_user_deleted: object = None
    after_user_deleted: object = None
    delete_user: bool = False
    delete_user_verification: bool = False


#: The names ``auth_config.py`` may define besides ``providers`` and ``social_providers``.
_AUTH_CONFIG_EXTRAS = (
    "on_user_created",
    "on_user_deleted",
    "after_user_deleted",
    "delete_user",
    "delete_user_verification",
)
_SWITCHES = {
    "delete_user": "serve POST /api/auth/delete-user",
    "delete_user_verification": "POST /api/auth/delete-user mails a confirmation link",
}


def _load_auth_config(shown_dir: Path, root: Path, package: str) -> _AuthConfig:
    """What ``auth_config.py`` declares (nothing without the file)."""
    if not (root / "auth_config.py").is_file():
        return _AuthConfig()
    shown = shown_dir / "auth_config.py"
    module = _import(shown, f"{package}.auth_config", root)
    if not any(hasattr(module, name) for name in ("providers", "social_providers", *_AUTH_CONFIG_EXTRAS)):
        raise FunctionLoadError(
            f"{shown}: defines neither `providers` nor `social_providers`; write `providers = "
            "[OIDCProvider(domain=..., application_id=...)]` (JWT issuers) and/or `social_providers = "
            "[GitHubSignIn(client_id=...)]` (sign-in buttons), from authlib_core.auth (or delete the file)"
        )
    for switch, meaning in _SWITCHES.items():
        value: object = getattr(module, switch, False)
        if not isinstance(value, bool):
            raise FunctionLoadError(f"{shown}: {switch} must be True ({meaning}) or False, got {type(value).__name__}")
    try:
        return _AuthConfig(
            providers=_providers(module),
            social_providers=_social_providers(module),
            on_user_created=getattr(module, "on_user_created", None),
            on_user_deleted=getattr(module, "on_user_deleted", None),
            after_user_deleted=getattr(module, "after_user_deleted", None),
            delete_user=getattr(module, "delete_user", False),
            delete_user_verification=getattr(module, "delete_user_verification", False),
        )
    except ValueError as exc:
        raise FunctionLoadError(f"{shown}: {exc}") from None


def _providers(module: types.ModuleType) -> tuple[OIDCProvider | CustomJWTProvider, ...]:
    """``providers`` of ``auth_config.py``, checked; the provider classes load only when the file declares some."""
    if not hasattr(module, "providers"):
        return ()
    from authlib_core.auth.jwt_config import parse_providers

    return parse_providers(module.providers)


def _social_providers(module: types.ModuleType) -> tuple[SocialProvider, ...]:
    """``social_providers`` of ``auth_config.py``, checked; loaded only when the file declares them."""
    if not hasattr(module, "social_providers"):
        return ()
    from authlib_core.auth.social_config import parse_social_providers

    return parse_social_providers(module.social_providers)


def _resolve_user_hook(shown_dir: Path, name: str, hook: object, registry: Registry) -> str | None:
    """The path of the mutation ``name`` (``on_user_created`` / ``on_user_deleted``) names, run with ``{"userId"}``;
    for ``after_user_deleted`` a mutation or an action (it is scheduled, not run in the deletion)."""
    if hook is None:
        return None
    shown = shown_dir / "auth_config.py"
    if not isinstance(hook, str | FunctionDefinition):
        raise FunctionLoadError(
            f"{shown}: {name} must be a mutation or its 'module:function' path, got {type(hook).__name__}"
        )
    try:
        function = registry.resolve(hook, public_only=False)
    except AuthlibError as exc:
        raise FunctionLoadError(f"{shown}: {name}: {exc.message}") from None
    if name == "after_user_deleted":
        if function.definition.kind is Kind.QUERY:
            raise FunctionLoadError(
                f"{shown}: {name} names {function.path}, a query; it must be a mutation or an action (it is "
                "scheduled by the transaction that deletes the user)"
            )
        return function.path
    if function.definition.kind is not Kind.MUTATION:
        verb = "creates" if name == "on_user_created" else "deletes"
        raise FunctionLoadError(
            f"{shown}: {name} names {function.path}, a {function.definition.kind.value}; it must be a "
            f"mutation (it runs in the transaction that {verb} the user)"
        )
    return function.path


def _load_http_router(shown_dir: Path, root: Path, package: str) -> HttpRouter | None:
    if not (root / "http.py").is_file():
        return None
    from authlib_core.functions.http_router import HttpRouter  # only apps with http.py load it

    shown = shown_dir / "http.py"
    module = _import(shown, f"{package}.http", root)
    router: object = getattr(module, "http", _MISSING)
    if isinstance(router, HttpRouter):
        return router
    found = "defines no `http`" if router is _MISSING else f"`http` is a {type(router).__name__}, not a router"
    raise FunctionLoadError(
        f"{shown}: {found}; write `http = http_router()` (from authlib_core) and add routes with "
        "http.route(path=..., method=..., handler=...) (or delete the file to serve no HTTP actions)"
    )


def _import(shown: Path, import_name: str, root: Path) -> types.ModuleType:
    try:
        return importlib.import_module(import_name)
    except FunctionLoadError:
        raise
    except SyntaxError as exc:
        where = f"{exc.filename or shown}:{exc.lineno}" if exc.lineno else str(shown)
        raise FunctionLoadError(f"{where}: SyntaxError: {exc.msg} (while importing {shown})") from exc
    except Exception as exc:
        line = _user_line(exc, root)
        raise FunctionLoadError(f"{shown}: the module failed to import{line}: {type(exc).__name__}: {exc}") from exc


def _user_line(exc: BaseException, root: Path) -> str:
    """`` (line N of file)`` for the innermost traceback frame inside the functions folder, if any."""
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.is_absolute() and (root in path.resolve().parents):
            found = f" (line {frame.lineno} of {path.name})"
    return found


def _definitions(module: _Module, imported: types.ModuleType, function_modules: set[str]) -> list[RegisteredFunction]:
    found: list[RegisteredFunction] = []
    for name, value in vars(imported).items():
        if not isinstance(value, FunctionDefinition):
            continue
        if value.module != module.import_name and value.module in function_modules:
            continue  # imported from another function module, which registers it
        problem = identifier_problem(name)
        if problem is not None:
            raise FunctionLoadError(f"{module.file}: function name {name!r} {problem}; rename it")
        found.append(RegisteredFunction(make_path(module.module_path, name), value))
    return found


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def _is_importable_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)
