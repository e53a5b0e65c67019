"""Session-wide test settings: after collection, what has been loaded (the library, botocore's and moto's models,
every test module and item: ~170k objects) is frozen out of the garbage collector's reach.

Each full collection in the pytest process walked all of it again — 0.1 to 0.6 s a time on the 2-core CI machine,
several times a minute in the DynamoDB packages, whose runtimes and botocore clients leave reference cycles behind.
A pause like that inside a test that times a request against its time budget is a stall the request did not
cause. Frozen objects stay alive (they would anyway: modules and test items live until the session ends); what
tests create afterwards is collected as before.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()
