import { apiUrl, getJson, Problem } from './api.js'
import { drawNotionalChart } from './chart.js'

/**
 * The explorer page: a form whose values live in the URL under the API's own parameter
 * names (`wallet`, `start`, `end`, `asset`, `limit`), so a link reproduces the view, and
 * the wallet's TWAPs, newest first, read page by page through the API's cursor.
 */

const WALLET = /^0[xX][0-9a-fA-F]{40}$/
const WALLET_MESSAGE = 'must be 0x followed by 40 hex digits'
const DEFAULT_PAGE = 100
const FIELDS = ['wallet', 'start', 'end', 'asset']

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))
const form = /** @type {HTMLFormElement} */ ($('query'))
const input = (name) => /** @type {HTMLInputElement} */ ($(name))
const preset = /** @type {HTMLSelectElement} */ ($('preset'))
const tbody = /** @type {HTMLTableSectionElement} */ (document.querySelector('#twaps tbody'))

/** What the page shows: the query run last and the TWAPs loaded for it. */
const view = { query: null, twaps: [], cursor: null, chart: null, controller: null }

// ---- the range presets: whole UTC days, the end day included

function isoDay(date) {
  return date.toISOString().slice(0, 10)
}

/** @returns {{ start: string, end: string } | null} */
function presetRange(name, now = new Date()) {
  const year = now.getUTCFullYear()
  if (name === 'this-year') return { start: `${year}-01-01`, end: `${year}-12-31` }
  if (name === 'last-year') return { start: `${year - 1}-01-01`, end: `${year - 1}-12-31` }
  if (name === 'last-30-days') return { start: isoDay(new Date(now.getTime() - 29 * 86_400_000)), end: isoDay(now) }
  return null
}

function presetOf(start, end) {
  for (const name of ['this-year', 'last-year', 'last-30-days']) {
    const range = presetRange(name)
    if (range && range.start === start && range.end === end) return name
  }
  return 'custom'
}

preset.addEventListener('change', () => {
  const range = presetRange(preset.value)
  if (range) {
    input('start').value = range.start
    input('end').value = range.end
  }
})
for (const name of ['start', 'end']) {
  input(name).addEventListener('input', () => { preset.value = presetOf(input('start').value, input('end').value) })
}

// ---- errors shown in place

function setFieldError(name, message) {
  const field = input(name)
  const error = $(`${name}-error`)
  error.textContent = message ?? ''
  if (message) field.setAttribute('aria-invalid', 'true')
  else field.removeAttribute('aria-invalid')
}

function clearErrors() {
  for (const name of FIELDS) setFieldError(name, null)
  $('form-error').textContent = ''
}

function showBanner(message) {
  const banner = $('banner')
  banner.textContent = message
  banner.hidden = !message
}

/** Shows a failed request where it belongs: a bad parameter by its field, an outage in the banner. */
function showProblem(problem) {
  if (problem.unavailable) {
    showBanner(`${problem.message} The page will work again once the database is back.`)
    return
  }
  const loose = []
  for (const { parameter, message } of problem.errors) {
    if (FIELDS.includes(parameter)) setFieldError(parameter, message)
    else loose.push(`${parameter}: ${message}`)
  }
  if (problem.errors.length === 0 || loose.length > 0) $('form-error').textContent = loose.join('; ') || problem.message
}

input('wallet').addEventListener('input', () => {
  const value = input('wallet').value.trim()
  setFieldError('wallet', value === '' || WALLET.test(value) ? null : WALLET_MESSAGE)
})

// ---- the query and the URL

function formQuery() {
  const query = {}
  for (const name of FIELDS) query[name] = input(name).value.trim()
  const limit = new URLSearchParams(location.search).get('limit')
  if (limit) query.limit = limit
  return query
}

function fillForm(query) {
  for (const name of FIELDS) input(name).value = query[name] ?? ''
  preset.value = presetOf(input('start').value, input('end').value)
}

function urlQuery() {
  const params = new URLSearchParams(location.search)
  const query = {}
  for (const name of [...FIELDS, 'limit']) {
    const value = params.get(name)
    if (value !== null) query[name] = value
  }
  return query
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  clearErrors()
  const query = formQuery()
  if (!WALLET.test(query.wallet)) {
    setFieldError('wallet', query.wallet ? WALLET_MESSAGE : 'is required')
    input('wallet').focus()
    return
  }
  history.pushState(null, '', apiUrl('/', query))
  void run(query)
})

