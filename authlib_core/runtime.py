"""The composition root: ``Settings`` → functions folder, storage engine, database, executor.

Built once per process (per Lambda cold start, per dev-server reload, per CLI command). Nothing else in the package
reads configuration or constructs an engine.

Example:
    >>> from authlib_core.config import Settings
    >>> runtime = build_runtime(Settings(functions_dir=Path("functions")))       # doctest: +SKIP
    >>> runtime.executor.call("myData:getMyData", {}, auth=NoAuth())             # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from authlib_core.functions import Executor, LoadedApp, load_functions

if TYPE_CHECKING:
    from pathlib import Path

    from authlib_core.config import Settings
    from authlib_core.functions import Database

__all__ = ["Runtime", "build_runtime"]


@dataclasses.dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a transport (HTTP, CLI) needs to run functions."""

    settings: Settings
    app: LoadedApp
    database: Database
    executor: Executor

    @property
    def source_files(self) -> tuple[Path, ...]:
        """The files of the functions folder (what the dev server watches to rebuild the runtime)."""
        return self.app.source_files


def build_runtime(settings: Settings, *, database: Database | None = None) -> Runtime:
    """Load ``settings.functions_dir`` and connect to the storage engine ``settings`` names.

    ``database`` replaces the engine-backed database (tests inject one).

    Raises:
        FunctionLoadError: the functions folder cannot be loaded.
        ConfigError: the settings cannot be used.
    """
    app = load_functions(settings.functions_dir)
    if database is None:
        database = _connect(settings, app.schema)
    return Runtime(settings=settings, app=app, database=database, executor=Executor(app.registry, database))


def _connect(settings: Settings, schema: object | None) -> Database:
    # Imported here: the engine modules (and boto3 for DynamoDB) load only when a runtime is really built.
    from authlib_core.database import Database as EngineDatabase  # type: ignore[import-not-found]  # until the database layer lands
    from authlib_core.database.engines import create_engine  # type: ignore[import-not-found]  # until the database layer lands

    database: Database = EngineDatabase(create_engine(settings, schema), schema)
    return database
