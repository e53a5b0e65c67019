// Sign-up and sign-in with email and password through Better Auth's client. A successful call
// flips the client's session signal, so useSession refetches and the page switches by itself.
import { useState } from "react";
import { authClient } from "../lib/clients.js";
import { describeAuthError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

function useSubmit(action) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function onSubmit(event) {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.currentTarget));
    setBusy(true);
    setError(null);
    try {
      const { error } = await action(fields);
      if (error) setError(describeAuthError(error));
    } catch (err) {
      setError(err?.message || String(err));
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, onSubmit };
}

function SignUpForm() {
  const { error, busy, onSubmit } = useSubmit(({ name, email, password }) =>
    authClient.signUp.email({ name, email, password }),
  );
  return (
    <form className="card" aria-labelledby="signup-title" data-testid="signup-form" onSubmit={onSubmit}>
      <h2 id="signup-title">Sign up</h2>
      <label>
        Name
        <input name="name" autoComplete="name" required data-testid="signup-name" />
      </label>
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required data-testid="signup-email" />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          data-testid="signup-password"
        />
      </label>
      <button type="submit" disabled={busy} data-testid="signup-submit">
        Create account
      </button>
      <ErrorAlert message={error} testId="signup-error" />
    </form>
  );
}

function SignInForm() {
  const { error, busy, onSubmit } = useSubmit(({ email, password }) =>
    authClient.signIn.email({ email, password }),
  );
  return (
    <form className="card" aria-labelledby="signin-title" data-testid="signin-form" onSubmit={onSubmit}>
      <h2 id="signin-title">Sign in</h2>
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required data-testid="signin-email" />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          data-testid="signin-password"
        />
      </label>
      <button type="submit" disabled={busy} data-testid="signin-submit">
        Sign in
      </button>
      <ErrorAlert message={error} testId="signin-error" />
    </form>
  );
}

export default function AuthForms() {
  return (
    <div className="grid">
      <SignUpForm />
      <SignInForm />
    </div>
  );
}
