import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The built page (dist/) is served by `python -m authlib_core dev` on the same origin as the API.
// For hot-reloading work on the page itself, `npm run dev` proxies the API to a running dev server
// (AUTHLIB_API, default http://127.0.0.1:3210), so the page still talks to its own origin.
const api = process.env.AUTHLIB_API ?? "http://127.0.0.1:3210";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": { target: api, changeOrigin: false } },
  },
  build: { outDir: "dist", sourcemap: true },
});
