#!/usr/bin/env node
// Checks that docker-compose.yml, .env.example and src/config.ts agree:
//   1. docker-compose.yml parses (no tabs, consistent indentation, no duplicate keys, closed
//      quotes and brackets) and has the services and references compose needs;
//   2. every variable docker-compose.yml interpolates (`${VAR}`, `${VAR:-default}`, `$VAR`…)
//      is listed in .env.example, as `VAR=` or `# VAR=`;
//   3. every variable of `EnvSchema` in src/config.ts is listed in .env.example, and where
//      .env.example gives a value it is the schema's default.
// Exits 1 listing every problem found.
//
// No YAML parser is a dependency of the project, so this reads the block-style subset of YAML
// a compose file is written in: mappings, sequences, plain/quoted scalars, one-line flow
// collections and block scalars. Anchors, aliases, tags and multiple documents are refused
// with a message rather than guessed at.
//
// Usage: node .ci/check-compose.mjs [--compose FILE] [--env-example FILE] [--config FILE]

import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

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

// ---------------------------------------------------------------------------------------
// A small YAML reader for compose files.

class YamlError extends Error {
  constructor(line, message) {
    super(`line ${line}: ${message}`)
  }
}

/**
 * Splits the text into lines: number, indentation, the raw text after the indentation and
 * the text without its comment. A line whose comment cannot be found (an unclosed quote)
 * keeps the error, raised only if the line is read as YAML structure rather than as the
 * content of a block scalar.
 */
function lexLines(text) {
  return text.split(/\r?\n/).map((raw, i) => {
    const no = i + 1
    if (raw.includes('\t')) throw new YamlError(no, 'tab character (YAML indentation must be spaces; use spaces in values too)')
    const indent = raw.length - raw.trimStart().length
    const content = raw.slice(indent)
    try {
      return { no, indent, content, text: stripComment(content, no).trimEnd() }
    } catch (err) {
      return { no, indent, content, text: content, error: err }
    }
  })
}

/** Removes a trailing `# comment` that is outside quotes. */
function stripComment(text, no) {
  let quote = null
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++
        else quote = null
      }
    } else if (c === '"' || c === "'") {
      // A quote opens a quoted scalar only at the start of a value, not inside a plain one.
      const before = text.slice(0, i).trimEnd()
      if (before === '' || /[:\-[{,]$/.test(before)) quote = c
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ')) {
      return text.slice(0, i)
    }
  }
  if (quote) throw new YamlError(no, `unclosed ${quote === '"' ? 'double' : 'single'} quote`)
  return text
}

