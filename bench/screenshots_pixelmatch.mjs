// npm pixelmatch 7.2.0 over a list of pairs in one Node process, decoding with pngjs, as its
// users do. Usage: node screenshots_pixelmatch.mjs TOOLS_DIR PAIRS_JSON THRESHOLD
// Prints {"counts": {name: count or null (size mismatch)}}.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [toolsDir, pairsFile, threshold] = process.argv.slice(2);
const require = createRequire(join(toolsDir, 'package.json'));
const { PNG } = require('pngjs');
const { default: pixelmatch } = await import(pathToFileURL(join(toolsDir, 'node_modules/pixelmatch/index.js')));

const counts = {};
for (const { name, baseline, candidate } of JSON.parse(readFileSync(pairsFile, 'utf8'))) {
  const a = PNG.sync.read(readFileSync(baseline));
  const b = PNG.sync.read(readFileSync(candidate));
  counts[name] = a.width !== b.width || a.height !== b.height
    ? null
    : pixelmatch(a.data, b.data, null, a.width, a.height, { threshold: Number(threshold) });
}
process.stdout.write(JSON.stringify({ counts }));
