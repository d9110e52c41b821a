// 申请补助: the county's programs open for applications (GET /counties/{id}/programs?open=true,
// CONTRACT §10) and an application with the amount typed in yuan.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')

Page(Object.assign({}, kit.formMixin, {
  data: { coopId: null, countyId: null, programs: [], selected: null, form: { amount: '', purpose: '' }, errors: {}, error: '', busy: false },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop), countyId: Number(query.county) })
    return this.load()
  },

  async load () {
    try {
      const body = await api.openPrograms(this.data.countyId)
      const items = Array.isArray(body) ? body : (body.items || [])
      this.setData({
        programs: items.map((p) => Object.assign({}, ui.withYuan(p), {
          years: p.end_year && p.end_year !== p.year ? p.year + '–' + p.end_year : String(p.year)
        }))
      })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onSelect (e) {
    const id = e.currentTarget.dataset.id
    this.setData({ selected: this.data.programs.find((p) => p.id === id) || null, errors: {} })
  },

  async onApply () {
    const errors = {}
    if (!this.data.selected) errors.program_id = '请选择补助项目'
    const amount = money.parseYuan(this.data.form.amount, { allowZero: false })
    if (!amount.ok) errors.amount_fen = amount.error
    if (!this.data.form.purpose.trim()) errors.purpose = '请填写用途'
    this.setData({ errors: errors })
    if (Object.keys(errors).length) return null
    const application = await kit.run(this, () => api.applyForSubsidy(this.data.coopId, {
      program_id: this.data.selected.id, amount_fen: amount.fen, purpose: this.data.form.purpose.trim()
    }))
    if (application) {
      ui.toast('已提交申请')
      this.setData({ form: { amount: '', purpose: '' } })
    }
    return application
  }
}))
