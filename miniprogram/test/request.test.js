const test = require('node:test')
const assert = require('node:assert/strict')
const { fresh, lib, parse } = require('./helpers/wx')

function problem (status, code, detail, errors) {
  return { statusCode: status, data: { type: 'about:blank', title: 'x', status, code, detail, errors } }
}

function setup () {
  const wx = fresh()
  const request = lib('request')
  request.configure({ baseUrl: 'http://127.0.0.1:9' })
  return { wx, request }
}

test('sends the bearer token and returns the body', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A1', refresh_token: 'R1' })
  wx.route = (req) => {
    const r = parse(req)
    assert.equal(r.auth, 'Bearer A1')
    assert.equal(r.path, '/cooperatives/3/members')
    assert.deepEqual(r.query, { page: '2', per_page: '20', q: '王' })
    return { statusCode: 200, data: { items: [], page: 2, per_page: 20, total: 0 } }
  }
  const body = await request.get('/cooperatives/3/members', { page: 2, per_page: 20, q: '王', status: '' })
  assert.equal(body.total, 0)
})

test('a POST without a body sends {} as JSON, and idempotent calls carry a key', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A1', refresh_token: 'R1' })
  wx.route = () => ({ statusCode: 201, data: { id: 1 } })
  await request.post('/share-operations/1/approve', undefined, { idempotent: true })
  const sent = parse(wx.callsOf('request')[0])
  assert.deepEqual(sent.body, {})
  assert.equal(sent.header['Content-Type'], 'application/json')
  assert.match(sent.header['Idempotency-Key'], /^mp-/)
})

test('a problem becomes an ApiError with the Chinese detail and field errors', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A1', refresh_token: 'R1' })
  wx.route = () => problem(422, 'ID_CARD_INVALID', '身份证号校验位不正确', { id_card_no: ['校验位不正确'] })
  await assert.rejects(request.post('/cooperatives/1/members', {}), (err) => {
    assert.equal(err.name, 'ApiError')
    assert.equal(err.status, 422)
    assert.equal(err.code, 'ID_CARD_INVALID')
    assert.equal(err.detail, '身份证号校验位不正确')
    assert.deepEqual(err.errors, { id_card_no: ['校验位不正确'] })
    return true
  })
})

test('network failure and non-JSON answers still give a Chinese detail', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A1', refresh_token: 'R1' })
  wx.route = () => 'fail'
  await assert.rejects(request.get('/me'), (err) => err.code === 'NETWORK_ERROR' && /网络/.test(err.detail))
  wx.route = () => ({ statusCode: 502, data: '<html>bad gateway</html>' })
  await assert.rejects(request.get('/me'), (err) => err.status === 502 && /502/.test(err.detail))
})

test('TOKEN_EXPIRED: one refresh, shared by every waiting request, each retried once', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'OLD', refresh_token: 'R1' })
  let refreshes = 0
  wx.route = async (req) => {
    const r = parse(req)
    if (r.path === '/auth/refresh') {
      refreshes++
      assert.deepEqual(r.body, { refresh_token: 'R1' })
      assert.equal(r.auth, '')
      await new Promise((resolve) => setTimeout(resolve, 20))
      return { statusCode: 200, data: { access_token: 'NEW', refresh_token: 'R2', token_type: 'Bearer', expires_in: 900 } }
    }
    if (r.auth === 'Bearer OLD') return problem(401, 'TOKEN_EXPIRED', '登录已过期，请重新登录')
    return { statusCode: 200, data: { path: r.path } }
  }
  const results = await Promise.all([request.get('/a'), request.get('/b'), request.get('/c')])
  assert.deepEqual(results.map((x) => x.path), ['/a', '/b', '/c'])
  assert.equal(refreshes, 1)
  assert.equal(request.getAccessToken(), 'NEW')
  assert.equal(request.getRefreshToken(), 'R2')
  assert.equal(wx.callsOf('request').length, 3 + 1 + 3)
  assert.equal(wx.callsOf('reLaunch').length, 0)
})

test('the retry after a refresh keeps the same Idempotency-Key', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'OLD', refresh_token: 'R1' })
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/auth/refresh') return { statusCode: 200, data: { access_token: 'NEW', refresh_token: 'R2' } }
    if (r.auth === 'Bearer OLD') return problem(401, 'TOKEN_EXPIRED', '登录已过期')
    return { statusCode: 201, data: { id: 9 } }
  }
  await request.post('/cooperatives/1/share-operations', { type: 'subscribe' }, { idempotent: true })
  const keys = wx.callsOf('request').filter((q) => !q.url.endsWith('/auth/refresh'))
    .map((q) => q.header['Idempotency-Key'])
  assert.equal(keys.length, 2)
  assert.equal(keys[0], keys[1])
})

