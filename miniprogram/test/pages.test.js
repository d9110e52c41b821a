const test = require('node:test')
const assert = require('node:assert/strict')
const { fresh, lib, parse } = require('./helpers/wx')
const { loadPage, ev } = require('./helpers/page')

function problem (status, code, detail, errors) {
  return { statusCode: status, data: { status, code, detail, errors } }
}

function setup () {
  const wx = fresh()
  lib('request').configure({ baseUrl: 'http://127.0.0.1:9' })
  lib('request').setTokens({ access_token: 'A', refresh_token: 'R' })
  return wx
}

const page20 = (items, total) => ({ statusCode: 200, data: { items, page: 1, per_page: 20, total } })

test('login: bound → home; not bound → bind page; WeChat errors shown in Chinese', async () => {
  let wx = setup()
  lib('request').clearTokens()
  wx.route = () => ({ statusCode: 200, data: { access_token: 'A', refresh_token: 'R', user: { id: 1, roles: [] } } })
  const p = loadPage('login')
  await p.onLogin()
  assert.deepEqual(wx.callsOf('reLaunch'), [{ url: '/pages/home/home' }])
  assert.deepEqual(parse(wx.callsOf('request')[0]).body, { code: 'ok:openid-1' })

  wx = setup()
  lib('request').clearTokens()
  wx.route = () => ({ statusCode: 200, data: { bound: false, bind_token: 'BT', expires_in: 600 } })
  await loadPage('login').onLogin()
  assert.deepEqual(wx.callsOf('navigateTo'), [{ url: '/pages/bind/bind' }])
  assert.equal(wx.getStorageSync('bind_token'), 'BT')

  wx = setup()
  lib('request').clearTokens()
  wx.route = () => problem(401, 'WECHAT_CODE_INVALID', '微信登录凭证无效，请重试')
  const p3 = loadPage('login')
  await p3.onLogin()
  assert.equal(p3.data.error, '微信登录凭证无效，请重试')
  assert.equal(wx.callsOf('showModal')[0].content, '微信登录凭证无效，请重试')
})

test('bind: sends the code with the bind token; INVITE_INVALID shown', async () => {
  const wx = setup()
  wx.setStorageSync('bind_token', 'BT')
  wx.route = () => problem(422, 'INVITE_INVALID', '邀请码无效、已过期或已被使用')
  const p = loadPage('bind')
  await p.onBind()
  assert.equal(p.data.errors.invite_code, '请输入邀请码')
  p.onInput(ev({ field: 'invite_code' }, ' ABC123 '))
  await p.onBind()
  assert.deepEqual(parse(wx.callsOf('request')[0]).body, { bind_token: 'BT', invite_code: 'ABC123' })
  assert.equal(p.data.error, '邀请码无效、已过期或已被使用')
  wx.route = () => ({ statusCode: 200, data: { access_token: 'A2', refresh_token: 'R2', user: { id: 3, roles: [] } } })
  await p.onBind()
  assert.deepEqual(wx.callsOf('reLaunch'), [{ url: '/pages/home/home' }])
  assert.equal(wx.getStorageSync('bind_token'), '')
})

test('home: entries from /me; missing task and inbox routes leave no badge', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/me') return { statusCode: 200, data: { id: 1, name: '王', roles: [{ role: 'coop_manager', scope_type: 'cooperative', scope_id: 7 }, { role: 'member', scope_type: 'member', scope_id: 9 }] } }
    return problem(404, 'NOT_FOUND', '未找到')
  }
  const p = loadPage('home')
  await p.onShow()
  assert.deepEqual(p.data.entries.map((e) => [e.kind, e.id]), [['cooperative', 7], ['member', 9]])
  assert.equal(p.data.taskCount, null)
  assert.equal(wx.callsOf('showModal').length, 0)
})