/** Parses a compose file into plain objects, arrays and strings. */
function parseYaml(text) {
  const all = lexLines(text)
  for (const l of all) {
    if (l.indent === 0 && /^(---|\.\.\.)(\s|$)/.test(l.text)) throw new YamlError(l.no, 'multiple YAML documents are not supported in a compose file')
  }
  const lines = all.filter((l) => l.text !== '')
  const steps = new Set()
  let pos = 0

  function peek() {
    if (lines[pos]?.error) throw lines[pos].error
    return lines[pos]
  }

  function parseBlock(indent) {
    const first = peek()
    if (!first) return null
    if (first.indent !== indent) throw new YamlError(first.no, `inconsistent indentation: expected ${indent} spaces, found ${first.indent}`)
    return isItem(first.text) ? parseSequence(indent) : parseMapping(indent)
  }

  function parseMapping(indent) {
    const map = {}
    while (peek() && peek().indent === indent && !isItem(peek().text)) {
      const line = lines[pos++]
      const { key, rest } = splitKey(line)
      if (Object.hasOwn(map, key)) throw new YamlError(line.no, `duplicate key ${JSON.stringify(key)}`)
      map[key] = parseValue(rest, line, indent, true)
    }
    const next = peek()
    if (next && next.indent > indent) throw new YamlError(next.no, `inconsistent indentation: ${next.indent} spaces where ${indent} or less were expected`)
    return map
  }

  function parseSequence(indent) {
    const list = []
    while (peek() && peek().indent === indent && isItem(peek().text)) {
      const line = lines[pos]
      const content = line.text.replace(/^-( +|$)/, '')
      if (content === '') {
        pos++
        list.push(parseChild(indent))
      } else if (/^[^'"[{].*?:( |$)|^(["']).*?\2:( |$)/.test(content)) {
        // `- key: value`: a mapping whose first key sits where `key` starts.
        const column = indent + (line.text.length - content.length)
        lines[pos] = { ...line, indent: column, text: content }
        list.push(parseMapping(column))
      } else if (/^[|>][-+0-9]*$/.test(content)) {
        pos++
        list.push(parseBlockScalar(line, indent))
      } else {
        pos++
        list.push(parseScalar(content, line))
      }
    }
    const next = peek()
    if (next && next.indent > indent) throw new YamlError(next.no, `inconsistent indentation: ${next.indent} spaces where ${indent} or less were expected`)
    return list
  }

  /** The value after `key:` (or a bare `-`): inline, a block scalar, or a nested block. */
  function parseValue(rest, line, indent, inMapping) {
    if (rest === '') {
      // `key:` followed by `- item` lines at the same indentation is valid YAML too.
      if (inMapping && peek() && peek().indent === indent && isItem(peek().text)) return parseSequence(indent)
      return parseChild(indent)
    }
    if (/^[|>][-+0-9]*$/.test(rest)) return parseBlockScalar(line, indent)
    return parseScalar(rest, line)
  }

  function parseChild(indent) {
    const next = peek()
    if (!next || next.indent <= indent) return null
    steps.add(next.indent - indent)
    return parseBlock(next.indent)
  }

  /**
   * A `|` or `>` scalar: the raw lines after its header that are blank or indented more than
   * the header's key or dash (their text matters here only for `${VAR}`).
   */
  function parseBlockScalar(header, indent) {
    const body = []
    let last = header.no
    for (let i = header.no; i < all.length; i++) {
      const l = all[i]
      if (l.content === '') {
        body.push('')
        continue
      }
      if (l.indent <= indent) break
      body.push(l.content)
      last = l.no
    }
    while (lines[pos] && lines[pos].no <= last) pos++
    return body.join('\n')
  }

  const doc = parseBlock(0)
  if (pos < lines.length) throw new YamlError(lines[pos].no, 'unexpected content (indentation does not match any open block)')
  if (steps.size > 1) problems.push(`${name(args.compose)}: mixed indentation steps (${[...steps].sort().join(', ')} spaces); use one`)
  return doc
}

function isItem(text) {
  return text === '-' || text.startsWith('- ')
}

function splitKey(line) {
  const quoted = /^(["'])(.*?)\1:( +|$)(.*)$/.exec(line.text)
  if (quoted) return { key: quoted[2], rest: quoted[4] }
  const plain = /^([^\s'"[\]{}#,&*!|>%@`][^:]*?):( +|$)(.*)$/.exec(line.text)
  if (!plain) throw new YamlError(line.no, `expected "key: value", found ${JSON.stringify(line.text)}`)
  return { key: plain[1], rest: plain[3] }
}

/** A scalar or a one-line flow collection (`[a, "b"]`, `{k: v}`). */
function parseScalar(text, line) {
  if (/^[&*!]/.test(text)) throw new YamlError(line.no, 'anchors, aliases and tags are not supported by this check')
  if (text.startsWith('[') || text.startsWith('{')) {
    const reader = { text, i: 0 }
    const value = parseFlow(reader, line)
    skipSpaces(reader)
    if (reader.i !== text.length) throw new YamlError(line.no, `unexpected ${JSON.stringify(text.slice(reader.i))} after a flow collection`)
    return value
  }
  if (text.startsWith('"') || text.startsWith("'")) {
    const reader = { text, i: 0 }
    const value = parseQuoted(reader, line)
    if (text.slice(reader.i).trim() !== '') throw new YamlError(line.no, `unexpected ${JSON.stringify(text.slice(reader.i))} after a quoted string`)
    return value
  }
  if (/: /.test(text)) throw new YamlError(line.no, `": " inside a plain value; quote it: ${JSON.stringify(text)}`)
  return text
}

function skipSpaces(r) {
  while (r.text[r.i] === ' ') r.i++
}

function parseFlow(r, line) {
  skipSpaces(r)
  const c = r.text[r.i]
  if (c === '"' || c === "'") return parseQuoted(r, line)
  if (c === '[' || c === '{') {
    const close = c === '[' ? ']' : '}'
    const out = c === '[' ? [] : {}
    r.i++
    skipSpaces(r)
    if (r.text[r.i] === close) {
      r.i++
      return out
    }
    for (;;) {
      if (c === '[') out.push(parseFlow(r, line))
      else {
        const key = parseFlow(r, line)
        skipSpaces(r)
        if (r.text[r.i] !== ':') throw new YamlError(line.no, `expected ":" after ${JSON.stringify(key)} in a flow mapping`)
        r.i++
        if (Object.hasOwn(out, key)) throw new YamlError(line.no, `duplicate key ${JSON.stringify(key)}`)
        out[key] = parseFlow(r, line)
      }
      skipSpaces(r)
      const sep = r.text[r.i++]
      if (sep === close) return out
      if (sep !== ',') throw new YamlError(line.no, `unclosed "${c}" (expected "," or "${close}")`)
    }
  }
  const start = r.i
  while (r.i < r.text.length && !/[,\]}]/.test(r.text[r.i]) && !(r.text[r.i] === ':' && /^([ ,\]}]|$)/.test(r.text[r.i + 1] ?? ''))) r.i++
  const plain = r.text.slice(start, r.i).trim()
  if (plain === '') throw new YamlError(line.no, 'empty entry in a flow collection')
  return plain
}

