import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served by the API at /ui; the build lands beside the API's code so its PEX carries it.
export default defineConfig({
  base: "/ui/",
  plugins: [react()],
  build: {
    outDir: "../api/autoloader_api/console",
    emptyOutDir: true,
    // No inline scripts or data: modules: the API's Content-Security-Policy forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
});
