const test = require('node:test')
const assert = require('node:assert/strict')
const { lib } = require('./helpers/wx')
const idcard = lib('idcard')
const dates = lib('dates')

test('GB 11643 check character', () => {
  // The standard's worked example.
  assert.equal(idcard.idCardCheckChar('11010519491231002'), 'X')
  assert.equal(idcard.isValidIdCard('11010519491231002X'), true)
  assert.equal(idcard.isValidIdCard('11010519491231002x'), true)
  assert.equal(idcard.isValidIdCard('110105194912310021'), false)
  assert.equal(idcard.isValidIdCard('37172219800101001'), false)
  assert.equal(idcard.isValidIdCard('abc'), false)
})

test('every last digit but the right one is refused', () => {
  const first17 = '37172219850615123'
  const right = idcard.idCardCheckChar(first17)
  for (const c of '0123456789X') {
    assert.equal(idcard.isValidIdCard(first17 + c), c === right, c)
  }
})

test('GB 32100 credit codes for collective and enterprise members', () => {
  assert.equal(idcard.isValidCreditCode('91350100M000100Y43'), true)
  assert.equal(idcard.isValidCreditCode('91350100M000100Y44'), false)
  assert.equal(idcard.idNumberError('91350100M000100Y43', 'enterprise'), '')
  assert.match(idcard.idNumberError('91350100M000100Y43', 'farmer'), /校验位/)
  assert.match(idcard.idNumberError('', 'farmer'), /请填写/)
  assert.match(idcard.idNumberError('123', 'farmer'), /18 位/)
  assert.equal(idcard.idNumberError('11010519491231002X', 'farmer'), '')
})

test('today is China\'s date whatever the phone\'s zone', () => {
  // 2024-03-31 17:30 UTC is already 1 April in Shandong.
  assert.equal(dates.todayInChina(new Date('2024-03-31T17:30:00Z')), '2024-04-01')
  assert.equal(dates.todayInChina(new Date('2024-03-31T15:59:00Z')), '2024-03-31')
  assert.equal(dates.yearInChina(new Date('2024-12-31T16:00:00Z')), 2025)
})

test('timestamps are shown in China time', () => {
  assert.equal(dates.formatTimestamp('2024-05-01T00:30:00+00:00'), '2024-05-01 08:30')
  assert.equal(dates.formatTimestamp('2024-05-01T23:30:00-02:00'), '2024-05-02 09:30')
  assert.equal(dates.formatTimestamp(''), '')
  assert.equal(dates.formatDate('2024-05-01'), '2024-05-01')
})
