import { ConvexProvider } from "convex/react";
import { useEffect, useMemo, useState } from "react";
import AuthForms from "./components/AuthForms.jsx";
import ErrorAlert from "./components/ErrorAlert.jsx";
import MyItems from "./components/MyItems.tsx";
import Sessions from "./components/Sessions.jsx";
import UserProfile from "./components/UserProfile.jsx";
import VerifyEmail from "./components/VerifyEmail.jsx";
import { authClient, createLiveClient } from "./lib/clients.js";
import { describeAuthError } from "./lib/errors.js";
import { describeLandingError, landing } from "./lib/landing.js";

function SignOutButton() {
  const [error, setError] = useState(null);
  async function onClick() {
    const { error } = await authClient.signOut();
    setError(describeAuthError(error));
  }
  return (
    <>
      <button type="button" className="secondary" onClick={onClick} data-testid="sign-out">
        Sign out
      </button>
      <ErrorAlert message={error} testId="sign-out-error" />
    </>
  );
}

// One live connection per signed-in session: its handshake carries this session's cookie, so a
// sign-in as someone else opens a new connection, and sign-out closes it.
function LiveData({ session }) {
  const client = useMemo(() => createLiveClient(), [session.session.id]);
  useEffect(() => () => void client.close(), [client]);
  return (
    <ConvexProvider client={client}>
      <div className="grid">
        <MyItems />
        <Sessions current={session.session} />
      </div>
    </ConvexProvider>
  );
}

export default function App() {
  const { data: session, isPending, error } = authClient.useSession();

  return (
    <>
      <header className="topbar">
        <span className="brand">authlib-core example</span>
        <UserProfile />
        {session && <SignOutButton />}
      </header>
      <main>
        <ErrorAlert message={describeAuthError(error)} testId="session-error" />
        <ErrorAlert message={describeLandingError(landing.error)} testId="landing-error" />
        {landing.verified && (
          <p className="status" role="status" data-testid="landing-verified">
            Your email address is verified.
          </p>
        )}
        {session && <VerifyEmail user={session.user} />}
        {!isPending && !session && <AuthForms />}
        {session && <LiveData session={session} />}
      </main>
    </>
  );
}
