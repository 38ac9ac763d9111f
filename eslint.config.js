// Lint rules: typescript-eslint's type-aware sets, plus a budget that keeps functions small.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".sandbox/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/explicit-function-return-type": ["error", { allowExpressions: true }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      // ESLint counts every `?.` and `??` as a branch; defensive reads of Kubernetes objects are full of them.
      complexity: ["error", 20],
      // noUncheckedIndexedAccess makes every index read optional; an assertion marks a read the line before proved.
      "@typescript-eslint/no-non-null-assertion": "off",
      // client-node declares its models as classes, but they are plain JSON on the wire and in informers.
      "@typescript-eslint/no-misused-spread": "off",
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "max-depth": ["error", 3],
      "max-params": ["error", 4],
      "no-console": "error",
    },
  },
  // The layering, enforced: core at the ground; the runner and the webhook on core only (the runner
  // never imports the webhook, nor the webhook the runner); the kubectl plugin on core and the
  // runner; production code never imports the sandbox or the emulator, which exist for tests and
  // the demo.
  ...[
    { files: ["core/**/*.ts"], forbidden: ["runner", "webhook", "sandbox", "emulator", "test", "bench"] },
    { files: ["runner/**/*.ts"], forbidden: ["webhook", "sandbox", "emulator", "test", "bench"] },
    { files: ["webhook/**/*.ts"], forbidden: ["runner", "sandbox", "emulator", "test", "bench"] },
    { files: ["emulator/**/*.ts"], forbidden: ["runner", "webhook", "sandbox", "test", "bench"] },
    // The kubectl plugin runs on a user's machine: core's checks and the runner's read-only helpers
    // (the live view, the journal's types), never the webhook's server nor the sandbox.
    { files: ["plugin/**/*.ts"], forbidden: ["webhook", "sandbox", "emulator", "test", "bench"] },
  ].map(({ files, forbidden }) => ({
    files,
    rules: {
      "no-restricted-imports": ["error", { patterns: forbidden.map((folder) => ({ group: [`**/${folder}/**`], message: `${files[0].split("/")[0]}/ must not import ${folder}/ (the layering in eslint.config.js)` })) }],
    },
  })),
  {
    // Tests read better with inline callbacks and assertions on optional values.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/explicit-function-return-type": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-console": "off",
      "max-params": "off",
      // node:test's describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] }] }],
    },
  },
  {
    files: ["eslint.config.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