window.addEventListener('popstate', () => start())

// ---- results

async function run(query) {
  view.controller?.abort()
  const controller = new AbortController()
  view.controller = controller
  view.query = query
  view.twaps = []
  view.cursor = null
  tbody.replaceChildren()
  $('summary').replaceChildren()
  $('coverage-list').replaceChildren()
  $('coverage-note').replaceChildren()
  $('results').hidden = true
  setBusy(true)
  try {
    await loadPage(controller.signal)
    showBanner('')
    renderDownloads(query)
    await Promise.all([showSummary(query, controller.signal), showCoverage(query, controller.signal)])
  } catch (error) {
    if (error instanceof Problem) showProblem(error)
    else if (!(error instanceof DOMException && error.name === 'AbortError')) throw error
  } finally {
    if (view.controller === controller) setBusy(false)
  }
}

async function loadPage(signal) {
  const query = view.query
  const page = await getJson('/api/v1/twaps', {
    ...query, limit: query.limit ?? String(DEFAULT_PAGE), latest_per_twap: 'false', cursor: view.cursor ?? undefined,
  }, signal)
  view.twaps.push(...page.twaps)
  view.cursor = page.next_cursor
  for (const twap of page.twaps) tbody.append(...twapRows(twap))
  $('empty').hidden = view.twaps.length > 0
  $('more').hidden = !view.cursor
  $('results-meta').textContent = `${view.twaps.length} TWAP${view.twaps.length === 1 ? '' : 's'} of ${page.wallet}` +
    `${view.cursor ? ' shown; more in the range' : ''} · ${day(page.start)} to ${day(page.end)}`
  // Shown before drawing: the chart takes the width its box has.
  $('results').hidden = false
  view.chart?.destroy()
  view.chart = drawNotionalChart($('chart'), view.twaps)
  $('chart-note').textContent = view.cursor ? `(of the ${view.twaps.length} TWAPs loaded)` : ''
}

$('more').addEventListener('click', async () => {
  const button = /** @type {HTMLButtonElement} */ ($('more'))
  button.disabled = true
  try {
    await loadPage(view.controller?.signal)
  } catch (error) {
    if (error instanceof Problem) showProblem(error)
    else throw error
  } finally {
    button.disabled = false
  }
})

new ResizeObserver(() => {
  const width = $('chart').clientWidth
  if (view.chart && width > 0 && Math.abs(view.chart.width - width) > 1) view.chart.setSize({ width, height: view.chart.height })
}).observe($('chart'))

function setBusy(busy) {
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'))
  button.disabled = busy
  button.textContent = busy ? 'Looking up…' : 'Look up'
}

/** A TWAP's row and its hidden detail row (events), linked by the toggle's aria-controls. */
function twapRows(twap) {
  const row = document.createElement('tr')
  row.dataset.twapId = twap.twap_id
  const detailId = `twap-${twap.twap_id}-detail`
  const toggle = element('button', { class: 'toggle', type: 'button', 'aria-expanded': 'false', 'aria-controls': detailId, 'aria-label': `Events and fills of TWAP ${twap.twap_id}` }, '▸')
  row.append(
    cell(toggle),
    cell(badge(twap.status)),
    cell(twap.asset ?? '—'),
    cell(twap.side === 'B' ? 'Buy' : twap.side === 'A' ? 'Sell' : (twap.side ?? '—')),
    cell(twap.requested_size ?? '—', 'num'),
    cell(twap.executed.size ?? '—', 'num'),
    cell(twap.executed.notional ?? '—', 'num'),
    cell(twap.avg_price ?? '—', 'num'),
    cell(twap.fills ? `${twap.fills.count} · ${fees(twap.fills.fees)}` : '—', 'num'),
    cell(reconciledMark(twap.reconciled)),
    cell(when(twap.created_at), 'when'),
    cell(when(twap.latest_ts), 'when'),
    cell(twap.duration_minutes === null ? '—' : String(twap.duration_minutes), 'num'),
    cell(twap.twap_id),
  )
  const detail = document.createElement('tr')
  detail.className = 'detail'
  detail.id = detailId
  detail.hidden = true
  const detailCell = element('td', { colspan: '14' })
  detail.append(detailCell)
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true'
    toggle.setAttribute('aria-expanded', String(open))
    toggle.textContent = open ? '▾' : '▸'
    detail.hidden = !open
    if (open && !detailCell.hasChildNodes()) {
      detailCell.append(...twapDetail(twap))
      void showFills(twap, detailCell)
    }
  })
  return [row, detail]
}

