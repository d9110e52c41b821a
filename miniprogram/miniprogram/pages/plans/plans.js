// 盈余分配方案: the cooperative's plans and a new draft for a year.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')
const dates = require('../../lib/dates')

function decorate (p) {
  return Object.assign({}, p, { status_label: ui.label('plan_status', p.status), distributable_yuan: money.formatFen(p.distributable_fen) })
}

Page(Object.assign({}, kit.formMixin, {
  data: {
    coopId: null,
    form: { year: '', reserve_rate: '0.10', patronage_rate: '0.60' },
    list: { items: [], page: 0, total: 0, hasMore: true },
    errors: {},
    error: '',
    busy: false
  },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop), 'form.year': String(dates.yearInChina() - 1) })
  },

  onShow () {
    return kit.loadList(this, 'list', (page) => api.distributions(this.data.coopId, { page: page }), { reset: true, decorate: decorate })
  },

  async onCreate () {
    const f = this.data.form
    const errors = {}
    if (!/^\d{4}$/.test(f.year)) errors.year = '请填写年度，如 2024'
    if (!/^0(\.\d{1,4})?$|^1(\.0+)?$/.test(f.reserve_rate)) errors.reserve_rate = '比例为 0 到 1 的小数，如 0.10'
    if (f.patronage_rate && !/^0(\.\d{1,4})?$|^1(\.0+)?$/.test(f.patronage_rate)) errors.patronage_rate = '比例为 0 到 1 的小数，如 0.60'
    this.setData({ errors: errors })
    if (Object.keys(errors).length) return null
    // Rates travel as decimal strings (CONTRACT §0), never as floats.
    const body = { year: Number(f.year), reserve_rate: f.reserve_rate }
    if (f.patronage_rate) body.patronage_rate = f.patronage_rate
    const plan = await kit.run(this, () => api.createDistribution(this.data.coopId, body))
    if (plan) wx.navigateTo({ url: '/pages/plan/plan?id=' + plan.id })
    return plan
  },

  onOpen (e) {
    wx.navigateTo({ url: '/pages/plan/plan?id=' + e.currentTarget.dataset.id })
  }
}))
