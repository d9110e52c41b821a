// 股权登记簿: every member's holding by kind on a chosen date (China calendar).
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const money = require('../../lib/money')
const dates = require('../../lib/dates')

Page({
  data: { coopId: null, asOf: '', register: null, error: '' },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop), asOf: dates.todayInChina() })
    return this.load()
  },

  onDateChange (e) {
    this.setData({ asOf: e.detail.value })
    return this.load()
  },

  async load () {
    try {
      const reg = await api.shareRegister(this.data.coopId, this.data.asOf)
      this.setData({
        error: '',
        register: {
          as_of: reg.as_of,
          total_yuan: money.formatFen(reg.total_fen),
          members: reg.members.map((m) => ({
            member_id: m.member_id,
            name: m.name,
            total_yuan: money.formatFen(m.total_fen),
            ratio: m.ratio,
            kinds: Object.keys(m.by_kind).filter((k) => m.by_kind[k])
              .map((k) => ui.label('kind', k) + ' ' + money.formatFen(m.by_kind[k])).join('，')
          }))
        }
      })
    } catch (err) {
      ui.showApiError(this, err)
    }
  }
})
