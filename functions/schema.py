"""The example app's tables: the users table that auth owns, each user's notes in ``myData``, and the event ids
the notes webhook has handled (``webhookEvents``, see ``http.py``)."""

from authlib_core import define_schema, define_table, v
from authlib_core.auth import auth_tables

schema = define_schema(
    {
        **auth_tables,
        "myData": define_table({"userId": v.id("users"), "text": v.string()}).index("by_user", ["userId"]),
        "webhookEvents": define_table({"eventId": v.string(), "noteId": v.id("myData")}).index(
            "by_event_id", ["eventId"]
        ),
    }
)
