// "Verify your email": shown while the signed-in user's address is unverified. The button mails a
// link (POST /api/auth/send-verification-email); opening it (GET /api/auth/verify-email) marks the
// address verified and comes back to /?verified=1.
import { useState } from "react";
import { authClient } from "../lib/clients.js";
import { describeAuthError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

export default function VerifyEmail({ user }) {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (user.emailVerified) return null;

  async function send() {
    setBusy(true);
    setError(null);
    const { error } = await authClient.sendVerificationEmail({ email: user.email, callbackURL: "/?verified=1" });
    setBusy(false);
    if (error) setError(describeAuthError(error));
    else setSent(true);
  }

  return (
    <section className="card notice" aria-labelledby="verify-title" data-testid="verify-email">
      <h2 id="verify-title">Verify your email</h2>
      <p>
        {user.email} is not verified yet.{" "}
        {sent ? <span data-testid="verify-sent">Check your inbox for the link.</span> : null}
      </p>
      <button type="button" onClick={send} disabled={busy} data-testid="verify-send">
        {sent ? "Send again" : "Send verification email"}
      </button>
      <ErrorAlert message={error} testId="verify-error" />
    </section>
  );
}