function twapDetail(twap) {
  const events = twap.events ?? []
  const table = element('table', { class: 'events event-list' })
  table.append(element('caption', { class: 'visually-hidden' }, `Events of TWAP ${twap.twap_id} in the range, oldest first`))
  const head = element('tr', {}, ...['Time', 'Status', 'Executed', 'Notional', 'Avg price'].map((label) => element('th', { scope: 'col' }, label)))
  table.append(element('thead', {}, head))
  const body = element('tbody')
  for (const event of events) {
    body.append(element('tr', {},
      cell(time(event.ts)), cell(badge(event.status)), cell(event.executed.size ?? '—', 'num'),
      cell(event.executed.notional ?? '—', 'num'), cell(event.avg_price ?? '—', 'num')))
  }
  table.append(body)
  const flags = [twap.reduce_only ? 'reduce-only' : null, twap.randomize ? 'randomized' : null].filter(Boolean)
  return [
    element('h3', {}, `Events in the range (${events.length})`),
    table,
    element('p', { class: 'meta' }, `TWAP ${twap.twap_id}${flags.length ? ' · ' + flags.join(', ') : ''} · full history: `,
      element('a', { href: `/api/v1/twaps/${twap.twap_id}` }, `/api/v1/twaps/${twap.twap_id}`)),
  ]
}

/** The TWAP's slice fills, read when its row is first opened, with their totals. */
async function showFills(twap, container) {
  const section = element('div', { class: 'fills', 'aria-live': 'polite' }, element('p', { class: 'meta' }, 'Loading fills…'))
  container.append(section)
  let body
  try {
    body = await getJson(`/api/v1/twaps/${encodeURIComponent(twap.twap_id)}/fills`)
  } catch (error) {
    if (!(error instanceof Problem)) throw error
    section.replaceChildren(element('p', { class: 'meta' }, error.status === 404 ? 'No fills stored for this TWAP.' : error.message))
    return
  }
  if (body.fills.length === 0) {
    section.replaceChildren(element('h3', {}, 'Fills (0)'), element('p', { class: 'meta' }, 'No fills of this TWAP are loaded.'))
    return
  }
  const table = element('table', { class: 'events fills-table' })
  table.append(element('caption', { class: 'visually-hidden' }, `Fills of TWAP ${twap.twap_id}, oldest first`))
  table.append(element('thead', {}, element('tr', {}, ...['Time', 'Side', 'Price', 'Size', 'Fee', 'Realized PnL', 'Direction', 'Trade id']
    .map((label) => element('th', { scope: 'col' }, label)))))
  const rows = element('tbody')
  for (const fill of body.fills) {
    rows.append(element('tr', {},
      cell(time(fill.time)), cell(fill.side === 'B' ? 'Buy' : fill.side === 'A' ? 'Sell' : (fill.side ?? '—')),
      cell(fill.px, 'num'), cell(fill.sz, 'num'), cell(fill.fee === null ? '—' : `${fill.fee} ${fill.fee_token ?? ''}`.trim(), 'num'),
      cell(fill.closed_pnl ?? '—', 'num'), cell(fill.dir ?? '—'), cell(fill.tid)))
  }
  table.append(rows)
  const totals = body.totals
  section.replaceChildren(
    element('h3', {}, `Fills (${totals.count})`),
    table,
    element('p', { class: 'meta' }, `Total ${totals.size} at ${totals.avg_price ?? '—'} = ${totals.notional} · fees ${fees(totals.fees)}` +
      ` · builder fees ${totals.builder_fee} · realized PnL ${totals.closed_pnl}`),
  )
}

