// 发放批次: the batch's totals and lines, the bank file for the bank (downloaded with the
// token, then opened or forwarded), and the bank's results entered line by line.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')
const dates = require('../../lib/dates')

function decorate (l) {
  return Object.assign({}, l, { amount_yuan: money.formatFen(l.amount_fen), status_label: ui.label('line_status', l.status) })
}

Page(Object.assign({}, kit.formMixin, {
  data: { id: null, batch: null, lines: { items: [], page: 0, total: 0, hasMore: true }, form: { bank_ref: '' }, errors: {}, error: '', busy: false },

  onLoad (query) {
    this.setData({ id: Number(query.id) })
    return this.load()
  },

  async load () {
    try {
      const batch = await api.payoutBatch(this.data.id)
      this.setData({ batch: ui.withYuan(batch) })
    } catch (err) {
      ui.showApiError(this, err)
    }
    return kit.loadList(this, 'lines', (page) => api.payoutLines(this.data.id, { page: page }), { reset: true, decorate: decorate })
  },

  onReachBottom () {
    return kit.loadList(this, 'lines', (page) => api.payoutLines(this.data.id, { page: page }), { decorate: decorate })
  },

  // The bank file is CSV; wx.openDocument previews office/PDF types, so when it cannot open
  // the file we offer to forward it to a chat (the bank clerk's usual way of receiving it).
  async onBankFile () {
    const file = await kit.run(this, () => api.bankFile(this.data.id))
    if (!file) return null
    const fileName = 'payout-batch-' + this.data.id + '.csv'
    return new Promise((resolve) => {
      wx.openDocument({
        filePath: file.tempFilePath,
        showMenu: true,
        success: () => resolve('opened'),
        fail: () => {
          wx.shareFileMessage({
            filePath: file.tempFilePath,
            fileName: fileName,
            success: () => resolve('shared'),
            fail: () => resolve('cancelled')
          })
        }
      })
    })
  },

  async record (lineId, status) {
    const result = { line_id: lineId, status: status, paid_on: dates.todayInChina() }
    const ref = this.data.form.bank_ref.trim()
    if (status === 'paid') {
      if (!ref) {
        this.setData({ 'errors.bank_ref': '请填写银行流水号' })
        return null
      }
      result.bank_ref = ref
    } else {
      delete result.paid_on
      if (ref) result.bank_ref = ref
    }
    const answer = await kit.run(this, () => api.postPayoutResults(this.data.id, [result]))
    if (answer) { ui.toast('已登记'); await this.load() }
    return answer
  },

  onPaid (e) { return this.record(e.currentTarget.dataset.id, 'paid') },
  onFailed (e) { return this.record(e.currentTarget.dataset.id, 'failed') }
}))
