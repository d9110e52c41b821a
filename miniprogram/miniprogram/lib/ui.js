// How pages show what the API answered: the problem's Chinese `detail`, and each field
// error beside its field. Pages never make up their own reasons for a refusal.
const money = require('./money')
const dates = require('./dates')

function getWx () {
  return globalThis.wx
}

/**
 * {field: "message"} from a problem's `errors` ({"field": ["…"]}, possibly nested, e.g.
 * {"person": {"name": ["…"]}} → {"person.name": "…"}; row-numbered import errors stay keyed
 * by row).
 */
function fieldErrors (err) {
  const out = {}
  function walk (value, prefix) {
    if (Array.isArray(value)) {
      if (value.every(function (v) { return typeof v === 'string' })) {
        out[prefix] = value.join('；')
      } else {
        value.forEach(function (v, i) { walk(v, prefix ? prefix + '.' + i : String(i)) })
      }
    } else if (value && typeof value === 'object') {
      Object.keys(value).forEach(function (k) { walk(value[k], prefix ? prefix + '.' + k : k) })
    } else if (value !== undefined && value !== null) {
      out[prefix] = String(value)
    }
  }
  if (err && err.errors) walk(err.errors, '')
  return out
}

/**
 * Show an API failure on a page: field errors go to `data.errors` (the WXML puts each
 * beside its field); the detail goes into `data.error` (a banner at the top) and a modal
 * when there is no field to point at.
 */
function showApiError (page, err) {
  const errors = fieldErrors(err)
  const detail = (err && err.detail) || '操作失败，请稍后重试'
  if (page && page.setData) page.setData({ errors: errors, error: detail })
  if (!Object.keys(errors).length) {
    getWx().showModal({ title: '提示', content: detail, showCancel: false })
  }
  return detail
}

function toast (title) {
  getWx().showToast({ title: title, icon: 'success' })
}

/** Ask "are you sure" for an irreversible action; resolves true on 确定. */
function confirm (content) {
  return new Promise(function (resolve) {
    getWx().showModal({
      title: '请确认',
      content: content,
      success: function (res) { resolve(Boolean(res && res.confirm)) },
      fail: function () { resolve(false) }
    })
  })
}

// Chinese names of the contract's enums, for display only.
const LABELS = {
  member_type: { farmer: '农户', collective: '村集体', enterprise: '企业', other: '其他' },
  member_status: { active: '在册', left: '已退社' },
  kind: { cash: '现金', land: '土地', collective_asset: '集体资产', fiscal_subsidy: '财政补助', labour: '劳务' },
  op_type: { subscribe: '认购', transfer: '转让', redeem: '退股', convert_surplus: '盈余转股', reverse: '冲正' },
  op_status: { submitted: '待审批', approved: '已批准', rejected: '已驳回', reversed: '已冲正' },
  plan_status: {
    draft: '草稿', submitted: '已提交', assembly_approved: '成员大会通过', publicized: '公示中',
    approved: '已批准', paid: '已发放', rejected: '未通过', cancelled: '已撤销'
  },
  line_status: { pending: '待支付', paid: '已支付', failed: '支付失败', reversed: '已冲正', held: '暂缓（缺银行账户）' },
  coop_status: {
    active: '运营中', standardized: '规范化', shell: '空壳', closed: '已注销', merged: '已合并', transformed: '已转型'
  },
  source: { distribution: '盈余分配', reward: '奖补', subsidy: '补助' }
}

function label (group, value) {
  return (LABELS[group] && LABELS[group][value]) || value || ''
}

/** `amount_fen` → `amount_yuan` text beside it, for every *_fen key of a flat object. */
function withYuan (obj) {
  const out = Object.assign({}, obj)
  Object.keys(obj || {}).forEach(function (k) {
    if (/_fen$/.test(k) && (typeof obj[k] === 'number' || typeof obj[k] === 'string')) {
      out[k.replace(/_fen$/, '_yuan')] = money.formatFen(obj[k])
    }
  })
  return out
}

module.exports = {
  fieldErrors, showApiError, toast, confirm, label, LABELS, withYuan,
  formatFen: money.formatFen, formatTimestamp: dates.formatTimestamp
}
