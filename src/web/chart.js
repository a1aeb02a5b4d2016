import uPlot from './vendor/uPlot.esm.js'

const DAY_SECONDS = 86_400
// Distinguishable in light and dark, and for the common colour-vision deficiencies (Okabe–Ito).
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#999999']

/**
 * Executed notional per UTC day, one stacked bar per asset, of the TWAPs given (each counted
 * on the day of its latest event, with its executed notional then). Returns the chart so
 * the caller can destroy it before drawing the next one.
 * @param {HTMLElement} element
 * @param {{ asset: string | null, latest_ts: string, executed: { notional: string | null } }[]} twaps
 * @returns {uPlot | null}
 */
export function drawNotionalChart(element, twaps) {
  element.replaceChildren()
  const byAsset = new Map()
  const days = new Set()
  for (const twap of twaps) {
    const notional = Number(twap.executed.notional ?? 0)
    if (!(notional > 0)) continue
    const day = Math.floor(Date.parse(twap.latest_ts) / 1000 / DAY_SECONDS) * DAY_SECONDS
    const asset = twap.asset ?? '(unknown)'
    days.add(day)
    const perDay = byAsset.get(asset) ?? new Map()
    perDay.set(day, (perDay.get(day) ?? 0) + notional)
    byAsset.set(asset, perDay)
  }
  if (days.size === 0) {
    const note = document.createElement('p')
    note.className = 'meta'
    note.textContent = 'Nothing executed in the TWAPs shown.'
    element.append(note)
    return null
  }
  const xs = [...days].sort((a, b) => a - b)
  // Largest assets at the bottom of each stack.
  const assets = [...byAsset.keys()].sort((a, b) => total(byAsset.get(b)) - total(byAsset.get(a)))
  const own = assets.map((asset) => xs.map((day) => byAsset.get(asset).get(day) ?? 0))
  // Stacked by drawing running totals, tallest first, so each shorter bar covers the one behind it.
  const stacked = own.map((_, i) => xs.map((_, d) => own.slice(0, i + 1).reduce((sum, series) => sum + series[d], 0)))
  const order = assets.map((_, i) => i).reverse()
  const style = getComputedStyle(document.documentElement)
  const fg = style.getPropertyValue('--fg').trim() || '#000'
  const line = style.getPropertyValue('--line').trim() || '#ccc'
  const bars = uPlot.paths.bars({ size: [0.7, 48] })
  const axis = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line } }
  return new uPlot({
    width: Math.max(280, element.clientWidth || 600),
    height: 220,
    scales: { x: { time: true, range: (_u, min, max) => [min - DAY_SECONDS, max + DAY_SECONDS] } },
    axes: [axis, { ...axis, size: 70, values: (_u, ticks) => ticks.map(compact) }],
    legend: { live: true },
    series: [
      { value: (_u, ts) => (ts == null ? '' : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...order.map((i) => ({
        label: assets[i],
        stroke: COLORS[i % COLORS.length],
        fill: COLORS[i % COLORS.length],
        width: 0,
        paths: bars,
        points: { show: false },
        value: (_u, _v, _s, index) => (index == null ? '' : compact(own[i][index])),
      })),
    ],
  }, [xs, ...order.map((i) => stacked[i])], element)
}

function total(perDay) {
  let sum = 0
  for (const value of perDay.values()) sum += value
  return sum
}

/** 1234567 → "1.23M", for axis ticks and the legend. */
function compact(value) {
  return new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 2 }).format(value)
}
