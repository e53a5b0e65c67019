"""Concrete storage engines, imported lazily so that only the chosen one is loaded.

``create_engine(settings)`` is the one factory; it is called by the composition root
(``authlib_core.runtime``), never by the layers above the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from authlib_core.config import Settings
    from authlib_core.database.interface import StorageEngine

__all__ = ["create_engine"]


def create_engine(settings: Settings) -> StorageEngine:
    """Build the engine named by ``settings.engine``.

    Example:
        >>> from authlib_core.config import Settings
        >>> settings = Settings(engine="sqlite", sqlite_path=Path(".authlib/dev.sqlite3"))
        >>> engine = create_engine(settings)  # doctest: +SKIP
    """
    if settings.engine == "sqlite":
        from authlib_core.database.engines.sqlite import SQLiteEngine

        return SQLiteEngine(settings.sqlite_path)
    if settings.engine == "dynamodb":
        from authlib_core.database.engines.dynamodb import engine_from_settings

        return engine_from_settings(settings)
    raise ConfigError(f"unknown engine {settings.engine!r}; use 'sqlite' or 'dynamodb'.")
