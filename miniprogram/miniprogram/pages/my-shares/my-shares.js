// 我的股份: my holding in each cooperative I belong to, by kind, with its register lines.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const money = require('../../lib/money')

function decorateHolding (h) {
  return {
    member_id: h.member_id,
    cooperative_name: h.cooperative_name,
    total_yuan: money.formatFen(h.total_fen),
    ratio: h.ratio,
    kinds: Object.keys(h.by_kind || {}).filter((k) => h.by_kind[k])
      .map((k) => ({ kind: k, label: ui.label('kind', k), yuan: money.formatFen(h.by_kind[k]) })),
    lines: (h.lines || []).map((l) => ({
      line_no: l.line_no,
      text: ui.label('op_type', l.operation_type) + ' · ' + ui.label('kind', l.kind),
      delta_yuan: money.formatFen(l.delta_fen),
      effective_on: l.effective_on
    }))
  }
}

Page({
  data: { asOf: '', holdings: [], error: '' },

  onShow () {
    return this.load()
  },

  async load () {
    try {
      const body = await api.myShares()
      this.setData({ asOf: body.as_of, holdings: body.items.map(decorateHolding), error: '' })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onPayouts () { wx.navigateTo({ url: '/pages/my-payouts/my-payouts' }) },
  onAccount () { wx.navigateTo({ url: '/pages/my-account/my-account' }) }
})

module.exports = { decorateHolding }