function parseQuoted(r, line) {
  const q = r.text[r.i]
  let out = ''
  for (let i = r.i + 1; i < r.text.length; i++) {
    const c = r.text[i]
    if (q === "'" && c === "'") {
      if (r.text[i + 1] === "'") {
        out += "'"
        i++
        continue
      }
      r.i = i + 1
      return out
    }
    if (q === '"' && c === '"') {
      r.i = i + 1
      return out
    }
    if (q === '"' && c === '\\') {
      const e = r.text[++i]
      const simple = { n: '\n', t: '\t', r: '\r', '0': '\0', '"': '"', '\\': '\\', '/': '/', ' ': ' ' }
      if (e in simple) out += simple[e]
      else if (e === 'u' || e === 'x') {
        const len = e === 'u' ? 4 : 2
        const hex = r.text.slice(i + 1, i + 1 + len)
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new YamlError(line.no, `bad \\${e} escape`)
        out += String.fromCharCode(parseInt(hex, 16))
        i += len
      } else throw new YamlError(line.no, `unknown escape \\${e ?? ''} in a double-quoted string`)
      continue
    }
    out += c
  }
  throw new YamlError(line.no, `unclosed ${q === '"' ? 'double' : 'single'} quote`)
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

/** The keys of `const EnvSchema = Type.Object({ … })` with their literal defaults, if any. */
function readEnvSchema(text, file) {
  const start = text.indexOf('const EnvSchema = Type.Object({')
  if (start < 0) {
    problems.push(`${name(file)}: cannot find "const EnvSchema = Type.Object({"; update .ci/check-compose.mjs if the schema moved`)
    return new Map()
  }
  let depth = 0
  let end = -1
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++
    else if (text[i] === '}' && --depth === 0) {
      end = i
      break
    }
  }
  const body = text.slice(text.indexOf('{', start) + 1, end < 0 ? undefined : end)
  const keys = new Map()
  for (const line of body.split('\n')) {
    const m = /^\s*([A-Z][A-Z0-9_]*)\s*:\s*Type\./.exec(line)
    if (!m) continue
    const d = /default:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?|true|false))/.exec(line)
    keys.set(m[1], d ? (d[1] ?? d[2] ?? d[3]) : undefined)
  }
  if (keys.size === 0) problems.push(`${name(file)}: EnvSchema has no "NAME: Type.…" keys this check can read`)
  return keys
}

const composeText = read(args.compose)
const envText = read(args['env-example'])
const configText = read(args.config)
const listed = envText === null ? new Map() : readEnvExample(envText, args['env-example'])

if (composeText !== null) {
  let doc
  try {
    doc = parseYaml(composeText)
  } catch (err) {
    if (!(err instanceof YamlError)) throw err
    problems.push(`${name(args.compose)}: ${err.message}`)
  }
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

if (configText !== null) {
  const schema = readEnvSchema(configText, args.config)
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
