// The end-to-end road: the mini-program's own modules (request, auth, api, money, idcard,
// subscribe) with wx.request routed to the real backend that run.sh started.
// A manager: WeChat login → bind with the county's invitation → add a member → subscribe
// cash → approve → read the register, with an access-token expiry and a shared refresh in
// the middle. A member: bind with the manager's invitation → my shares, my payouts, my
// account. Finally a spent refresh token ends the login (REFRESH_REUSED → back to login).
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const { createNodeWx } = require('./wx-node')

const BASE = process.env.E2E_BASE_URL
const ROOT = path.join(__dirname, '..', 'miniprogram')
const ADMIN = { phone: '13800000001', password: 'coop-demo-2024' } // coop/seed.py
const MANAGER_PHONE = '13800000011' // the first demo cooperative's manager

// One phone = one wx with its own storage; the client's modules are loaded per phone.
function phone () {
  const wx = createNodeWx()
  globalThis.wx = wx
  for (const key of Object.keys(require.cache)) if (key.startsWith(ROOT)) delete require.cache[key]
  const request = require(path.join(ROOT, 'lib', 'request'))
  request.configure({ baseUrl: BASE })
  return {
    wx,
    request,
    auth: require(path.join(ROOT, 'lib', 'auth')),
    api: require(path.join(ROOT, 'lib', 'api')),
    money: require(path.join(ROOT, 'lib', 'money')),
    idcard: require(path.join(ROOT, 'lib', 'idcard')),
    dates: require(path.join(ROOT, 'lib', 'dates')),
    subscribe: require(path.join(ROOT, 'lib', 'subscribe'))
  }
}

