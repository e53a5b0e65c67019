"""Does moto apply DynamoDB requests atomically across threads? Run: python bench/moto_atomicity.py

Without the test harness lock (tests/dynamodb/harness.py), moto 5.2 loses increments, erases committed
inserts (a failed transaction restores a deep copy of the whole table) and raises RuntimeErrors. Prints what
it saw; never fails. See docs/dynamodb.md, "What moto does not model".
"""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.update(AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION="us-east-1")
from moto import mock_aws

from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client, create_tables
from authlib_core.errors import ConflictError
from tests.dynamodb.helpers import insert, specs, update_op

with mock_aws():
    c = create_client(region="us-east-1")
    create_tables(c, {"documents": "d", "sessions": "s"})
    idx = specs()
    e = DynamoDBEngine(c, "d")
    # a second table that other threads fill, to expose the whole-table rollback
    cid = insert(e, "items", {"group": "c", "value": 0.0}, idx)
    errors = []
    inserted = []

    def inc():
        for _ in range(25):
            while True:
                tx = e.begin("write")
                r = tx.get(cid)
                try:
                    tx.commit([update_op(r, {"group": "c", "value": r.value["value"] + 1}, idx)])
                    break
                except ConflictError:
                    pass
                except Exception as x:
                    errors.append(repr(x)[:120])
                    break

    def ins():
        for _ in range(50):
            try:
                inserted.append(insert(e, "items", {"group": "z"}, idx))
            except Exception as x:
                errors.append(repr(x)[:120])

    ts = [threading.Thread(target=inc) for _ in range(6)] + [threading.Thread(target=ins) for _ in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    tx = e.begin("read")
    print("counter", tx.get(cid).value["value"], "expected 150")
    print("inserted docs present", sum(1 for i in inserted if e.begin("read").get(i)), "of", len(inserted))
    print("errors", len(errors), errors[:3])
