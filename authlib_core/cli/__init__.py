"""The ``authlib-core`` command line (also ``python -m authlib_core``). See :mod:`authlib_core.cli.main`."""
