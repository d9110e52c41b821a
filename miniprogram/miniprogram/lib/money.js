// Money: the API speaks integer fen (分) in every field ending `_fen`; people read and
// type yuan (元) with two decimals and thousands separators. This is the only place the
// two meet. Conversion is done on text and BigInt only: a binary float cannot hold 0.1
// exactly, and 0.1 + 0.2 must never become a fen too many on somebody's dividend.

// Far above any real figure, below Number.MAX_SAFE_INTEGER so a fen amount is still an
// exact JSON integer (the backend's own limit, coop/money.py MAX_FEN, is higher still).
const MAX_FEN = 10n ** 15n

// "1234", "1,234", "1,234.5", "-1,234.56": optional sign, digits either without commas or
// grouped by three, then at most two decimals.
const YUAN_PATTERN = /^(-?)(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/

/**
 * Parse yuan text into integer fen.
 * Returns {ok: true, fen} (fen a safe Number integer) or {ok: false, error} with a Chinese
 * message to show beside the field.
 * options: allowNegative (default false), allowZero (default true), required (default true).
 */
function parseYuan (text, options) {
  const opts = Object.assign({ allowNegative: false, allowZero: true, required: true }, options)
  const raw = String(text == null ? '' : text)
    .replace(/[\s\u00a0]/g, '')
    .replace(/[，]/g, ',')
    .replace(/[．。]/g, '.')
    .replace(/^[¥￥]/, '')
  if (raw === '') {
    return opts.required ? { ok: false, error: '请填写金额' } : { ok: true, fen: null }
  }
  if (/^-?[\d,]*\.\d{3,}$/.test(raw)) return { ok: false, error: '金额最多两位小数（到分）' }
  const m = YUAN_PATTERN.exec(raw)
  if (!m) return { ok: false, error: '金额格式不正确，例如 1,234.56' }
  const negative = m[1] === '-'
  const yuan = BigInt(m[2].replace(/,/g, ''))
  const cents = BigInt((m[3] || '').padEnd(2, '0'))
  let fen = yuan * 100n + cents
  if (negative) fen = -fen
  if (fen < 0n && !opts.allowNegative) return { ok: false, error: '金额不能为负数' }
  if (fen === 0n && !opts.allowZero) return { ok: false, error: '金额须大于 0' }
  if (fen > MAX_FEN || fen < -MAX_FEN) return { ok: false, error: '金额过大' }
  return { ok: true, fen: Number(fen) }
}

/** Like parseYuan but throws on bad input; for code paths that already validated. */
function yuanToFen (text, options) {
  const result = parseYuan(text, options)
  if (!result.ok) throw new Error(result.error)
  return result.fen
}

function toBigInt (fen) {
  if (typeof fen === 'bigint') return fen
  if (typeof fen === 'number') {
    if (!Number.isSafeInteger(fen)) throw new TypeError('fen must be a whole number: ' + fen)
    return BigInt(fen)
  }
  if (typeof fen === 'string' && /^-?\d+$/.test(fen)) return BigInt(fen)
  throw new TypeError('fen must be a whole number: ' + fen)
}

function groupThousands (digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * Format integer fen as yuan text: 123456 → "1,234.56", -5 → "-0.05".
 * options.grouping false → "1234.56" (for prefilling an input).
 * null / undefined → "" so an absent figure shows as blank, not as 0.00.
 */
function formatFen (fen, options) {
  if (fen === null || fen === undefined || fen === '') return ''
  const grouping = !(options && options.grouping === false)
  let value = toBigInt(fen)
  const negative = value < 0n
  if (negative) value = -value
  const yuan = (value / 100n).toString()
  const cents = (value % 100n).toString().padStart(2, '0')
  return (negative ? '-' : '') + (grouping ? groupThousands(yuan) : yuan) + '.' + cents
}

/** "¥1,234.56" for figures shown on their own. */
function formatYuan (fen) {
  const text = formatFen(fen)
  return text === '' ? '' : '¥' + text
}

module.exports = { parseYuan, yuanToFen, formatFen, formatYuan, MAX_FEN }
