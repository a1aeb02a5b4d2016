#!/usr/bin/env node
// Checks that docker-compose.yml, .env.example and the configuration schema agree:
//   1. docker-compose.yml is one valid YAML document (the `yaml` package's parser: no tabs
//      in indentation, no duplicate keys, closed quotes and brackets) and has the services
//      and references compose needs;
//   2. every variable docker-compose.yml interpolates (`${VAR}`, `${VAR:-default}`, `$VAR`…)
//      is listed in .env.example, as `VAR=` or `# VAR=`;
//   3. every variable of `EnvSchema` (exported by src/config.ts, imported here through tsx)
//      is listed in .env.example, and where .env.example gives a value it is the schema's
//      default.
// Exits 1 listing every problem found.
//
// Usage: node .ci/check-compose.mjs [--compose FILE] [--env-example FILE] [--config MODULE]

import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { tsImport } from 'tsx/esm/api'
import { parseAllDocuments } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    compose: { type: 'string', default: join(root, 'docker-compose.yml') },
    'env-example': { type: 'string', default: join(root, '.env.example') },
    config: { type: 'string', default: join(root, 'src/config.ts') },
  },
})

const problems = []
const name = (path) => relative(process.cwd(), path) || path

/** The compose file as plain objects, or undefined after listing why it cannot be read. */
function parseCompose(text, file) {
  const docs = parseAllDocuments(text, { merge: true, prettyErrors: true, uniqueKeys: true })
  if (!Array.isArray(docs)) return docs.toJS() // an empty stream
  if (docs.length > 1) {
    problems.push(`${name(file)}: ${docs.length} YAML documents; a compose file is one`)
    return undefined
  }
  const doc = docs[0]
  if (!doc) return null
  for (const e of [...doc.errors, ...doc.warnings]) problems.push(`${name(file)}: ${e.message.split('\n')[0]}`)
  return doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 100 })
}

// ---------------------------------------------------------------------------------------
// The checks.

function read(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    problems.push(`${name(path)}: cannot read: ${err.message}`)
    return null
  }
}

const TOP_LEVEL = new Set(['name', 'services', 'volumes', 'networks', 'configs', 'secrets', 'include', 'version'])
const REQUIRED_SERVICES = ['postgres', 'api']

/** Checks the shape compose relies on and returns the parsed file. */
function checkComposeShape(doc, file) {
  const where = name(file)
  if (!isMap(doc)) {
    problems.push(`${where}: the top level must be a mapping with a services: key`)
    return
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) problems.push(`${where}: unknown top-level key ${JSON.stringify(key)}`)
  }
  const services = doc.services
  if (!isMap(services)) {
    problems.push(`${where}: no top-level services: mapping`)
    return
  }
  for (const s of REQUIRED_SERVICES) if (!isMap(services[s])) problems.push(`${where}: service ${s} is missing`)
  const namedVolumes = isMap(doc.volumes) ? Object.keys(doc.volumes) : []
  for (const [service, def] of Object.entries(services)) {
    if (!isMap(def)) {
      problems.push(`${where}: service ${service} must be a mapping`)
      continue
    }
    if (def.image === undefined && def.build === undefined) problems.push(`${where}: service ${service} has neither image: nor build:`)
    const deps = Array.isArray(def.depends_on) ? def.depends_on : isMap(def.depends_on) ? Object.keys(def.depends_on) : []
    for (const d of deps) if (!isMap(services[d])) problems.push(`${where}: service ${service} depends on unknown service ${d}`)
    for (const v of Array.isArray(def.volumes) ? def.volumes : []) {
      const source = typeof v === 'string' ? v.split(':')[0] : isMap(v) && v.type !== 'bind' ? v.source : undefined
      if (source && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source) && !namedVolumes.includes(source)) {
        problems.push(`${where}: service ${service} uses volume ${source}, which is not declared under the top-level volumes:`)
      }
    }
    if (def.environment !== undefined && !isMap(def.environment) && !Array.isArray(def.environment)) problems.push(`${where}: service ${service}: environment must be a mapping or a list`)
    if (def.command !== undefined && typeof def.command !== 'string' && !Array.isArray(def.command)) problems.push(`${where}: service ${service}: command must be a string or a list`)
  }
}

