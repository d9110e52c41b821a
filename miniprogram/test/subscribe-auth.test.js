const test = require('node:test')
const assert = require('node:assert/strict')
const { fresh, lib, parse } = require('./helpers/wx')

function setup () {
  const wx = fresh()
  lib('request').configure({ baseUrl: 'http://127.0.0.1:9' })
  lib('request').setTokens({ access_token: 'A', refresh_token: 'R' })
  return wx
}

const TEMPLATES = { task_created: 'T1', payout_paid: 'T2', payout_failed: 'T3', notice_published: '' }

test('each answer is posted as {template_key, accepted}', async () => {
  const wx = setup()
  wx.subscribeAnswer = { errMsg: 'requestSubscribeMessage:ok', T1: 'accept', T2: 'reject', T3: 'ban' }
  wx.route = () => ({ statusCode: 201, data: {} })
  const result = await lib('subscribe').requestSubscriptions(['task_created', 'payout_paid', 'payout_failed', 'notice_published'], TEMPLATES)
  assert.deepEqual(wx.callsOf('requestSubscribeMessage')[0].tmplIds, ['T1', 'T2', 'T3'])
  assert.deepEqual(wx.callsOf('request').map((r) => parse(r).body), [
    { template_key: 'task_created', accepted: true },
    { template_key: 'payout_paid', accepted: false },
    { template_key: 'payout_failed', accepted: false }
  ])
  assert.deepEqual(result, { asked: ['task_created', 'payout_paid', 'payout_failed'], accepted: ['task_created'], skipped: '' })
})

test('a server without /me/subscriptions (404) is skipped and not asked again', async () => {
  const wx = setup()
  wx.subscribeAnswer = { T1: 'accept' }
  wx.route = () => ({ statusCode: 404, data: { code: 'NOT_FOUND', detail: '未找到' } })
  const subscribe = lib('subscribe')
  assert.equal((await subscribe.requestSubscriptions(['task_created'], TEMPLATES)).skipped, 'unavailable')
  assert.equal((await subscribe.requestSubscriptions(['task_created'], TEMPLATES)).skipped, 'unavailable')
  assert.equal(wx.callsOf('requestSubscribeMessage').length, 1)
  assert.equal(wx.callsOf('showModal').length, 0)
})

test('no template configured, or WeChat refuses: nothing is posted', async () => {
  const wx = setup()
  const subscribe = lib('subscribe')
  assert.equal((await subscribe.requestSubscriptions(['notice_published'], TEMPLATES)).skipped, 'no_templates')
  wx.subscribeAnswer = null
  assert.equal((await subscribe.requestSubscriptions(['task_created'], TEMPLATES)).skipped, 'wechat_refused')
  assert.equal(wx.callsOf('request').length, 0)
})

test('logout revokes on the server and forgets the tokens even when offline', async () => {
  const wx = setup()
  wx.route = () => 'fail'
  await lib('auth').logout()
  assert.deepEqual(parse(wx.callsOf('request')[0]).body, { refresh_token: 'R' })
  assert.equal(lib('request').hasTokens(), false)
})

test('bind without a bind token asks to log in again', async () => {
  setup()
  await assert.rejects(lib('auth').bindWithInvite('X'), (err) => err.code === 'BIND_TOKEN_MISSING' && /重新登录/.test(err.detail))
})

test('fieldErrors flattens nested and row-numbered errors', () => {
  fresh()
  const ui = lib('ui')
  assert.deepEqual(ui.fieldErrors({ errors: { person: { name: ['必填'] }, amount_fen: ['须大于 0', '过大'], 3: ['成员不存在'] } }),
    { 'person.name': '必填', amount_fen: '须大于 0；过大', 3: '成员不存在' })
  assert.deepEqual(ui.fieldErrors({}), {})
})
