// The user's sessions (one per signed-in browser or device), from authClient.listSessions().
// Each row can be revoked; "Sign out everywhere else" keeps only this browser's session.
import { useCallback, useEffect, useState } from "react";
import { authClient } from "../lib/clients.js";
import { describeAuthError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

function formatDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

function describeAgent(userAgent) {
  if (!userAgent) return "Unknown device";
  const match = userAgent.match(/(HeadlessChrome|Chrome|Firefox|Safari|Edg)\/[\d.]+/);
  return match ? match[0] : userAgent.slice(0, 40);
}

export default function Sessions({ current }) {
  const [sessions, setSessions] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const { data, error } = await authClient.listSessions();
    if (error) {
      setError(describeAuthError(error));
      return;
    }
    setError(null);
    setSessions(data);
  }, []);

  useEffect(() => {
    load();
  }, [load, current.id]);

  async function run(action) {
    setBusy(true);
    try {
      const { error } = await action();
      if (error) setError(describeAuthError(error));
      else await load();
    } catch (err) {
      setError(err?.message || String(err));
    } finally {
      setBusy(false);
    }
  }

  const isCurrent = (s) => s.id === current.id || (current.token && s.token === current.token);

  return (
    <section className="card" aria-labelledby="sessions-title" data-testid="sessions">
      <div className="card-head">
        <h2 id="sessions-title">Sessions</h2>
        <button type="button" className="secondary" onClick={load} data-testid="sessions-refresh">
          Refresh
        </button>
      </div>
      <ErrorAlert message={error} testId="sessions-error" />
      {sessions === null && !error && <p className="muted">Loading sessions...</p>}
      {sessions !== null && (
        <ul className="list" data-testid="sessions-list">
          {sessions.map((s) => {
            const mine = isCurrent(s);
            return (
              <li key={s.id} className="session" data-testid="session" data-current={mine ? "true" : "false"}>
                <span>
                  <strong>{describeAgent(s.userAgent)}</strong>
                  {mine && (
                    <span className="badge" data-testid="session-current">
                      this browser
                    </span>
                  )}
                  <br />
                  <small className="muted">
                    signed in {formatDate(s.createdAt)}
                    {s.ipAddress ? ` from ${s.ipAddress}` : ""}, expires {formatDate(s.expiresAt)}
                  </small>
                </span>
                <button
                  type="button"
                  className="secondary"
                  disabled={busy}
                  aria-label={mine ? "Revoke this browser's session" : "Revoke session"}
                  data-testid="session-revoke"
                  onClick={() => run(() => authClient.revokeSession({ token: s.token }))}
                >
                  Revoke
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <button
        type="button"
        disabled={busy || !sessions || sessions.length < 2}
        onClick={() => run(() => authClient.revokeOtherSessions())}
        data-testid="sessions-revoke-others"
      >
        Sign out everywhere else
      </button>
    </section>
  );
}
