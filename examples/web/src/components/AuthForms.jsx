// Sign-up and sign-in with email and password through Better Auth's client, "forgot password" and the
// new-password form the reset link leads to, and the "Sign in with ..." buttons. A successful sign-in
// flips the client's session signal, so useSession refetches and the page switches by itself.
import { useState } from "react";
import { authClient } from "../lib/clients.js";
import { describeAuthError } from "../lib/errors.js";
import { landing } from "../lib/landing.js";
import ErrorAlert from "./ErrorAlert.jsx";
import SocialSignIn from "./SocialSignIn.jsx";

function EmailField({ testId }) {
  return (
    <label>
      Email
      <input name="email" type="email" autoComplete="email" required data-testid={testId} />
    </label>
  );
}

// A new password (sign-up, reset) has the server's minimum length; a current one is checked only there.
function PasswordField({ label, name, testId, isNew }) {
  return (
    <label>
      {label}
      <input
        name={name}
        type="password"
        autoComplete={isNew ? "new-password" : "current-password"}
        minLength={isNew ? 8 : undefined}
        required
        data-testid={testId}
      />
    </label>
  );
}

function useSubmit(action) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  async function onSubmit(event) {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.currentTarget));
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await action(fields);
      if (error) setError(describeAuthError(error));
      else setDone(data ?? true);
    } catch (err) {
      setError(err?.message || String(err));
    } finally {
      setBusy(false);
    }
  }
  return { error, done, busy, onSubmit };
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
      <EmailField testId="signup-email" />
      <PasswordField label="Password" name="password" testId="signup-password" isNew />
      <button type="submit" disabled={busy} data-testid="signup-submit">
        Create account
      </button>
      <ErrorAlert message={error} testId="signup-error" />
    </form>
  );
}

// The same answer whether or not the address has an account (the server pads it to the same time).
function ForgotPasswordForm({ onBack }) {
  const { error, done, busy, onSubmit } = useSubmit(({ email }) =>
    authClient.requestPasswordReset({ email, redirectTo: "/?view=reset" }),
  );
  return (
    <form className="card" aria-labelledby="forgot-title" data-testid="forgot-form" onSubmit={onSubmit}>
      <h2 id="forgot-title">Forgot password</h2>
      <EmailField testId="forgot-email" />
      <button type="submit" disabled={busy} data-testid="forgot-submit">
        Email me a reset link
      </button>
      {done && (
        <p role="status" data-testid="forgot-sent">
          {done.message}
        </p>
      )}
      <ErrorAlert message={error} testId="forgot-error" />
      <button type="button" className="link" onClick={onBack} data-testid="forgot-back">
        Back to sign in
      </button>
    </form>
  );
}

// Where the emailed reset link lands: /?view=reset&token=... (or &error=INVALID_TOKEN).
function ResetPasswordForm({ token, onDone }) {
  const { error, done, busy, onSubmit } = useSubmit(({ newPassword }) =>
    authClient.resetPassword({ newPassword, token }),
  );
  return (
    <form className="card" aria-labelledby="reset-title" data-testid="reset-form" onSubmit={onSubmit}>
      <h2 id="reset-title">Choose a new password</h2>
      {done ? (
        <>
          <p role="status" data-testid="reset-done">
            Your password is changed and every session was signed out. Sign in with the new password.
          </p>
          <button type="button" onClick={onDone} data-testid="reset-continue">
            Continue to sign in
          </button>
        </>
      ) : (
        <>
          <PasswordField label="New password" name="newPassword" testId="reset-password" isNew />
          <button type="submit" disabled={busy} data-testid="reset-submit">
            Set new password
          </button>
        </>
      )}
      <ErrorAlert message={error} testId="reset-error" />
    </form>
  );
}

function SignInForm({ onForgot }) {
  const { error, busy, onSubmit } = useSubmit(({ email, password }) =>
    authClient.signIn.email({ email, password }),
  );
  return (
    <form className="card" aria-labelledby="signin-title" data-testid="signin-form" onSubmit={onSubmit}>
      <h2 id="signin-title">Sign in</h2>
      <EmailField testId="signin-email" />
      <PasswordField label="Password" name="password" testId="signin-password" />
      <button type="submit" disabled={busy} data-testid="signin-submit">
        Sign in
      </button>
      <ErrorAlert message={error} testId="signin-error" />
      <button type="button" className="link" onClick={onForgot} data-testid="forgot-link">
        Forgot password?
      </button>
    </form>
  );
}

export default function AuthForms() {
  const [view, setView] = useState(landing.view === "reset" && landing.token ? "reset" : "sign-in");
  if (view === "reset") return <ResetPasswordForm token={landing.token} onDone={() => setView("sign-in")} />;
  return (
    <div className="grid">
      <SignUpForm />
      {view === "forgot" ? (
        <ForgotPasswordForm onBack={() => setView("sign-in")} />
      ) : (
        <SignInForm onForgot={() => setView("forgot")} />
      )}
      <SocialSignIn />
    </div>
  );
}
