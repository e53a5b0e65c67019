// The signed-in user's profile: three states from Better Auth's useSession.
import { authClient } from "../lib/clients.js";

export default function UserProfile() {
  const { data: session, isPending } = authClient.useSession();

  let text;
  if (isPending) text = "Loading...";
  else if (!session) text = "Not authenticated";
  else text = `Welcome, ${session.user.email}`;

  return (
    <div className="profile" data-testid="user-profile" aria-live="polite">
      {text}
    </div>
  );
}
