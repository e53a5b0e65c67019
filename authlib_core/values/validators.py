"""Validator classes: one small frozen dataclass per kind, built through :data:`~authlib_core.values.v`.

This module gathers them in one place: the base class and error from
:mod:`~authlib_core.values.validator`, the scalar kinds from :mod:`~authlib_core.values.scalar_validators`
and the compound kinds from :mod:`~authlib_core.values.compound_validators`.

Example:
    >>> from authlib_core.values import v
    >>> from authlib_core.values.validators import VObject
    >>> isinstance(v.object({}), VObject), v.object({}).kind
    (True, 'object')
"""

from __future__ import annotations

from authlib_core.values.compound_validators import VArray, VObject, VOptional, VRecord, VUnion
from authlib_core.values.scalar_validators import (
    LiteralValue,
    VAny,
    VBoolean,
    VBytes,
    VFloat64,
    VId,
    VInt64,
    VLiteral,
    VNull,
    VString,
)
from authlib_core.values.validator import Validator, ValidatorKind, ValidatorMismatch

__all__ = [
    "LiteralValue",
    "VAny",
    "VArray",
    "VBoolean",
    "VBytes",
    "VFloat64",
    "VId",
    "VInt64",
    "VLiteral",
    "VNull",
    "VObject",
    "VOptional",
    "VRecord",
    "VString",
    "VUnion",
    "Validator",
    "ValidatorKind",
    "ValidatorMismatch",
]
