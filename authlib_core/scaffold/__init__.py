"""``authlib-core init``: a new project (functions, tests, SAM template, build files) from one source.

See :mod:`authlib_core.scaffold.project` (what is written) and :mod:`authlib_core.scaffold.shared` (how the SAM
template and build files stay identical to this repository's own).
"""

from __future__ import annotations

from authlib_core.scaffold.project import ScaffoldError, init_project, project_files, project_name

__all__ = ["ScaffoldError", "init_project", "project_files", "project_name"]
