// 年度经营数据与交易: the year's figures (typed in yuan, sent in fen) and the members'
// trades, uploaded as a spreadsheet chosen from a WeChat chat (wx.chooseMessageFile).
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')
const dates = require('../../lib/dates')

const MONEY_FIELDS = ['revenue_fen', 'cost_fen', 'prior_loss_fen', 'wages_paid_fen', 'fiscal_subsidy_fen']

function decorateTrade (t) {
  return Object.assign({}, t, { amount_yuan: money.formatFen(t.amount_fen) })
}

Page(Object.assign({}, kit.formMixin, {
  data: {
    coopId: null,
    year: null,
    form: { revenue_fen: '', cost_fen: '', prior_loss_fen: '', wages_paid_fen: '', fiscal_subsidy_fen: '', labour_days: '' },
    locked: false,
    trades: { items: [], page: 0, total: 0, hasMore: true },
    errors: {},
    error: '',
    busy: false,
    uploaded: null,
    rowErrors: []
  },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop), year: Number(query.year) || dates.yearInChina() - 1 })
    return this.load()
  },

  onYearChange (e) {
    this.setData({ year: Number(e.detail.value.slice(0, 4)) })
    return this.load()
  },

  async load () {
    try {
      const acc = await api.yearAccounts(this.data.coopId, this.data.year)
      const patch = { locked: Boolean(acc.locked), 'form.labour_days': String(acc.labour_days || 0) }
      MONEY_FIELDS.forEach((f) => { patch['form.' + f] = money.formatFen(acc[f], { grouping: false }) })
      this.setData(patch)
    } catch (err) {
      if (err.status !== 404) ui.showApiError(this, err) // 404: nothing entered for the year yet
    }
    return kit.loadList(this, 'trades', (page) => api.trades(this.data.coopId, this.data.year, { page: page }),
      { reset: true, decorate: decorateTrade })
  },

  onReachBottom () {
    return kit.loadList(this, 'trades', (page) => api.trades(this.data.coopId, this.data.year, { page: page }),
      { decorate: decorateTrade })
  },

  buildBody () {
    const f = this.data.form
    const errors = {}
    const body = {}
    MONEY_FIELDS.forEach((field) => {
      const parsed = money.parseYuan(f[field], { required: field === 'revenue_fen' || field === 'cost_fen' })
      if (!parsed.ok) errors[field] = parsed.error
      else if (parsed.fen !== null) body[field] = parsed.fen
    })
    const days = String(f.labour_days || '0').trim()
    if (!/^\d+$/.test(days)) errors.labour_days = '请填写整数天数'
    else body.labour_days = Number(days)
    return Object.keys(errors).length ? { errors: errors } : { body: body }
  },

  async onSave () {
    const built = this.buildBody()
    this.setData({ errors: built.errors || {} })
    if (built.errors) return null
    const saved = await kit.run(this, () => api.putYearAccounts(this.data.coopId, this.data.year, built.body))
    if (saved) ui.toast('已保存')
    return saved
  },

  onUpload () {
    return new Promise((resolve) => {
      wx.chooseMessageFile({
        count: 1,
        type: 'file',
        extension: ['xlsx', 'csv'],
        success: async (res) => {
          const file = res.tempFiles[0]
          this.setData({ rowErrors: [] })
          const result = await kit.run(this, () => api.uploadTrades(this.data.coopId, this.data.year, file.path).catch((err) => {
            // All rows or none: list every refused row of the spreadsheet under the button.
            const rows = ui.fieldErrors(err)
            this.setData({ rowErrors: Object.keys(rows).map((row) => ({ row: row, message: rows[row] })) })
            throw err
          }))
          if (result) {
            this.setData({ uploaded: { count: result.count, amount_yuan: money.formatFen(result.amount_fen) } })
            ui.toast('已导入')
            await this.load()
          }
          resolve(result)
        },
        fail: () => resolve(null) // the user closed the picker
      })
    })
  }
}))

module.exports = { MONEY_FIELDS }
