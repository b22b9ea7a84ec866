import { defineConfig } from "vite";

// Vite 8 transforms JSX with oxc itself, so no framework preset is needed: Preact's automatic runtime is enough.
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Never inline assets as data: URLs, so the CSP can stay at 'self' for every resource type.
    assetsInlineLimit: 0,
    // The module preload polyfill is an inline-free script, but the console targets evergreen browsers only.
    modulePreload: { polyfill: false },
    target: "es2022",
  },
  server: {
    // `npm run dev -w console` proxies the API to a local server (make start).
    proxy: { "/v1": "http://127.0.0.1:8080" },
  },
});
