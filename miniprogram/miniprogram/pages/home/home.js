// 首页: what /me says this person is, and where each role's pages are. The entries only
// guide; every page asks the API, which decides what may be seen or done.
const auth = require('../../lib/auth')
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const subscribe = require('../../lib/subscribe')

Page({
  data: { me: null, entries: [], taskCount: null, unread: null, error: '' },

  onShow () {
    return this.load()
  },

  async load () {
    try {
      const me = await auth.loadMe()
      const entries = auth.homeEntries(me)
      this.setData({ me: me, entries: entries, error: '' })
      // Counts for the badges; a server without these routes yet just shows no badge.
      const results = await Promise.allSettled([api.myTasks(), api.notifications({ per_page: 1 })])
      this.setData({
        taskCount: results[0].status === 'fulfilled' ? results[0].value.total : null,
        unread: results[1].status === 'fulfilled' ? results[1].value.unread : null
      })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onOpen (e) {
    const { kind, id } = e.currentTarget.dataset
    if (kind === 'cooperative') wx.navigateTo({ url: '/pages/coop/coop?id=' + id })
    else if (kind === 'member') wx.navigateTo({ url: '/pages/my-shares/my-shares' })
  },

  onTasks () { wx.navigateTo({ url: '/pages/tasks/tasks' }) },
  onInbox () { wx.navigateTo({ url: '/pages/inbox/inbox' }) },
  onMyPayouts () { wx.navigateTo({ url: '/pages/my-payouts/my-payouts' }) },
  onMyAccount () { wx.navigateTo({ url: '/pages/my-account/my-account' }) },

  // 订阅消息: must run inside the tap, WeChat shows its dialog only on a user gesture.
  async onSubscribe () {
    try {
      const result = await subscribe.requestSubscriptions(['task_created', 'payout_paid', 'payout_failed'])
      if (result.skipped === 'unavailable') wx.showToast({ title: '暂不支持订阅，请查看消息中心', icon: 'none' })
      else if (result.skipped === 'no_templates') wx.showToast({ title: '尚未配置消息模板', icon: 'none' })
      else if (result.accepted.length) ui.toast('已订阅')
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  async onLogout () {
    await auth.logout()
    wx.reLaunch({ url: '/pages/login/login' })
  }
})
