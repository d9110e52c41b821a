// 我的合作社: the cooperative and its compliance figures (CONTRACT §3), and the way to
// each of the manager's tasks.
const api = require('../../lib/api')
const ui = require('../../lib/ui')

const CHECK_NAMES = {
  member_count: '成员人数',
  farmer_ratio: '农民成员占比',
  enterprise_members: '企业成员',
  largest_holder_ratio: '最大股东占比',
  cross_appointment_ratio: '交叉任职比例'
}

function describeCheck (key, check) {
  let value = ''
  if (key === 'member_count') value = check.value + ' 人（至少 ' + check.minimum + '）'
  else if (key === 'farmer_ratio') value = check.farmers + '/' + check.members + '（' + check.ratio + '）'
  else if (key === 'enterprise_members') value = check.value + ' 家（上限 ' + check.limit + '）'
  else if (key === 'largest_holder_ratio') value = check.ratio || '—'
  else if (key === 'cross_appointment_ratio') value = check.ratio || '—'
  return { key: key, name: CHECK_NAMES[key], ok: check.ok, value: value }
}

Page({
  data: { id: null, coop: null, checks: [], compliant: null, error: '' },

  onLoad (query) {
    this.setData({ id: Number(query.id) })
    return this.load()
  },

  onPullDownRefresh () {
    return this.load().then(() => wx.stopPullDownRefresh())
  },

  async load () {
    try {
      const [coop, compliance] = await Promise.all([api.cooperative(this.data.id), api.compliance(this.data.id)])
      const checks = Object.keys(CHECK_NAMES)
        .filter((k) => compliance[k])
        .map((k) => describeCheck(k, compliance[k]))
      this.setData({
        coop: Object.assign({}, coop, { status_label: ui.label('coop_status', coop.status) }),
        checks: checks,
        compliant: compliance.ok,
        error: ''
      })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onGo (e) {
    const page = e.currentTarget.dataset.page
    const c = this.data.coop || {}
    wx.navigateTo({ url: '/pages/' + page + '/' + page + '?coop=' + this.data.id + '&county=' + (c.county_id || '') })
  }
})

module.exports = { describeCheck }
