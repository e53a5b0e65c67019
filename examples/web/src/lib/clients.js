// The two published clients (Better Auth's, Convex's React client), pointed at the page's own origin:
// the dev server (and, in production, one site behind a custom domain) serves the page and the API
// together, so the HttpOnly session cookie rides along with every request and no token ever lives in
// JavaScript.
import { createAuthClient } from "better-auth/react";
import { ConvexReactClient } from "convex/react";

const origin = window.location.origin;

// Better Auth's client: requests go to `${origin}/api/auth/*` with credentials: "include".
export const authClient = createAuthClient({ baseURL: origin });

// Live queries: ConvexReactClient speaks Convex's sync protocol over a WebSocket to the dev server's
// /api/<version>/sync. The browser sends the session cookie with the handshake (same origin), so the
// connection runs as the signed-in user without any token in JavaScript. A session is a connection:
// App creates one client per signed-in session and closes it on sign-out (see LiveData in App.jsx).
export function createLiveClient() {
  // The URL check only accepts *.convex.cloud and localhost, hence skipConvexDeploymentUrlCheck.
  return new ConvexReactClient(origin, { skipConvexDeploymentUrlCheck: true, unsavedChangesWarning: false });
}

// Function references come from src/_generated/api (`authlib-core codegen`): typed in TypeScript,
// plain paths ("myData:add") at run time.
