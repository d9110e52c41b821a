const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const fc = require('fast-check')
const { ROOT } = require('./helpers/wx')
const money = require(path.join(ROOT, 'lib', 'money'))

const { parseYuan, formatFen } = money

test('formats fen as yuan with separators and two decimals', () => {
  assert.equal(formatFen(0), '0.00')
  assert.equal(formatFen(5), '0.05')
  assert.equal(formatFen(123456), '1,234.56')
  assert.equal(formatFen(100000000), '1,000,000.00')
  assert.equal(formatFen(-5), '-0.05')
  assert.equal(formatFen(-123456789), '-1,234,567.89')
  assert.equal(formatFen(123456, { grouping: false }), '1234.56')
  assert.equal(formatFen('100000000000000'), '1,000,000,000,000.00')
  assert.equal(formatFen(null), '')
  assert.equal(money.formatYuan(1), '¥0.01')
})

test('refuses fractional or unsafe fen', () => {
  assert.throws(() => formatFen(1.5))
  assert.throws(() => formatFen(2 ** 60))
  assert.throws(() => formatFen('12.3'))
})

test('parses the ways people type yuan', () => {
  assert.deepEqual(parseYuan('1,234.56'), { ok: true, fen: 123456 })
  assert.deepEqual(parseYuan('1234.5'), { ok: true, fen: 123450 })
  assert.deepEqual(parseYuan(' 1234 '), { ok: true, fen: 123400 })
  assert.deepEqual(parseYuan('0.01'), { ok: true, fen: 1 })
  assert.deepEqual(parseYuan('¥12'), { ok: true, fen: 1200 })
  assert.deepEqual(parseYuan('1，000。5'), { ok: true, fen: 100050 })
  assert.deepEqual(parseYuan('0.1'), { ok: true, fen: 10 })
  assert.deepEqual(parseYuan('-3.20', { allowNegative: true }), { ok: true, fen: -320 })
  assert.deepEqual(parseYuan('', { required: false }), { ok: true, fen: null })
})

test('rejects garbage, too many decimals and negatives', () => {
  for (const bad of ['abc', '1.2.3', '1,23.00', '12,3456', '1e5', '0x10', '.5', '5.', '--1', '1 000x', 'NaN', 'Infinity']) {
    assert.equal(parseYuan(bad).ok, false, bad)
  }
  assert.match(parseYuan('1.234').error, /两位小数/)
  assert.match(parseYuan('-1').error, /负数/)
  assert.match(parseYuan('0', { allowZero: false }).error, /大于 0/)
  assert.match(parseYuan('').error, /请填写/)
  assert.match(parseYuan('99999999999999999').error, /过大/)
})

test('property: fen → yuan text → fen round-trips for every amount up to 10^12 fen', () => {
  for (const edge of [0n, 1n, 99n, 100n, 101n, 999999n, 10n ** 12n - 1n, 10n ** 12n]) {
    assert.equal(parseYuan(formatFen(edge)).fen, Number(edge))
  }
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), (fen) => {
    const text = formatFen(fen)
    assert.equal(parseYuan(text).fen, Number(fen))
    assert.equal(parseYuan(formatFen(fen, { grouping: false })).fen, Number(fen))
  }), { numRuns: 5000 })
})

test('property: negative amounts round-trip when allowed', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), (fen) => {
    assert.equal(parseYuan(formatFen(fen), { allowNegative: true }).fen, Number(fen))
  }), { numRuns: 2000 })
})

test('property: yuan text → fen → text gives the canonical spelling', () => {
  const digits = fc.stringMatching(/^(0|[1-9]\d{0,9})$/)
  const decimals = fc.constantFrom('', '.0', '.5', '.05', '.50', '.99', '.1')
  fc.assert(fc.property(digits, decimals, (whole, dec) => {
    const text = whole + dec
    const parsed = parseYuan(text)
    assert.equal(parsed.ok, true)
    const cents = (dec.slice(1) + '00').slice(0, 2)
    assert.equal(formatFen(parsed.fen, { grouping: false }), whole + '.' + cents)
  }), { numRuns: 3000 })
})

test('property: random text never parses to a non-integer, never throws', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const r = parseYuan(s)
    if (r.ok && r.fen !== null) assert.ok(Number.isSafeInteger(r.fen))
  }), { numRuns: 3000 })
})

test('the conversion uses no floating point', () => {
  const source = fs.readFileSync(path.join(ROOT, 'lib', 'money.js'), 'utf8')
    .replace(/\/\/.*$/gm, '')
  for (const banned of ['parseFloat', 'toFixed', 'Math.round', '/ 100)', '* 100)', 'Number(text']) {
    assert.ok(!source.includes(banned), 'money.js must not use ' + banned)
  }
})