test('members: search, paged list and load more', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    const n = Number(r.query.page)
    return { statusCode: 200, data: { items: [{ id: n, name: '成员' + n, member_type: 'farmer', status: 'active' }], page: n, per_page: 20, total: 2 } }
  }
  const p = loadPage('members')
  p.onLoad({ coop: '5' })
  p.onSearchInput(ev({}, ' 王 '))
  await p.onShow()
  assert.equal(parse(wx.callsOf('request')[0]).path, '/cooperatives/5/members')
  assert.equal(parse(wx.callsOf('request')[0]).query.q, '王')
  assert.equal(p.data.list.items[0].type_label, '农户')
  assert.equal(p.data.list.hasMore, true)
  await p.onReachBottom()
  assert.equal(p.data.list.items.length, 2)
  assert.equal(p.data.list.hasMore, false)
  await p.onReachBottom() // nothing more to load
  assert.equal(wx.callsOf('request').length, 2)
})

test('member-edit: the ID check digit is checked on the phone; server field errors shown beside fields', async () => {
  const wx = setup()
  const p = loadPage('member-edit')
  p.onLoad({ coop: '5' })
  p.onInput(ev({ field: 'name' }, '张三'))
  p.onInput(ev({ field: 'id_card_no' }, '110105194912310021'))
  assert.equal(await p.onSubmit(), null)
  assert.match(p.data.errors.id_card_no, /校验位/)
  assert.equal(wx.callsOf('request').length, 0)

  p.onInput(ev({ field: 'id_card_no' }, '11010519491231002x'))
  p.onInput(ev({ field: 'bank_account' }, '6228 4800 0000 0001'))
  wx.route = () => problem(422, 'ID_CARD_DUPLICATE', '该身份证号已是本社成员', { id_card_no: ['已存在'] })
  await p.onSubmit()
  const body = parse(wx.callsOf('request')[0]).body
  assert.equal(body.id_card_no, '11010519491231002X')
  assert.equal(body.bank_account, '6228480000000001')
  assert.equal(p.data.errors.id_card_no, '已存在')
  assert.equal(wx.callsOf('showModal').length, 0, 'field errors are shown beside the field, not in a modal')
})

test('member-edit: edit the bank account and issue an invitation', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.method === 'GET') return { statusCode: 200, data: { id: 8, name: '李四', member_type: 'farmer', status: 'active', bank_name: '农行', bank_account: '****0001' } }
    if (r.method === 'PATCH') return { statusCode: 200, data: { id: 8, bank_name: r.body.bank_name, bank_account: '****9999' } }
    return { statusCode: 201, data: { invite_code: 'INV-1', expires_at: '2024-05-01T00:00:00+00:00' } }
  }
  const p = loadPage('member-edit')
  await p.onLoad({ coop: '5', id: '8' })
  assert.equal(p.data.member.name, '李四')
  p.onInput(ev({ field: 'bank_account' }, '6228489999'))
  await p.onSaveBank()
  assert.deepEqual(parse(wx.callsOf('request')[1]).body, { bank_name: '农行', bank_account: '6228489999' })
  assert.equal(p.data.member.bank_account, '****9999')
  await p.onInvite()
  assert.equal(p.data.invite.invite_code, 'INV-1')
  assert.equal(p.data.invite.expires_text, '2024-05-01 08:00')
})

test('share-ops: yuan typed, fen sent with an Idempotency-Key; approve asks first', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.method === 'GET') return page20([{ id: 4, type: 'subscribe', kind: 'cash', status: 'submitted', amount_fen: 123456, member_id: 2 }], 1)
    return { statusCode: 201, data: { id: 4, status: r.path.endsWith('/approve') ? 'approved' : 'submitted' } }
  }
  const p = loadPage('share-ops')
  await p.onLoad({ coop: '5' })
  assert.equal(p.data.list.items[0].amount_yuan, '1,234.56')
  p.onInput(ev({ field: 'member_id' }, '2'))
  p.onInput(ev({ field: 'amount' }, '1,000.555'))
  assert.equal(await p.onSubmit(), null)
  assert.match(p.data.errors.amount_fen, /两位小数/)
  p.onInput(ev({ field: 'amount' }, '1,000.55'))
  await p.onSubmit()
  const post = wx.callsOf('request').map(parse).find((r) => r.method === 'POST')
  assert.equal(post.body.amount_fen, 100055)
  assert.equal(post.body.type, 'subscribe')
  assert.match(post.header['Idempotency-Key'], /^mp-/)

  wx.modalAnswer = false
  assert.equal(await p.onApprove(ev({ id: 4 })), null)
  wx.modalAnswer = true
  const approved = await p.onApprove(ev({ id: 4 }))
  assert.equal(approved.status, 'approved')
})

