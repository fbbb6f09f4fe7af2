// ESLint configuration for the widget front-ends (lib/calcifications/static/*.js).
// Run from the repository root by `make lint` (part of `make test`):
//   tools/lint/node_modules/.bin/eslint --config tools/lint/eslint.config.mjs lib/calcifications/static
// The modules are ES modules run by anywidget in the browser and imported by node in the tests.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
      "no-implicit-globals": "error",
      "no-shadow": "warn",
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
    },
  },
];
