import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", ".tools/**", ".data/**", "charts/**", "coverage/**", "console/dist/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", AbortController: "readonly", AbortSignal: "readonly", fetch: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", structuredClone: "readonly", queueMicrotask: "readonly", setImmediate: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": ["error",
        { selector: "TSEnumDeclaration", message: "Enums are not erasable; use a union of string literals." },
        { selector: "TSParameterProperty", message: "Parameter properties are not erasable." }],
      "max-lines": ["warn", { max: 400, skipBlankLines: true, skipComments: true }],
      complexity: ["warn", 20],
    },
  },
  {
    // The console runs in the browser: its globals, not Node's; it may import only core's pure category table and
    // the CRD schemas (zod, no I/O), so its forms validate exactly as the CRD does (ADR 0005).
    files: ["console/src/**"],
    languageOptions: { globals: { window: "readonly", document: "readonly", history: "readonly", navigator: "readonly", location: "readonly", fetch: "readonly", URL: "readonly", URLSearchParams: "readonly", Blob: "readonly", ResizeObserver: "readonly", Intl: "readonly", setTimeout: "readonly", console: "readonly", process: "off", Buffer: "off", setImmediate: "off" } },
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["node:*"], message: "The console runs in the browser." },
        { regex: "core/src/(?!(events/categories|crd/(common|destination-blocks|log-forwarding-destination|recording-storage)|formats/formats)\\.ts$)", message: "The console imports only core's category table and CRD schemas (pure)." },
      ] }],
    },
  },
  {
    files: ["api-server/**", "core/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/operator/**", "@trailkeeper/operator*"], message: "api-server and core never import the operator." }] }],
    },
  },
  {
    files: ["operator/**", "core/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/api-server/**", "@trailkeeper/api-server*"], message: "operator and core never import the api-server." }] }],
    },
  },
);