test('a request that expired after somebody else refreshed does not spend a second refresh', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'OLD', refresh_token: 'R1' })
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/auth/refresh') throw new Error('must not refresh')
    if (r.auth === 'Bearer OLD') {
      // Meanwhile another page refreshed.
      request.setTokens({ access_token: 'NEWER', refresh_token: 'R9' })
      return problem(401, 'TOKEN_EXPIRED', '登录已过期')
    }
    return { statusCode: 200, data: { ok: r.auth } }
  }
  assert.deepEqual(await request.get('/me'), { ok: 'Bearer NEWER' })
})

test('REFRESH_REUSED: tokens cleared, back to login once, every waiter rejected', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'OLD', refresh_token: 'SPENT' })
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/auth/refresh') return problem(401, 'REFRESH_REUSED', '刷新令牌已被使用，该登录已全部失效，请重新登录')
    return problem(401, 'TOKEN_EXPIRED', '登录已过期')
  }
  const outcomes = await Promise.allSettled([request.get('/a'), request.get('/b')])
  for (const o of outcomes) {
    assert.equal(o.status, 'rejected')
    assert.equal(o.reason.code, 'REFRESH_REUSED')
  }
  assert.equal(request.hasTokens(), false)
  assert.deepEqual(wx.callsOf('reLaunch'), [{ url: '/pages/login/login' }])
  assert.equal(wx.callsOf('request').filter((q) => q.url.endsWith('/auth/refresh')).length, 1)
})

test('a revoked family (TOKEN_INVALID) sends the user back to login without a refresh', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A', refresh_token: 'R' })
  wx.route = () => problem(401, 'TOKEN_INVALID', '登录已失效，请重新登录')
  await assert.rejects(request.get('/me'), (err) => err.code === 'TOKEN_INVALID')
  assert.equal(request.hasTokens(), false)
  assert.equal(wx.callsOf('reLaunch').length, 1)
  assert.equal(wx.callsOf('request').length, 1)
})

test('a still-expired retry is not retried again', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A', refresh_token: 'R' })
  wx.route = (req) => parse(req).path === '/auth/refresh'
    ? { statusCode: 200, data: { access_token: 'B', refresh_token: 'R2' } }
    : problem(401, 'TOKEN_EXPIRED', '登录已过期')
  await assert.rejects(request.get('/me'), (err) => err.code === 'TOKEN_EXPIRED')
  assert.equal(wx.callsOf('request').length, 3) // request, refresh, one retry
})

test('a refresh that fails for a passing reason keeps the login', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A', refresh_token: 'R' })
  wx.route = (req) => parse(req).path === '/auth/refresh'
    ? problem(429, 'RATE_LIMITED', '请求过于频繁')
    : problem(401, 'TOKEN_EXPIRED', '登录已过期')
  await assert.rejects(request.get('/me'), (err) => err.code === 'RATE_LIMITED')
  assert.equal(request.hasTokens(), true)
  assert.equal(wx.callsOf('reLaunch').length, 0)
})

test('auth:false calls send no token and never refresh', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A', refresh_token: 'R' })
  wx.route = () => problem(401, 'BAD_CREDENTIALS', '手机号或密码错误')
  await assert.rejects(request.post('/auth/login', { phone: '1', password: 'x' }, { auth: false }),
    (err) => err.code === 'BAD_CREDENTIALS')
  assert.equal(parse(wx.callsOf('request')[0]).auth, '')
  assert.equal(wx.callsOf('reLaunch').length, 0)
})

test('uploads refresh too and parse the JSON text wx.uploadFile returns', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'OLD', refresh_token: 'R' })
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/auth/refresh') return { statusCode: 200, data: { access_token: 'NEW', refresh_token: 'R2' } }
    if (r.auth === 'Bearer OLD') return problem(401, 'TOKEN_EXPIRED', '登录已过期')
    assert.equal(req.name, 'file')
    return { statusCode: 201, data: { year: 2024, count: 3, amount_fen: 1000 } }
  }
  const body = await request.upload({ path: '/cooperatives/1/years/2024/trades', filePath: 'wxfile://t.xlsx' })
  assert.deepEqual(body, { year: 2024, count: 3, amount_fen: 1000 })
  assert.equal(wx.callsOf('uploadFile').length, 2)
})

test('a failed download reads the problem from the file', async () => {
  const { wx, request } = setup()
  request.setTokens({ access_token: 'A', refresh_token: 'R' })
  wx.route = () => problem(403, 'FORBIDDEN', '无权下载该批次的银行文件')
  await assert.rejects(request.download({ path: '/payout-batches/1/bank-file' }),
    (err) => err.code === 'FORBIDDEN' && err.detail === '无权下载该批次的银行文件')
  wx.route = () => ({ statusCode: 200, data: '\ufeff行号,金额' })
  const ok = await request.download({ path: '/payout-batches/1/bank-file' })
  assert.match(ok.tempFilePath, /wx-stub/)
})
