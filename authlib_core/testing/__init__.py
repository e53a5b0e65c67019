"""Testing your functions: :class:`TestBackend` runs them on a fresh temporary store (like ``convex-test``).

Example (``tests/test_notes.py``)::

    from authlib_core import ConvexError
    from authlib_core.testing import TestBackend
    import pytest

    def test_add_and_list():
        with TestBackend("functions") as t:
            alice = t.create_user(email="alice@example.com")
            alice.mutation("myData:add", text="hello")
            assert [n["text"] for n in alice.query("myData:getMyData")] == ["hello"]
            with pytest.raises(ConvexError):
                t.query("myData:getMyData")          # anonymous

See docs/testing.md for the whole API.
"""

from __future__ import annotations

from authlib_core.testing.backend import TEST_ISSUER, RunCtx, TestBackend

__all__ = ["TEST_ISSUER", "RunCtx", "TestBackend"]