/** The wallet's totals over the range as cards: TWAPs, notional, fills, fees, realized PnL. */
async function showSummary(query, signal) {
  const summary = await getJson(`/api/v1/wallets/${encodeURIComponent(query.wallet)}/summary`,
    { start: query.start, end: query.end, asset: query.asset }, signal)
  const { twaps, fills } = summary.totals
  const statuses = twaps.by_status.map((s) => `${s.count} ${s.status ?? 'unknown'}`).join(', ')
  const card = (title, value, sub) => element('div', { class: 'card' },
    element('h3', {}, title), element('p', { class: 'value' }, value), element('p', { class: 'sub' }, sub))
  const assets = summary.assets.length
  $('summary').replaceChildren(
    card('TWAPs', String(twaps.count), statuses || 'none in the range'),
    card('Executed notional', twaps.notional, `over ${assets} asset${assets === 1 ? '' : 's'} and sides`),
    card('Fills', String(fills.count), fills.count ? `builder fees ${fills.builder_fee}` : 'no fills loaded for the range'),
    card('Fees', fees(fills.fees), 'by fee token; negative is a rebate'),
    card('Realized PnL', fills.closed_pnl, 'sum of the fills\' closedPnl'),
  )
}

const RECONCILED = {
  true: ['yes', '✓', 'Reconciled: its fills add up to its executed size and notional'],
  false: ['no', '✗', 'Not reconciled: its fills do not add up to its executed size and notional'],
  null: ['not yet', '…', 'Not decided yet: it is still running, or fills are not stored for every hour of its life'],
}

/** The reconciliation verdict as a symbol and a word, its meaning in the title: never colour alone. */
function reconciledMark(verdict) {
  const key = verdict === true ? 'true' : verdict === false ? 'false' : 'null'
  const [word, symbol, title] = RECONCILED[key]
  return element('span', { class: `recon recon-${key}`, title, 'data-reconciled': key },
    element('span', { 'aria-hidden': 'true' }, `${symbol} `), word, element('span', { class: 'visually-hidden' }, ` (${title})`))
}

const DATASETS = { statuses: 'TWAP status events', fills: 'Slice fills' }
const SHOWN_GAPS = 12

/**
 * Per dataset, whether every hour of the range is stored: "complete", or the missing hours
 * listed run by run, and the objects waiting for a retry. The range is the whole store's,
 * not the wallet's: an hour missing hides any wallet's rows.
 */
async function showCoverage(query, signal) {
  const coverage = await getJson('/api/v1/coverage', { start: query.start, end: query.end }, signal)
  const items = Object.entries(DATASETS).map(([name, label]) => {
    const dataset = coverage.datasets[name]
    const item = element('li', { class: `coverage-item ${dataset.complete ? 'complete' : 'incomplete'}`, 'data-dataset': name })
    if (dataset.complete) {
      item.append(element('span', { class: 'mark', 'aria-hidden': 'true' }, '✓'), ' ', element('strong', {}, label),
        `: complete, every hour of the range is stored (${plural(dataset.covered_hours, 'hour')}).`)
      return item
    }
    const what = dataset.covered_hours === 0 ? 'nothing stored for the range'
      : dataset.missing_hours > 0 ? `${plural(dataset.missing_hours, 'hour')} missing` : 'every hour stored, but objects failed'
    item.append(element('span', { class: 'mark', 'aria-hidden': 'true' }, '!'), ' ', element('strong', {}, label), `: incomplete, ${what}.`)
    if (dataset.gaps.length > 0) {
      const gaps = element('ul', { class: 'gaps', 'aria-label': `Hours of ${label.toLowerCase()} missing` })
      for (const gap of dataset.gaps.slice(0, SHOWN_GAPS)) {
        gaps.append(element('li', { class: 'gap' }, `Missing ${hourSpan(gap.start, gap.end)} (${plural(gap.hours, 'hour')})`))
      }
      if (dataset.gaps.length > SHOWN_GAPS) gaps.append(element('li', { class: 'gap' }, `and ${dataset.gaps.length - SHOWN_GAPS} more runs of missing hours`))
      item.append(gaps)
    }
    if (dataset.failed_objects.length > 0) {
      const failed = element('ul', { class: 'gaps', 'aria-label': `Objects of ${label.toLowerCase()} that failed` })
      for (const object of dataset.failed_objects.slice(0, SHOWN_GAPS)) {
        failed.append(element('li', { class: 'gap' }, `Failed to load ${object.key}: ${object.error} (retried on the next run)`))
      }
      item.append(failed)
    }
    return item
  })
  $('coverage-list').replaceChildren(...items)
  const complete = Object.keys(DATASETS).every((name) => coverage.datasets[name].complete)
  $('coverage').classList.toggle('incomplete', !complete)
  const note = complete ? [] : [element('p', { class: 'meta' },
    'Downloads of a range that is not complete are named …_incomplete. Details: ',
    element('a', { href: apiUrl('/api/v1/coverage', { start: query.start, end: query.end }) }, '/api/v1/coverage'))]
  $('coverage-note').replaceChildren(...note)
}