function isMap(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Every string value of the tree (compose interpolates values, not keys). */
function* strings(v) {
  if (typeof v === 'string') yield v
  else if (Array.isArray(v)) for (const x of v) yield* strings(x)
  else if (isMap(v)) for (const x of Object.values(v)) yield* strings(x)
}

/** Names interpolated in a compose value: `$VAR`, `${VAR}`, `${VAR:-x}`, `${A:-${B}}`; `$$` is a literal `$`. */
function interpolated(value) {
  const names = []
  const text = value.replace(/\$\$/g, '')
  for (const m of text.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) names.push(m[1] ?? m[2])
  const opens = (text.match(/\$\{/g) ?? []).length
  const closes = (text.match(/\}/g) ?? []).length
  return { names, unbalanced: opens > closes }
}

/** Variables listed in .env.example (`VAR=value` or `# VAR=value`) with their value, and malformed lines. */
function readEnvExample(text, file) {
  const vars = new Map()
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^\s*(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (m) {
      const value = m[3].trim().replace(/^"(.*)"$|^'(.*)'$/, '$1$2')
      if (!vars.has(m[2]) || !m[1]) vars.set(m[2], { value, active: !m[1], line: i + 1 })
      return
    }
    if (line.trim() !== '' && !line.trimStart().startsWith('#')) problems.push(`${name(file)}:${i + 1}: not a VAR=value line: ${JSON.stringify(line)}`)
  })
  return vars
}

/** The keys of `EnvSchema` with their defaults, from the module itself. */
async function readEnvSchema(file) {
  let schema
  try {
    ;({ EnvSchema: schema } = await tsImport(pathToFileURL(resolve(file)).href, import.meta.url))
  } catch (err) {
    problems.push(`${name(file)}: cannot import: ${err.message}`)
    return new Map()
  }
  if (!isMap(schema?.properties)) {
    problems.push(`${name(file)}: exports no EnvSchema object schema`)
    return new Map()
  }
  return new Map(Object.entries(schema.properties).map(([key, s]) => [key, s.default === undefined ? undefined : String(s.default)]))
}

const composeText = read(args.compose)
const envText = read(args['env-example'])
const listed = envText === null ? new Map() : readEnvExample(envText, args['env-example'])

if (composeText !== null) {
  const doc = parseCompose(composeText, args.compose)
  if (doc !== undefined) {
    checkComposeShape(doc, args.compose)
    const used = new Set()
    for (const value of strings(doc)) {
      const { names, unbalanced } = interpolated(value)
      if (unbalanced) problems.push(`${name(args.compose)}: unclosed "\${" in ${JSON.stringify(value)}`)
      names.forEach((n) => used.add(n))
    }
    const missing = [...used].filter((n) => !listed.has(n)).sort()
    if (missing.length) problems.push(`${name(args['env-example'])} does not list these variables used in ${name(args.compose)}: ${missing.join(', ')}`)
  }
}

{
  const schema = await readEnvSchema(args.config)
  const missing = [...schema.keys()].filter((n) => !listed.has(n)).sort()
  if (missing.length) problems.push(`${name(args['env-example'])} does not list these variables of EnvSchema in ${name(args.config)}: ${missing.join(', ')}`)
  for (const [key, def] of schema) {
    const entry = listed.get(key)
    if (entry && def !== undefined && entry.value !== def) {
      problems.push(`${name(args['env-example'])}:${entry.line}: ${key}=${entry.value} but its default in ${name(args.config)} is ${JSON.stringify(def)}`)
    }
  }
}

if (problems.length) {
  process.stderr.write(`check-compose: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}\n`)
  process.exit(1)
}
process.stdout.write(`check-compose: ${name(args.compose)}, ${name(args['env-example'])} and ${name(args.config)} agree\n`)
