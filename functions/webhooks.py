"""What the webhook of ``http.py`` writes: one note per delivered event id (senders retry deliveries)."""

from authlib_core import internal_mutation, v


@internal_mutation(args={"eventId": v.string(), "email": v.string(), "text": v.string()})
def addNote(ctx, eventId, email, text):
    """Add ``text`` to the notes of the user with ``email``, once per ``eventId``; None when there is no such user."""
    seen = ctx.db.query("webhookEvents").with_index("by_event_id", lambda q: q.eq("eventId", eventId)).unique()
    if seen is not None:
        return {"noteId": seen["noteId"], "duplicate": True}
    user = ctx.db.query("users").with_index("by_email", lambda q: q.eq("email", email.lower())).unique()
    if user is None:
        return None
    note_id = ctx.db.insert("myData", {"userId": user["_id"], "text": text})
    ctx.db.insert("webhookEvents", {"eventId": eventId, "noteId": note_id})
    return {"noteId": note_id, "duplicate": False}
