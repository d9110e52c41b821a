// 成员名册: search by name, a paged list (20 at a time, more on reaching the bottom).
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')

function decorate (m) {
  return Object.assign({}, m, {
    type_label: ui.label('member_type', m.member_type),
    status_label: ui.label('member_status', m.status)
  })
}

Page({
  data: { coopId: null, q: '', list: { items: [], page: 0, total: 0, hasMore: true }, error: '' },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop) })
  },

  onShow () {
    return this.reload()
  },

  reload () {
    return kit.loadList(this, 'list', (page) => api.members(this.data.coopId, { page: page, q: this.data.q || undefined }),
      { reset: true, decorate: decorate })
  },

  onReachBottom () {
    return kit.loadList(this, 'list', (page) => api.members(this.data.coopId, { page: page, q: this.data.q || undefined }),
      { decorate: decorate })
  },

  onSearchInput (e) {
    this.setData({ q: e.detail.value.trim() })
  },

  onSearch () {
    return this.reload()
  },

  onOpen (e) {
    wx.navigateTo({ url: '/pages/member-edit/member-edit?coop=' + this.data.coopId + '&id=' + e.currentTarget.dataset.id })
  },

  onAdd () {
    wx.navigateTo({ url: '/pages/member-edit/member-edit?coop=' + this.data.coopId })
  }
})