test('share-ops: a business-rule refusal shows the Chinese detail', async () => {
  const wx = setup()
  wx.route = (req) => parse(req).method === 'GET' ? page20([], 0)
    : problem(422, 'SINGLE_MEMBER_CAP_EXCEEDED', '单个成员持股不得超过股金总额的 20%')
  const p = loadPage('share-ops')
  await p.onLoad({ coop: '5' })
  const op = await p.onApprove(ev({ id: 1 }))
  assert.equal(op, null)
  assert.equal(p.data.error, '单个成员持股不得超过股金总额的 20%')
})

test('register: as-of date defaults to today in China and amounts show in yuan', async () => {
  const wx = setup()
  wx.route = () => ({ statusCode: 200, data: { as_of: '2024-06-30', total_fen: 1000000, members: [{ member_id: 1, name: '王', by_kind: { cash: 600000, land: 400000, labour: 0 }, total_fen: 1000000, ratio: '1.0000' }] } })
  const p = loadPage('register')
  await p.onLoad({ coop: '5' })
  assert.equal(parse(wx.callsOf('request')[0]).query.as_of, lib('dates').todayInChina())
  assert.equal(p.data.register.total_yuan, '10,000.00')
  assert.equal(p.data.register.members[0].kinds, '现金 6,000.00，土地 4,000.00')
  await p.onDateChange(ev({}, '2023-12-31'))
  assert.equal(parse(wx.callsOf('request')[1]).query.as_of, '2023-12-31')
})

test('year: figures in yuan → fen; a spreadsheet from a chat is uploaded; row errors listed', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.path.endsWith('/trades') && req.filePath) return problem(422, 'VALIDATION_FAILED', '表格有错误，未导入', { 3: ['成员不存在'] })
    if (r.path.endsWith('/trades')) return page20([], 0)
    if (r.method === 'PUT') return { statusCode: 200, data: Object.assign({ id: 1 }, r.body) }
    return problem(404, 'NOT_FOUND', '未找到')
  }
  const p = loadPage('year')
  await p.onLoad({ coop: '5', year: '2024' })
  assert.equal(wx.callsOf('showModal').length, 0, 'a year not entered yet is not an error')
  p.onInput(ev({ field: 'revenue_fen' }, '100,000.10'))
  p.onInput(ev({ field: 'cost_fen' }, '40000'))
  p.onInput(ev({ field: 'labour_days' }, '12'))
  await p.onSave()
  const put = wx.callsOf('request').map(parse).find((r) => r.method === 'PUT')
  assert.deepEqual(put.body, { revenue_fen: 10000010, cost_fen: 4000000, labour_days: 12 })

  wx.chosenFiles = [{ path: 'wxfile://trades.xlsx', name: 'trades.xlsx' }]
  await p.onUpload()
  assert.deepEqual(wx.callsOf('chooseMessageFile')[0].extension, ['xlsx', 'csv'])
  assert.equal(wx.callsOf('uploadFile')[0].filePath, 'wxfile://trades.xlsx')
  assert.deepEqual(p.data.rowErrors, [{ row: '3', message: '成员不存在' }])
})

test('plan: steps post to the action routes; the public link can be copied', async () => {
  const wx = setup()
  const plan = { id: 3, year: 2024, status: 'assembly_approved', surplus_fen: 500000, reserve_fen: 50000, distributable_fen: 450000, patronage_pool_fen: 270000, share_pool_fen: 180000 }
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/distributions/3/lines') return page20([{ id: 1, name: '王', total_fen: 450000 }], 1)
    if (r.path === '/distributions/3/publish') return { statusCode: 200, data: Object.assign({}, plan, { status: 'publicized', public_url: 'https://x/public/disclosures/t', notice_ends_at: '2024-03-08T16:00:00+00:00' }) }
    return { statusCode: 200, data: plan }
  }
  const p = loadPage('plan')
  await p.onLoad({ id: '3' })
  assert.equal(p.data.figures[2].yuan, '4,500.00')
  p.onInput(ev({ field: 'notice_days' }, '7'))
  await p.onPublish()
  const pub = wx.callsOf('request').map(parse).find((r) => r.path.endsWith('/publish'))
  assert.deepEqual(pub.body, { notice_days: 7 })
  assert.equal(p.data.plan.status, 'publicized')
  assert.equal(p.data.plan.notice_ends_text, '2024-03-09 00:00')
  p.onCopyLink()
  assert.deepEqual(wx.callsOf('setClipboardData'), [{ data: 'https://x/public/disclosures/t' }])
})

