// Builds the dashboard into dist/: index.html, style.css and app.js (the page's modules and
// the NATS client in one file), so that dist/ is all a web server needs, offline included.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const dist = join(here, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(src, "main.js")],
  outfile: join(dist, "app.js"),
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  // tweetnacl (under nats.ws's nkeys) falls back to node's crypto only where the browser's
  // crypto.getRandomValues is missing; the page never takes that branch.
  external: ["crypto"],
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"])
  await copyFile(join(src, file), join(dist, file));
console.log(`dashboard built into ${dist}`);
