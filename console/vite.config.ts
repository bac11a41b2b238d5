import { defineConfig, type Plugin } from "vite";

/** `<link rel="modulepreload">` for the shell's chunk (and the chunks it imports) in index.html: the
 * browser fetches and compiles every screen's code beside the sign-in form's, while the person
 * types, instead of after the first chunk has run. */
function preloadShell(entry = "/src/shell.tsx"): Plugin {
  return {
    name: "leadline-preload-shell",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, context) {
        const chunks = Object.values(context.bundle ?? {}).flatMap((c) => (c.type === "chunk" ? [c] : []));
        const shell = chunks.find((c) => c.facadeModuleId?.endsWith(entry));
        if (!shell) throw new Error(`no chunk is built from ${entry}: the shell must stay its own chunk`);
        const entries = new Set(chunks.filter((c) => c.isEntry).map((c) => c.fileName));
        const files = [shell.fileName, ...shell.imports.filter((f) => !entries.has(f))];
        return files.map((file) => ({ tag: "link", attrs: { rel: "modulepreload", crossorigin: true, href: `/${file}` }, injectTo: "head" as const }));
      },
    },
  };
}

// No inline script or style anywhere (the console's content security policy forbids both),
// no assets inlined as data: URLs, every file hashed so it can be cached for good.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  plugins: [preloadShell()],
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
