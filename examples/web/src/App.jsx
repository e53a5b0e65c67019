import { useState } from "react";
import AuthForms from "./components/AuthForms.jsx";
import ErrorAlert from "./components/ErrorAlert.jsx";
import MyItems from "./components/MyItems.jsx";
import Sessions from "./components/Sessions.jsx";
import UserProfile from "./components/UserProfile.jsx";
import { authClient } from "./lib/clients.js";
import { describeAuthError } from "./lib/errors.js";

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
        {!isPending && !session && <AuthForms />}
        {session && (
          <div className="grid">
            <MyItems userId={session.user.id} />
            <Sessions current={session.session} />
          </div>
        )}
      </main>
    </>
  );
}
