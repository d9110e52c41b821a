// 消息中心: the in-app inbox (GET /me/notifications, newest first, with the unread count);
// opening a message marks it read on the server.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const dates = require('../../lib/dates')

function decorate (n) {
  return Object.assign({}, n, { created_text: dates.formatTimestamp(n.created_at) })
}

Page({
  data: { list: { items: [], page: 0, total: 0, hasMore: true }, unread: 0, error: '' },

  onShow () {
    return this.fetch(true)
  },

  onReachBottom () {
    return this.fetch(false)
  },

  fetch (reset) {
    return kit.loadList(this, 'list', async (page) => {
      const body = await api.notifications({ page: page })
      this.setData({ unread: body.unread || 0 })
      return body
    }, { reset: reset, decorate: decorate })
  },

  async onRead (e) {
    const id = e.currentTarget.dataset.id
    const index = this.data.list.items.findIndex((n) => n.id === id)
    if (index < 0 || this.data.list.items[index].read_at) return
    try {
      await api.readNotification(id)
      const patch = { unread: Math.max(0, this.data.unread - 1) }
      patch['list.items[' + index + '].read_at'] = new Date().toISOString()
      this.setData(patch)
    } catch (err) {
      ui.showApiError(this, err)
    }
  }
})
