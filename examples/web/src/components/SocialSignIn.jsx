// "Sign in with ..." buttons for the providers the server declares (functions/auth_config.py's
// social_providers, listed by GET /api/auth/social-providers). signIn.social answers {url, redirect};
// the client then sends the browser to the provider, which sends it back to /api/auth/callback/:id,
// which sets the session cookie and redirects to callbackURL (or errorCallbackURL with ?error=).
import { useEffect, useState } from "react";
import { authClient } from "../lib/clients.js";
import { describeAuthError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

export default function SocialSignIn() {
  const [providers, setProviders] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    authClient.$fetch("/social-providers", { method: "GET" }).then(({ data, error }) => {
      if (error) setError(describeAuthError(error));
      else setProviders(data ?? []);
    });
  }, []);

  async function signIn(provider) {
    setBusy(true);
    setError(null);
    const { error } = await authClient.signIn.social({ provider, callbackURL: "/", errorCallbackURL: "/" });
    if (error) {
      setError(describeAuthError(error));
      setBusy(false);
    } // on success the page is on its way to the provider
  }

  if (!providers.length && !error) return null;
  return (
    <section className="card" aria-labelledby="social-title" data-testid="social-sign-in">
      <h2 id="social-title">Or continue with</h2>
      {providers.map(({ id, name }) => (
        <button
          key={id}
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => signIn(id)}
          data-testid={`social-${id}`}
        >
          Sign in with {name}
        </button>
      ))}
      <ErrorAlert message={error} testId="social-error" />
    </section>
  );
}
