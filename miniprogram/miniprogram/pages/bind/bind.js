// 绑定: first login of this WeChat account; the invitation code ties it to the person the
// county (managers) or the cooperative (members) invited.
const auth = require('../../lib/auth')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')

Page(Object.assign({}, kit.formMixin, {
  data: { form: { invite_code: '' }, errors: {}, error: '', busy: false },

  async onBind () {
    const code = (this.data.form.invite_code || '').trim()
    if (!code) {
      this.setData({ 'errors.invite_code': '请输入邀请码' })
      return
    }
    this.setData({ busy: true, error: '' })
    try {
      await auth.bindWithInvite(code)
      wx.reLaunch({ url: '/pages/home/home' })
    } catch (err) {
      ui.showApiError(this, err)
    } finally {
      this.setData({ busy: false })
    }
  }
}))