/** The missing hours from the first one's start to the last one's end: `2025-11-03 11:00 to 12:59 UTC`. */
function hourSpan(first, last) {
  const from = first.slice(0, 10) + ' ' + first.slice(11, 16)
  const to = (last.slice(0, 10) === first.slice(0, 10) ? '' : last.slice(0, 10) + ' ') + last.slice(11, 13) + ':59'
  return `${from} to ${to} UTC`
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** Fees by token, `0.04 USDC + 0.001 HYPE`. */
function fees(list) {
  return list.length === 0 ? 'no fees' : list.map((f) => `${f.amount} ${f.token ?? ''}`.trim()).join(' + ')
}

function renderDownloads(query) {
  const base = { wallet: query.wallet, start: query.start, end: query.end, asset: query.asset }
  const links = [
    ['CSV', '/api/v1/twaps', { ...base, format: 'csv' }],
    ['CSV, every event', '/api/v1/twaps', { ...base, format: 'csv', latest_per_twap: 'false' }],
    ['NDJSON', '/api/v1/twaps', { ...base, format: 'ndjson' }],
    ['Fills CSV', '/api/v1/fills', { ...base, format: 'csv' }],
    ['Fills NDJSON', '/api/v1/fills', { ...base, format: 'ndjson' }],
    ['Awaken (perps)', '/api/v1/fills', { ...base, format: 'awaken' }],
    ['Awaken (spot)', '/api/v1/fills', { ...base, format: 'awaken-spot' }],
    ['Koinly', '/api/v1/fills', { ...base, format: 'koinly' }],
    ['CoinTracker', '/api/v1/fills', { ...base, format: 'cointracker' }],
    ['Summary CSV', `/api/v1/wallets/${encodeURIComponent(query.wallet)}/summary`, { ...base, wallet: undefined, format: 'csv' }],
  ]
  $('downloads').replaceChildren(...links.map(([label, path, params]) =>
    element('a', { href: apiUrl(path, params), download: '' }, label)))
}

// ---- small DOM helpers

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

function cell(content, className) {
  const td = document.createElement('td')
  if (className) td.className = className
  td.append(content)
  return td
}

function badge(status) {
  const text = status ?? 'unknown'
  const kind = text.startsWith('error') ? 'error' : text.startsWith('waiting') ? 'waiting' : text
  return element('span', { class: `badge badge-${kind}` }, text)
}

/** `2025-11-03T12:30:00.25Z` → `2025-11-03 12:30:00 UTC`. */
function time(iso) {
  if (!iso) return '—'
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC')
}

/** A time for the TWAP table, allowed to break between its date and its time of day. */
function when(iso) {
  if (!iso) return '—'
  return element('time', { datetime: iso }, time(iso).replace(/ (UTC)$/, '\u00a0$1'))
}

function day(iso) {
  return iso.slice(0, 10)
}

// ---- start: the URL's query, else this year's range

async function showHealth() {
  try {
    const health = await getJson('/healthz')
    const last = health.last_ingested
    $('health').textContent = `Database ${health.database.status} (${health.database.engine})` +
      (last ? ` · newest object ingested ${time(last.ingested_at)}` : ' · nothing ingested yet') +
      (health.status === 'stale' ? ' · stale: the daily sync may have stopped' : '')
  } catch (error) {
    if (error instanceof Problem) showProblem(error)
  }
}

function start() {
  const query = urlQuery()
  if (!query.start && !query.end) Object.assign(query, presetRange('this-year'))
  fillForm(query)
  clearErrors()
  if (query.wallet) void run(query)
  else $('results').hidden = true
}

start()
void showHealth()
