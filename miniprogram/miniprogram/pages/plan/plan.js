// 分配方案: the plan's figures and lines, and its steps — submit, record the members'
// assembly, publish the notice (公示, with the public link to share), approve, then the
// payout batch. Which step is allowed is the API's call (409 STATE_CONFLICT otherwise);
// the page offers the next step by the plan's status and shows whatever the API answers.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')
const dates = require('../../lib/dates')

const FIGURES = [
  ['surplus_fen', '可分配盈余'], ['reserve_fen', '提取公积金'], ['distributable_fen', '可分配金额'],
  ['patronage_pool_fen', '按交易量返还'], ['share_pool_fen', '按股分配']
]

Page(Object.assign({}, kit.formMixin, {
  data: {
    id: null,
    plan: null,
    figures: [],
    lines: { items: [], page: 0, total: 0, hasMore: true },
    form: { held_on: '', basic_votes_total: '', extra_votes_total: '0', votes_for: '', votes_against: '0', abstentions: '0', notice_days: '7' },
    errors: {},
    error: '',
    busy: false
  },

  onLoad (query) {
    this.setData({ id: Number(query.id), 'form.held_on': dates.todayInChina() })
    return this.load()
  },

  async load () {
    try {
      const plan = await api.distribution(this.data.id)
      this.showPlan(plan)
    } catch (err) {
      ui.showApiError(this, err)
    }
    return kit.loadList(this, 'lines', (page) => api.distributionLines(this.data.id, { page: page }), {
      reset: true,
      decorate: (l) => Object.assign({}, l, { total_yuan: money.formatFen(l.total_fen), patronage_yuan: money.formatFen(l.patronage_fen), share_yuan: money.formatFen(l.share_fen) })
    })
  },

  onReachBottom () {
    return kit.loadList(this, 'lines', (page) => api.distributionLines(this.data.id, { page: page }), {
      decorate: (l) => Object.assign({}, l, { total_yuan: money.formatFen(l.total_fen) })
    })
  },

  showPlan (plan) {
    this.setData({
      plan: Object.assign({}, plan, {
        status_label: ui.label('plan_status', plan.status),
        notice_ends_text: dates.formatTimestamp(plan.notice_ends_at)
      }),
      figures: FIGURES.map((f) => ({ key: f[0], name: f[1], yuan: money.formatFen(plan[f[0]]) }))
    })
  },

  async act (action, body) {
    const plan = await kit.run(this, () => api.distributionAction(this.data.id, action, body))
    if (plan) { this.showPlan(plan); ui.toast('已完成') }
    return plan
  },

  onSubmit () { return this.act('submit') },

  onAssembly () {
    const f = this.data.form
    const body = { held_on: f.held_on }
    const errors = {}
    for (const k of ['basic_votes_total', 'extra_votes_total', 'votes_for', 'votes_against', 'abstentions']) {
      if (!/^\d+$/.test(String(f[k]).trim())) errors[k] = '请填写整数票数'
      else body[k] = Number(f[k])
    }
    this.setData({ errors: errors })
    if (Object.keys(errors).length) return null
    return this.act('record-assembly', body)
  },

  onHeldOn (e) { this.setData({ 'form.held_on': e.detail.value }) },

  onPublish () {
    const days = String(this.data.form.notice_days).trim()
    if (!/^\d+$/.test(days)) {
      this.setData({ 'errors.notice_days': '请填写公示天数' })
      return null
    }
    return this.act('publish', { notice_days: Number(days) })
  },

  async onApprove () {
    if (!(await ui.confirm('批准后方案不可再改，可生成发放批次。确定批准？'))) return null
    return this.act('approve')
  },

  async onCancel () {
    if (!(await ui.confirm('撤销后需重新生成方案。确定撤销？'))) return null
    return this.act('cancel')
  },

  onCopyLink () {
    wx.setClipboardData({ data: this.data.plan.public_url })
  },

  async onPayoutBatch () {
    const existing = this.data.plan.payout_batch_id
    if (existing) {
      wx.navigateTo({ url: '/pages/batch/batch?id=' + existing })
      return existing
    }
    const batch = await kit.run(this, () => api.createPayoutBatch(this.data.id))
    if (batch) wx.navigateTo({ url: '/pages/batch/batch?id=' + batch.id })
    return batch && batch.id
  }
}))