// The county admin's side (the web console's job) done with plain HTTP.
function raw (method, urlPath, body, token) {
  return new Promise((resolve, reject) => {
    const url = new URL(BASE + '/api/v1' + urlPath)
    const data = body === undefined ? null : JSON.stringify(body)
    const headers = { Accept: 'application/json' }
    if (data) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = Buffer.byteLength(data) }
    if (token) headers.Authorization = 'Bearer ' + token
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, timeout: 15000 }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json = null
        try { json = JSON.parse(text) } catch (e) { json = text }
        resolve({ status: res.statusCode, body: json })
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    if (data) req.write(data)
    req.end()
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// JWT_ACCESS_SECONDS=2 plus the server's 5-second leeway: wait past both.
const WAIT_FOR_EXPIRY_MS = 8000

const state = {}

// Pick up a phone: the client's modules read the global `wx` on every call.
function use (p) {
  globalThis.wx = p.wx
  return p
}

test('the backend is up and the county can invite the manager', async () => {
  assert.ok(BASE, 'E2E_BASE_URL must be set (run e2e/run.sh)')
  const login = await raw('POST', '/auth/login', ADMIN)
  assert.equal(login.status, 200, JSON.stringify(login.body))
  const users = await raw('GET', '/users?q=' + MANAGER_PHONE, undefined, login.body.access_token)
  assert.equal(users.status, 200)
  const manager = users.body.items.find((u) => u.phone === MANAGER_PHONE)
  assert.ok(manager, 'demo manager present')
  const invite = await raw('POST', '/users/' + manager.id + '/invitations', undefined, login.body.access_token)
  assert.equal(invite.status, 201, JSON.stringify(invite.body))
  state.managerInvite = invite.body.invite_code
})

test('manager: WeChat login, bind with the invitation, see the cooperative', async () => {
  const p = phone()
  state.manager = p
  p.wx.loginCodes.push('ok:e2e-manager-openid')
  const first = await p.auth.loginWithWechat()
  assert.deepEqual(first, { bound: false })

  // A wrong code is refused with the server's Chinese detail, and the bind token survives.
  await assert.rejects(p.auth.bindWithInvite('WRONG-CODE'), (err) => {
    assert.equal(err.code, 'INVITE_INVALID')
    assert.match(err.detail, /邀请码/)
    return true
  })
  const user = await p.auth.bindWithInvite(state.managerInvite)
  const entries = p.auth.homeEntries(user)
  const coop = entries.find((e) => e.kind === 'cooperative')
  assert.ok(coop, 'a coop_manager role came back')
  state.coopId = coop.id
  assert.ok(p.request.hasTokens())

  // Logging in again with the same WeChat account is now a plain login.
  p.wx.loginCodes.push('ok:e2e-manager-openid')
  const again = await p.auth.loginWithWechat()
  assert.equal(again.bound, true)

  const cooperative = await p.api.cooperative(state.coopId)
  assert.equal(cooperative.id, state.coopId)
  const compliance = await p.api.compliance(state.coopId)
  assert.equal(typeof compliance.member_count.ok, 'boolean')
})

test('manager: add a member (ID card checked on the phone first)', async () => {
  const p = use(state.manager)
  const first17 = '37172219880808' + String(100 + (Date.now() % 800)).padStart(3, '0')
  const idNo = first17 + p.idcard.idCardCheckChar(first17)
  assert.equal(p.idcard.idNumberError(idNo, 'farmer'), '')

  // The server agrees about a bad check digit: 422 with a Chinese detail.
  const bad = first17 + (p.idcard.idCardCheckChar(first17) === '0' ? '1' : '0')
  assert.notEqual(p.idcard.idNumberError(bad, 'farmer'), '')
  await assert.rejects(p.api.addMember(state.coopId, {
    name: '端到端成员', id_card_no: bad, member_type: 'farmer', joined_on: p.dates.todayInChina()
  }), (err) => err.status === 422 && err.code === 'ID_CARD_INVALID' && /[\u4e00-\u9fff]/.test(err.detail))

  const member = await p.api.addMember(state.coopId, {
    name: '端到端成员', id_card_no: idNo, phone: '13912345678', member_type: 'farmer',
    joined_on: p.dates.todayInChina(), bank_name: '单县农村商业银行', bank_account: '6228480000000000123'
  })
  assert.ok(member.id)
  assert.match(member.id_card_no, /\*/, 'the ID card comes back masked')
  state.memberId = member.id

  const found = await p.api.members(state.coopId, { q: '端到端' })
  assert.ok(found.items.some((m) => m.id === member.id))
  assert.equal(found.page, 1)
})

test('manager: the access token expires; three requests share one refresh', async () => {
  const p = use(state.manager)
  state.spentRefresh = p.request.getRefreshToken()
  state.expiredAccess = p.request.getAccessToken()
  await sleep(WAIT_FOR_EXPIRY_MS)
  const before = p.wx.log.length
  const [coop, members, register] = await Promise.all([
    p.api.cooperative(state.coopId),
    p.api.members(state.coopId, { per_page: 5 }),
    p.api.shareRegister(state.coopId, p.dates.todayInChina())
  ])
  assert.equal(coop.id, state.coopId)
  assert.equal(members.per_page, 5)
  assert.ok(Array.isArray(register.members))
  const exchanges = p.wx.log.slice(before)
  assert.equal(exchanges.filter((x) => x.path.endsWith('/auth/refresh')).length, 1, JSON.stringify(exchanges))
  assert.equal(exchanges.filter((x) => x.status === 401).length, 3)
  assert.notEqual(p.request.getRefreshToken(), state.spentRefresh)
  assert.deepEqual(p.wx.relaunched, [])
})

test('manager: subscribe cash in yuan, approve, read the register', async () => {
  const p = use(state.manager)
  const amount = p.money.parseYuan('1,000.50', { allowZero: false })
  assert.deepEqual(amount, { ok: true, fen: 100050 })
  const op = await p.api.submitShareOperation(state.coopId, {
    type: 'subscribe', member_id: state.memberId, kind: 'cash', amount_fen: amount.fen,
    effective_on: p.dates.todayInChina(), note: '端到端认购'
  })
  assert.equal(op.status, 'submitted')
  const approved = await p.api.approveShareOperation(op.id)
  assert.equal(approved.status, 'approved')
  await assert.rejects(p.api.approveShareOperation(op.id), (err) => err.status === 409 && Boolean(err.detail))

  const register = await p.api.shareRegister(state.coopId, p.dates.todayInChina())
  const line = register.members.find((m) => m.member_id === state.memberId)
  assert.ok(line, 'the member is on the register')
  assert.equal(line.total_fen, 100050)
  assert.equal(p.money.formatFen(line.total_fen), '1,000.50')
})

test('manager: subscribe messages are skipped gracefully while the server lacks them', async () => {
  const p = use(state.manager)
  p.wx.subscribeAnswer = { errMsg: 'requestSubscribeMessage:ok', 'tmpl-task': 'accept' }
  const result = await p.subscribe.requestSubscriptions(['task_created'], { task_created: 'tmpl-task' })
  // 404 today (not built yet) → skipped; once /me/subscriptions exists → recorded.
  assert.ok(['', 'unavailable'].includes(result.skipped), JSON.stringify(result))
})

test('member: bind with the manager\'s invitation, my shares, my payouts, my account', async () => {
  const invite = await use(state.manager).api.inviteMember(state.memberId)
  assert.ok(invite.invite_code)
  const p = phone() // the member's own phone
  state.member = p
  p.wx.loginCodes.push('ok:e2e-member-openid')
  assert.deepEqual(await p.auth.loginWithWechat(), { bound: false })
  const user = await p.auth.bindWithInvite(invite.invite_code)
  assert.ok(p.auth.homeEntries(user).some((e) => e.kind === 'member'))

  const shares = await p.api.myShares()
  assert.equal(shares.items.length, 1)
  assert.equal(shares.items[0].member_id, state.memberId)
  assert.equal(shares.items[0].total_fen, 100050)
  assert.equal(shares.items[0].by_kind.cash, 100050)

  const payouts = await p.api.myPayouts()
  assert.deepEqual(payouts.items, [])
  assert.equal(payouts.total, 0)

  const account = await p.api.myAccount()
  assert.equal(account.items[0].contribution_fen, 100050)
})

test('member: the token expires and is refreshed on the way', async () => {
  const p = use(state.member)
  await sleep(WAIT_FOR_EXPIRY_MS)
  const shares = await p.api.myShares()
  assert.equal(shares.items[0].total_fen, 100050)
  assert.equal(p.wx.log.filter((x) => x.path.endsWith('/auth/refresh')).length, 1)
})

test('a spent refresh token ends the login: REFRESH_REUSED → back to login', async () => {
  const p = use(state.manager)
  const liveAccess = p.request.getAccessToken()
  // Put the old, spent pair back, as a second copy of the app holding stale tokens would.
  p.request.setTokens({ access_token: state.expiredAccess, refresh_token: state.spentRefresh })
  await assert.rejects(p.api.cooperative(state.coopId), (err) => err.code === 'REFRESH_REUSED')
  assert.equal(p.request.hasTokens(), false)
  assert.deepEqual(p.wx.relaunched, ['/pages/login/login'])
  // The whole family is revoked: the newer access token stopped working too.
  const me = await raw('GET', '/me', undefined, liveAccess)
  assert.equal(me.status, 401)
})
