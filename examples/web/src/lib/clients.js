// The two published clients, pointed at the page's own origin: the dev server (and, in production,
// one site behind a custom domain) serves the page and the API together, so the HttpOnly session
// cookie rides along with every request and no token ever lives in JavaScript.
import { createAuthClient } from "better-auth/react";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";

const origin = window.location.origin;

// Better Auth's client: requests go to `${origin}/api/auth/*` with credentials: "include".
export const authClient = createAuthClient({ baseURL: origin });

// Convex's HTTP client: POST `${origin}/api/query` and `/api/mutation`. It sets no `credentials`,
// so fetch uses its default, "same-origin", which sends the session cookie to this origin.
// The URL check only accepts *.convex.cloud and localhost, hence skipConvexDeploymentUrlCheck.
export const convex = new ConvexHttpClient(origin, { skipConvexDeploymentUrlCheck: true });

// No code generation: anyApi.myData.getMyData is the function reference "myData:getMyData".
export const api = anyApi;