test('plan: NOTICE_PERIOD_NOT_OVER is shown as the server says', async () => {
  const wx = setup()
  wx.route = (req) => parse(req).path.endsWith('/approve')
    ? problem(409, 'NOTICE_PERIOD_NOT_OVER', '公示期未满，不能批准')
    : (parse(req).path.endsWith('/lines') ? page20([], 0) : { statusCode: 200, data: { id: 3, status: 'publicized' } })
  const p = loadPage('plan')
  await p.onLoad({ id: '3' })
  await p.onApprove()
  assert.equal(p.data.error, '公示期未满，不能批准')
})

test('batch: bank file opened, or forwarded when it cannot be; results posted', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/payout-batches/6/bank-file') return { statusCode: 200, data: '\ufeff行号' }
    if (r.path === '/payout-batches/6/lines') return page20([{ id: 61, payee_name: '王', amount_fen: 1000, status: 'pending' }], 1)
    if (r.path === '/payout-batches/6/results') return { statusCode: 200, data: { id: 6 } }
    return { statusCode: 200, data: { id: 6, line_count: 1, total_fen: 1000, paid_fen: 0, pending_fen: 1000, failed_fen: 0, reversed_fen: 0 } }
  }
  const p = loadPage('batch')
  await p.onLoad({ id: '6' })
  assert.equal(p.data.batch.total_yuan, '10.00')
  assert.equal(await p.onBankFile(), 'opened')
  wx.openDocument = (opts) => setImmediate(() => opts.fail({ errMsg: 'openDocument:fail filetype not supported' }))
  assert.equal(await p.onBankFile(), 'shared')
  assert.equal(wx.callsOf('shareFileMessage')[0].fileName, 'payout-batch-6.csv')

  await p.onPaid(ev({ id: 61 }))
  assert.equal(p.data.errors.bank_ref, '请填写银行流水号')
  p.onInput(ev({ field: 'bank_ref' }, 'B001'))
  await p.onPaid(ev({ id: 61 }))
  const results = wx.callsOf('request').map(parse).find((r) => r.path.endsWith('/results'))
  assert.deepEqual(results.body, [{ line_id: 61, status: 'paid', paid_on: lib('dates').todayInChina(), bank_ref: 'B001' }])
})

test('subsidy: open programs from the county; amount in yuan sent as fen', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.method === 'GET') {
      assert.equal(r.path, '/counties/2/programs')
      assert.equal(r.query.open, 'true')
      return page20([{ id: 11, name: '产业发展资金', year: 2024, end_year: 2026, budget_fen: 100000000, available_fen: 2500000 }], 1)
    }
    return { statusCode: 201, data: { id: 99, status: 'submitted' } }
  }
  const p = loadPage('subsidy')
  await p.onLoad({ coop: '5', county: '2' })
  assert.equal(p.data.programs[0].available_yuan, '25,000.00')
  assert.equal(p.data.programs[0].years, '2024–2026')
  await p.onApply()
  assert.equal(p.data.errors.program_id, '请选择补助项目')
  p.onSelect(ev({ id: 11 }))
  p.onInput(ev({ field: 'amount' }, '20,000'))
  p.onInput(ev({ field: 'purpose' }, '冷库建设'))
  await p.onApply()
  const post = wx.callsOf('request').map(parse).find((r) => r.method === 'POST')
  assert.deepEqual(post.body, { program_id: 11, amount_fen: 2000000, purpose: '冷库建设' })
})

