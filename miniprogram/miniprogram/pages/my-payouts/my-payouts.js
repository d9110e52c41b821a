// 我的分红: my payout lines, newest year first, 20 at a time.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const money = require('../../lib/money')

function decorate (p) {
  return Object.assign({}, p, {
    amount_yuan: money.formatFen(p.amount_fen),
    status_label: ui.label('line_status', p.status),
    source_label: ui.label('source', p.source)
  })
}

Page({
  data: { list: { items: [], page: 0, total: 0, hasMore: true }, error: '' },

  onShow () {
    return kit.loadList(this, 'list', (page) => api.myPayouts({ page: page }), { reset: true, decorate: decorate })
  },

  onReachBottom () {
    return kit.loadList(this, 'list', (page) => api.myPayouts({ page: page }), { decorate: decorate })
  }
})

module.exports = { decorate }
