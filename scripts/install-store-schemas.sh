#!/usr/bin/env bash
# Install App Store Connect's official request schemas into tools/ (git-ignored). Idempotent.
#   tools/store-schemas/            npm package appstore-connect-sdk (MIT), generated from Apple's
#                                   App Store Connect API OpenAPI 4.2 document
#   tools/store-schemas/appstore-connect.json
#       {"source", "components": {"schemas"}, "operations": [{name, method, path, body, query, pathParams}]}
# The store simulator (stores/simulator) validates every App Store Connect request against this file.
# Google Play's description needs no install: google-api-python-client ships the androidpublisher v3
# discovery document.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/tools/store-schemas"
PACKAGE="appstore-connect-sdk"
VERSION="2.0.0"
OUT="$DIR/appstore-connect.json"

say() { echo "install-store-schemas: $*"; }

installed_version() {
  node -e "console.log(require('$DIR/node_modules/$PACKAGE/package.json').version)" 2>/dev/null || true
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "node and npm are needed; install Node.js 20+ and npm (e.g. apt-get install nodejs npm), then run this again" >&2
  exit 1
fi

if [ "$(installed_version)" = "$VERSION" ]; then
  say "$PACKAGE $VERSION already installed in $DIR"
else
  mkdir -p "$DIR"
  [ -f "$DIR/package.json" ] || echo '{"name": "instep-store-schemas", "private": true, "type": "module"}' >"$DIR/package.json"
  say "npm install --prefix $DIR $PACKAGE@$VERSION"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "$PACKAGE@$VERSION"
fi

if [ -f "$OUT" ] && [ "$OUT" -nt "$DIR/node_modules/$PACKAGE/package.json" ] && [ "$OUT" -nt "$0" ]; then
  say "schemas are up to date: $OUT"
  exit 0
fi

# The package exports every component schema as a `<Name>Schema` constant and every operation as a
# function that hands its method and URL to the client it is given; a recording client reads them
# without any network. Each operation's zod `z<Operation>Data` object names its body schema and
# describes its query and path parameters, converted here with zod's own JSON Schema export.
EXTRACT="$DIR/extract.mjs"
cat >"$EXTRACT" <<'JS'
import * as sdk from 'appstore-connect-sdk/openapi';
import { z } from 'zod';
import { writeFileSync, readFileSync } from 'node:fs';

const out = process.argv[2];
const pkg = JSON.parse(readFileSync(new URL('./node_modules/appstore-connect-sdk/package.json', import.meta.url)));
const schemas = {};
for (const [name, value] of Object.entries(sdk)) {
  if (name.endsWith('Schema') && value && typeof value === 'object') schemas[name.slice(0, -'Schema'.length)] = value;
}
const zodNames = new Map();
for (const [name, value] of Object.entries(sdk)) {
  if (name.startsWith('z') && value && typeof value === 'object') zodNames.set(value, name.slice(1));
}
const recorder = {};
for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head', 'options']) {
  recorder[method] = (options) => ({ method: method.toUpperCase(), url: options.url });
}
const unwrap = (s) => (s && s.def && s.def.type === 'optional' ? s.unwrap() : s);
const toJson = (s) => (s && s.def && s.def.type === 'object' ? z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) : null);
const operations = [];
for (const [name, fn] of Object.entries(sdk)) {
  if (typeof fn !== 'function' || name.startsWith('z') || name.endsWith('Schema')) continue;
  let call;
  try { call = fn({ client: recorder }); } catch { continue; }
  if (!call || typeof call.url !== 'string') continue;
  const data = sdk['z' + name[0].toUpperCase() + name.slice(1) + 'Data'];
  const shape = data ? data.shape : {};
  const body = unwrap(shape.body);
  const bodyName = body ? zodNames.get(body) ?? null : null;
  operations.push({
    name,
    method: call.method,
    path: call.url,
    body: bodyName && schemas[bodyName] ? bodyName : null,
    query: toJson(unwrap(shape.query)),
    pathParams: toJson(unwrap(shape.path)),
  });
}
if (Object.keys(schemas).length < 1000 || operations.length < 1000) {
  console.error(`found only ${Object.keys(schemas).length} schemas and ${operations.length} operations; the package layout changed`);
  process.exit(1);
}
writeFileSync(out, JSON.stringify({
  source: { package: pkg.name, version: pkg.version, license: pkg.license },
  components: { schemas },
  operations,
}));
console.log(`${Object.keys(schemas).length} schemas, ${operations.length} operations`);
JS
TMP="$(mktemp "$DIR/.appstore-connect.XXXXXX")"
if ! SUMMARY="$(node "$EXTRACT" "$TMP")"; then
  rm -f "$TMP"
  say "could not extract the schemas from $PACKAGE; remove $DIR and run this again" >&2
  exit 1
fi
chmod 0644 "$TMP"
mv -f "$TMP" "$OUT"
say "ok: $SUMMARY from $PACKAGE $VERSION -> $OUT"
