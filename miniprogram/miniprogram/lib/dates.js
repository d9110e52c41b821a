// Dates as a person in Shandong reads them: China's calendar (UTC+8, no daylight saving),
// whatever zone the phone is set to (CONTRACT §10 "one calendar").
const CHINA_OFFSET_MS = 8 * 3600 * 1000

function pad (n) {
  return String(n).padStart(2, '0')
}

function chinaParts (date) {
  const shifted = new Date(date.getTime() + CHINA_OFFSET_MS)
  return {
    y: shifted.getUTCFullYear(),
    m: shifted.getUTCMonth() + 1,
    d: shifted.getUTCDate(),
    hh: shifted.getUTCHours(),
    mm: shifted.getUTCMinutes()
  }
}

/** Today in China as YYYY-MM-DD (the default for effective_on, as_of, paid_on). */
function todayInChina (now) {
  const p = chinaParts(now || new Date())
  return p.y + '-' + pad(p.m) + '-' + pad(p.d)
}

/** The current year in China (the year a manager is most likely to be working on). */
function yearInChina (now) {
  return chinaParts(now || new Date()).y
}

/** An RFC 3339 timestamp from the API → "YYYY-MM-DD HH:mm" China time; '' if absent. */
function formatTimestamp (text) {
  if (!text) return ''
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) return String(text)
  const p = chinaParts(new Date(ms))
  return p.y + '-' + pad(p.m) + '-' + pad(p.d) + ' ' + pad(p.hh) + ':' + pad(p.mm)
}

/** A date from the API (YYYY-MM-DD) shown as is: it is already a calendar date. */
function formatDate (text) {
  return text ? String(text).slice(0, 10) : ''
}

module.exports = { todayInChina, yearInChina, formatTimestamp, formatDate }
