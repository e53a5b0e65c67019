"""The example app's HTTP actions (docs/http-actions.md): a signed webhook that adds a note to a user's notes.

``POST /webhooks/notes`` with a JSON body ``{"id": "evt_1", "email": "ada@example.com", "text": "..."}`` and the
header ``X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, keyed with ``WEBHOOK_SECRET`` (the
sender and this app share it). The signature is checked over the raw bytes, in constant time, before anything
is parsed; a sender that retries the same event id gets the first delivery's answer, and no second note.

    $ body='{"id":"evt_1","email":"ada@example.com","text":"Hello from the CRM"}'
    $ sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -hex | cut -d' ' -f2)
    $ curl -s localhost:3210/webhooks/notes -H "X-Webhook-Signature: sha256=$sig" -d "$body"
    {"noteId":"...","duplicate":false}
"""

import hashlib
import hmac
import os

from authlib_core import Response, http_action, http_router

SIGNATURE_HEADER = "X-Webhook-Signature"


def signature_of(body: bytes, secret: str) -> str:
    """The header value a sender computes: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@http_action
def notes_webhook(ctx, request):
    """Verify the signature, then add the note once per event id."""
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        return Response({"error": "webhooks are not configured: set WEBHOOK_SECRET"}, status=503)
    presented = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(presented.encode("utf-8"), signature_of(request.body, secret).encode("utf-8")):
        return Response({"error": "invalid signature"}, status=401)
    event = request.json()
    fields = ("id", "email", "text")
    if not isinstance(event, dict) or not all(isinstance(event.get(field), str) for field in fields):
        return Response({"error": "expected a JSON object with string fields id, email and text"}, status=400)
    result = ctx.run_mutation(
        "webhooks:addNote", {"eventId": event["id"], "email": event["email"], "text": event["text"]}
    )
    if result is None:
        return Response({"error": "no user with that email"}, status=404)
    return Response(result)


http = http_router()
http.route(path="/webhooks/notes", method="POST", handler=notes_webhook)
