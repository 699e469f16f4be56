// The boundaries of docs/ARCHITECTURE.md ("Boundaries worth keeping"), checked by `make lint` (part of `make test`).
// Zones are checked on resolved files, so `import type`, `export … from` and `await import("…")` count alike.
// The shipped code is src/, gateway/ and agent/; test/ and bench/ are harnesses that drive Docker and the
// processes directly, so the zones restrict what they may import only through the rule against shipping test code.
import path from "node:path";
import tsParser from "@typescript-eslint/parser";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

const installedPackage = (name) => path.join(import.meta.dirname, "node_modules", name);
const srcButCli = ["src/!(cli)/**", "src/*.ts"];

// Core rules that catch mistakes the compiler lets through, with no opinion on style. Type-aware rules
// (no-floating-promises) were left out: they need the type checker and took 12 s of CPU against 3.5 s for this set.
const likelyBugs = [
  "no-async-promise-executor",
  "no-cond-assign",
  "no-constant-binary-expression",
  "no-dupe-else-if",
  "no-duplicate-case",
  "no-self-assign",
  "no-self-compare",
  "no-template-curly-in-string",
  "no-unmodified-loop-condition",
  "no-unreachable-loop",
  "no-unsafe-finally",
  "no-unsafe-optional-chaining",
];

/** The lint configuration for a tree laid out like this repository at `root` (test/lint/import-boundaries.spec.ts roots it at fixtures). */
export function lintConfig(root) {
  return [
    { ignores: ["src/gen/", "dist/", "test/fixtures/lint/"] },
    {
      files: ["**/*.ts"],
      languageOptions: { parser: tsParser },
      plugins: { "import-x": importX },
      settings: {
        // Imports name the compiled `.js`; the source beside it is `.ts`. Symlinks are kept as they are so that a
        // package resolves under this checkout's node_modules/ even when that folder is a link (git worktrees).
        "import-x/resolver-next": [createNodeResolver({ extensionAlias: { ".js": [".ts", ".js"] }, symlinks: false })],
      },
      rules: {
        ...Object.fromEntries(likelyBugs.map((rule) => [rule, "error"])),
        "import-x/no-restricted-paths": [
          "error",
          {
            basePath: root,
            zones: [
              {
                target: ["src", "agent"],
                from: [installedPackage("hono"), installedPackage("@hono")],
                message: "Only gateway/ imports hono: HTTP knowledge lives in the edge.",
              },
              {
                target: ["src", "gateway", "agent/!(runtime)/**", "agent/*.ts"],
                from: installedPackage("dockerode"),
                message: "Only agent/runtime/ imports dockerode, behind ContainerRuntime.",
              },
              {
                target: [...srcButCli, "agent"],
                from: "gateway",
                message: "Only src/cli/ wires the edge in; the router and the agent never import gateway/.",
              },
              {
                target: [...srcButCli, "gateway"],
                from: "agent",
                message: "Only src/cli/ wires the agent in; shared code and the edge never import agent/.",
              },
              {
                target: [...srcButCli, "gateway", "agent"],
                from: "src/cli",
                message: "src/cli/ is the binary: it imports the rest, nothing shipped imports it.",
              },
              {
                target: ["src/!(cli|router)/**", "src/*.ts", "gateway", "agent"],
                from: "src/router",
                message: "Only src/cli/ starts the router: the edge reaches it over gRPC and never decides who runs what.",
              },
              {
                target: ["src/!(store)/**", "src/*.ts", "gateway", "agent"],
                from: installedPackage("pg"),
                message: "Only src/store/ imports pg: SQL lives behind the store interfaces.",
              },
              {
                target: ["gateway", "agent"],
                from: "src/store",
                message: "Jobs and the audit log are the router's: the edge and the agent keep no records.",
              },
              {
                target: ["{src,gateway,agent}/**/!(*.spec).ts"],
                from: "test",
                message: "Shipped code never imports test/ (specs may).",
              },
            ],
          },
        ],
      },
    },
    {
      // The client commands' REST library and tables take the edge's JSON types (src/cli/client/api-types.ts)
      // but must never load the edge: `import type` is erased, a value import would load hono with every command.
      files: ["src/cli/{client,output}/**/*.ts"],
      rules: {
        "no-restricted-syntax": [
          "error",
          ...[
            "ImportDeclaration[importKind='value']",
            "ExportNamedDeclaration[exportKind='value']",
            "ExportAllDeclaration[exportKind='value']",
            "ImportExpression",
          ].map((node) => ({
            selector: `${node}[source.value=/(^|\\/)gateway\\//]`,
            message: "The CLI client takes only types from gateway/ (import type): a value import would load the edge into every client command.",
          })),
        ],
      },
    },
    {
      files: ["src/router/**/*.ts"],
      rules: {
        "no-restricted-imports": [
          "error",
          {
            paths: ["http", "https", "http2"]
              .flatMap((name) => [name, `node:${name}`])
              .map((name) => ({
                name,
                message: "The router never parses HTTP: the edge in gateway/ speaks it and calls the router over gRPC.",
              })),
          },
        ],
      },
    },
  ];
}

export default lintConfig(import.meta.dirname);
