// 待办事项: what waits on me now (GET /me/tasks, CONTRACT §12), computed by the server;
// nothing is ticked off here. A tap opens the object the task is about.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const dates = require('../../lib/dates')

const KIND_NAMES = {
  application_to_decide: '补助申请待审批',
  disbursement_to_make: '补助待拨付',
  round_to_approve: '奖补轮次待审批',
  scores_to_enter: '考核分数待录入',
  operation_to_approve: '股金变动待审批',
  plan_ready_to_approve: '分配方案公示期满待批准',
  batch_with_failed_lines: '发放批次有失败明细',
  lines_held: '发放明细因缺银行账户暂缓'
}

// Where a task's object is shown in the mini-program; county objects live in the console.
function urlFor (task) {
  switch (task.object_type) {
    case 'share_operation': return null // listed on the cooperative's share page
    case 'distribution': return '/pages/plan/plan?id=' + task.object_id
    case 'payout_batch': return '/pages/batch/batch?id=' + task.object_id
    default: return null
  }
}

function decorate (task) {
  return Object.assign({}, task, {
    kind_label: KIND_NAMES[task.kind] || task.kind,
    since_text: dates.formatTimestamp(task.since),
    url: urlFor(task)
  })
}

Page({
  data: { items: [], total: null, error: '' },

  onShow () {
    return this.load()
  },

  async load () {
    try {
      const body = await api.myTasks()
      this.setData({ items: body.items.map(decorate), total: body.total, error: '' })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onOpen (e) {
    const url = e.currentTarget.dataset.url
    if (url) wx.navigateTo({ url: url })
  }
})

module.exports = { decorate, urlFor }
