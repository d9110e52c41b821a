// 登录: wx.login → /auth/wechat/login. A bound account goes home; an unbound one goes to
// the bind page to type its invitation code.
const auth = require('../../lib/auth')
const request = require('../../lib/request')
const ui = require('../../lib/ui')

Page({
  data: { busy: false, error: '' },

  onLoad () {
    // Still logged in from last time: straight home (the first request refreshes if needed).
    if (request.hasTokens()) wx.reLaunch({ url: '/pages/home/home' })
  },

  async onLogin () {
    this.setData({ busy: true, error: '' })
    try {
      const result = await auth.loginWithWechat()
      if (result.bound) wx.reLaunch({ url: '/pages/home/home' })
      else wx.navigateTo({ url: '/pages/bind/bind' })
    } catch (err) {
      ui.showApiError(this, err)
    } finally {
      this.setData({ busy: false })
    }
  }
})
