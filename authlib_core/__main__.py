"""``python -m authlib_core``: the same as the ``authlib-core`` command."""

from __future__ import annotations

from authlib_core.cli.main import main

raise SystemExit(main())
