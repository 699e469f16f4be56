// Writes the OpenAPI document the edge serves at GET /openapi.json to a file, for `make lint` to check
// with Redocly's recommended rules. Run with tsx: npx tsx scripts/write-openapi.ts dist/openapi.json
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildOpenApiDocument } from "../gateway/openapi/document.js";

const [file] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: tsx scripts/write-openapi.ts FILE\n");
  process.exit(2);
}
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