test('tasks: kinds in Chinese, China time, links to the object', async () => {
  const wx = setup()
  wx.route = () => ({ statusCode: 200, data: { items: [
    { kind: 'plan_ready_to_approve', object_type: 'distribution', object_id: 3, title: '2024 年分配方案', since: '2024-03-08T16:00:00Z' },
    { kind: 'batch_with_failed_lines', object_type: 'payout_batch', object_id: 6, title: '批次 6', since: '2024-03-09T01:00:00+00:00' }
  ], total: 2 } })
  const p = loadPage('tasks')
  await p.onShow()
  assert.equal(p.data.items[0].kind_label, '分配方案公示期满待批准')
  assert.equal(p.data.items[0].since_text, '2024-03-09 00:00')
  assert.equal(p.data.items[1].url, '/pages/batch/batch?id=6')
  p.onOpen(ev({ url: p.data.items[0].url }))
  assert.deepEqual(wx.callsOf('navigateTo'), [{ url: '/pages/plan/plan?id=3' }])
})

test('inbox: unread count, newest first as served, reading marks one read', async () => {
  const wx = setup()
  wx.route = (req) => parse(req).method === 'GET'
    ? { statusCode: 200, data: { items: [{ id: 2, title: '分红已到账', created_at: '2024-03-09T01:00:00Z', read_at: null }], page: 1, per_page: 20, total: 1, unread: 1 } }
    : { statusCode: 204, data: '' }
  const p = loadPage('inbox')
  await p.onShow()
  assert.equal(p.data.unread, 1)
  await p.onRead(ev({ id: 2 }))
  assert.equal(parse(wx.callsOf('request')[1]).path, '/me/notifications/2/read')
  assert.equal(p.data.unread, 0)
  assert.ok(p.data.list.items[0].read_at)
})

test('member pages: my shares, my payouts, my account in yuan', async () => {
  const wx = setup()
  wx.route = (req) => {
    const r = parse(req)
    if (r.path === '/me/shares') return { statusCode: 200, data: { as_of: '2024-06-30', items: [{ member_id: 1, cooperative_name: '富民合作社', by_kind: { cash: 100050, land: 0 }, total_fen: 100050, ratio: '0.1000', lines: [{ line_no: 7, operation_type: 'subscribe', kind: 'cash', delta_fen: 100050, effective_on: '2024-01-02' }] }] } }
    if (r.path === '/me/payouts') return page20([{ id: 1, year: 2023, source: 'distribution', amount_fen: 8888, status: 'paid' }], 1)
    return { statusCode: 200, data: { year: null, items: [{ member_id: 1, cooperative_name: '富民合作社', contribution_fen: 100050, reserve_share_fen: 10, transaction_volume_fen: 0, subsidy_share_fen: 0, distributions_received_fen: 8888 }] } }
  }
  const shares = loadPage('my-shares')
  await shares.onShow()
  assert.equal(shares.data.holdings[0].total_yuan, '1,000.50')
  assert.deepEqual(shares.data.holdings[0].kinds.map((k) => k.label), ['现金'])
  assert.equal(shares.data.holdings[0].lines[0].text, '认购 · 现金')
  const payouts = loadPage('my-payouts')
  await payouts.onShow()
  assert.equal(payouts.data.list.items[0].amount_yuan, '88.88')
  assert.equal(payouts.data.list.items[0].status_label, '已支付')
  const account = loadPage('my-account')
  await account.onShow()
  assert.equal(account.data.accounts[0].figures[0].yuan, '1,000.50')
  await account.onYear(ev({}, '2023-01-01'))
  assert.equal(parse(wx.callsOf('request').at(-1)).query.year, '2023')
})

test('a 403 from the API is shown as is: the client decides nothing', async () => {
  const wx = setup()
  wx.route = () => problem(403, 'FORBIDDEN', '您的角色不能执行此操作')
  const p = loadPage('coop')
  await p.onLoad({ id: '5' })
  assert.equal(p.data.error, '您的角色不能执行此操作')
  assert.equal(wx.callsOf('showModal')[0].content, '您的角色不能执行此操作')
})
