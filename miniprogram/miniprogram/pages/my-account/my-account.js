// 我的成员账户 (Art. 43): contribution, quantified reserve and subsidy shares, trade volume
// and distributions received, per cooperative, for all years or one.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const money = require('../../lib/money')

const FIGURES = [
  ['contribution_fen', '出资额'], ['reserve_share_fen', '量化公积金份额'], ['transaction_volume_fen', '与本社交易额'],
  ['subsidy_share_fen', '财政补助量化份额'], ['distributions_received_fen', '已分得盈余']
]

function decorateAccount (a) {
  return {
    member_id: a.member_id,
    cooperative_name: a.cooperative_name,
    as_of: a.as_of,
    figures: FIGURES.map((f) => ({ key: f[0], name: f[1], yuan: money.formatFen(a[f[0]] || 0) }))
  }
}

Page({
  data: { year: '', accounts: [], error: '' },

  onShow () {
    return this.load()
  },

  async load () {
    try {
      const body = await api.myAccount(this.data.year || undefined)
      this.setData({ accounts: body.items.map(decorateAccount), error: '' })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onYear (e) {
    this.setData({ year: e.detail.value.slice(0, 4) })
    return this.load()
  },

  onAllYears () {
    this.setData({ year: '' })
    return this.load()
  }
})

module.exports = { decorateAccount }
