// The published `convex` npm package's ConvexHttpClient sending an identity provider's JWT with setAuth.
// Usage: CONVEX_URL=http://127.0.0.1:P GOOD_TOKEN=<jwt> EXPIRED_TOKEN=<jwt> node convex-jwt.mjs
// Prints one JSON line: RESULT {...}
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";

const client = new ConvexHttpClient(process.env.CONVEX_URL, { skipConvexDeploymentUrlCheck: true, logger: false });
const out = {};
out.anonymous = await client.query(anyApi.who.me, {});
client.setAuth(process.env.GOOD_TOKEN);
out.signedIn = await client.query(anyApi.who.me, {});
client.setAuth(process.env.EXPIRED_TOKEN);
try {
  await client.query(anyApi.who.me, {});
  out.expired = "no error";
} catch (e) {
  out.expired = e.message;
}
console.log("RESULT " + JSON.stringify(out));
