import { defineConfig } from "vite";

// No inline script or style anywhere (the console's content security policy forbids both),
// no assets inlined as data: URLs, every file hashed so it can be cached for good.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: {} },
});
