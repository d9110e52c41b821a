// 股金变动: submit a share operation (amount typed in yuan), and approve, reject or
// reverse the ones listed. Approve and reverse carry an Idempotency-Key (lib/api.js).
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')
const dates = require('../../lib/dates')

const TYPES = ['subscribe', 'transfer', 'redeem']
const KINDS = ['cash', 'land', 'collective_asset', 'fiscal_subsidy', 'labour']

function decorate (op) {
  return Object.assign({}, op, {
    type_label: ui.label('op_type', op.type),
    kind_label: ui.label('kind', op.kind),
    status_label: ui.label('op_status', op.status),
    amount_yuan: money.formatFen(op.amount_fen)
  })
}

Page(Object.assign({}, kit.formMixin, {
  data: {
    coopId: null,
    form: { member_id: '', to_member_id: '', amount: '', area_mu: '', tickets: '', effective_on: '', note: '' },
    typeIndex: 0,
    kindIndex: 0,
    typeLabels: TYPES.map((t) => ui.label('op_type', t)),
    kindLabels: KINDS.map((k) => ui.label('kind', k)),
    list: { items: [], page: 0, total: 0, hasMore: true },
    errors: {},
    error: '',
    busy: false
  },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop), 'form.effective_on': dates.todayInChina() })
    if (query.member) this.setData({ 'form.member_id': query.member })
    return this.reload()
  },

  reload () {
    return kit.loadList(this, 'list', (page) => api.shareOperations(this.data.coopId, { page: page }), { reset: true, decorate: decorate })
  },

  onReachBottom () {
    return kit.loadList(this, 'list', (page) => api.shareOperations(this.data.coopId, { page: page }), { decorate: decorate })
  },

  onTypeChange (e) { this.setData({ typeIndex: Number(e.detail.value) }) },
  onKindChange (e) { this.setData({ kindIndex: Number(e.detail.value) }) },
  onDateChange (e) { this.setData({ 'form.effective_on': e.detail.value }) },

  /** The request body from the form, or {errors} to show beside the fields. */
  buildBody () {
    const f = this.data.form
    const type = TYPES[this.data.typeIndex]
    const kind = KINDS[this.data.kindIndex]
    const errors = {}
    const body = { type: type, member_id: Number(f.member_id), kind: kind, effective_on: f.effective_on }
    if (!/^\d+$/.test(String(f.member_id))) errors.member_id = '请填写成员编号'
    if (type === 'transfer') {
      if (!/^\d+$/.test(String(f.to_member_id))) errors.to_member_id = '请填写受让成员编号'
      else body.to_member_id = Number(f.to_member_id)
    }
    if (kind === 'land') {
      if (!/^\d{1,8}(\.\d{1,2})?$/.test(String(f.area_mu).trim())) errors.area_mu = '面积为最多两位小数的亩数，如 6.50'
      else body.area_mu = String(f.area_mu).trim()
    } else if (kind === 'labour') {
      if (!/^[1-9]\d*$/.test(String(f.tickets).trim())) errors.tickets = '请填写劳务票张数'
      else body.tickets = Number(f.tickets)
    } else {
      const amount = money.parseYuan(f.amount, { allowZero: false })
      if (!amount.ok) errors.amount_fen = amount.error
      else body.amount_fen = amount.fen
    }
    if (f.note.trim()) body.note = f.note.trim()
    return Object.keys(errors).length ? { errors: errors } : { body: body }
  },

  async onSubmit () {
    const built = this.buildBody()
    this.setData({ errors: built.errors || {} })
    if (built.errors) return null
    const op = await kit.run(this, () => api.submitShareOperation(this.data.coopId, built.body))
    if (op) {
      ui.toast('已提交')
      this.setData({ 'form.amount': '', 'form.area_mu': '', 'form.tickets': '', 'form.note': '' })
      await this.reload()
    }
    return op
  },

  async onApprove (e) {
    const id = e.currentTarget.dataset.id
    if (!(await ui.confirm('批准后将写入股权登记簿，不可修改，只能冲正。确定批准？'))) return null
    const op = await kit.run(this, () => api.approveShareOperation(id))
    if (op) { ui.toast('已批准'); await this.reload() }
    return op
  },

  async onReject (e) {
    const id = e.currentTarget.dataset.id
    const op = await kit.run(this, () => api.rejectShareOperation(id, this.data.form.note.trim() || '负责人驳回'))
    if (op) { ui.toast('已驳回'); await this.reload() }
    return op
  },

  async onReverse (e) {
    const id = e.currentTarget.dataset.id
    if (!(await ui.confirm('冲正会写入一笔反向登记。确定冲正？'))) return null
    const op = await kit.run(this, () => api.reverseShareOperation(id, this.data.form.note.trim() || '登记有误，冲正'))
    if (op) { ui.toast('已冲正'); await this.reload() }
    return op
  }
}))

module.exports = { decorate }
