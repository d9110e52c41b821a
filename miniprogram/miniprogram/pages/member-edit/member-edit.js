// 添加成员 / 成员详情: add a member (ID card checked here first, the server checks again),
// or for an existing one edit the bank account and issue the WeChat invitation code.
const api = require('../../lib/api')
const ui = require('../../lib/ui')
const kit = require('../../lib/page-kit')
const idcard = require('../../lib/idcard')
const dates = require('../../lib/dates')

const MEMBER_TYPES = ['farmer', 'collective', 'enterprise', 'other']

Page(Object.assign({}, kit.formMixin, {
  data: {
    coopId: null,
    id: null,
    member: null,
    form: { name: '', id_card_no: '', phone: '', member_type: 'farmer', joined_on: '', bank_name: '', bank_account: '' },
    typeIndex: 0,
    typeLabels: MEMBER_TYPES.map((t) => ui.label('member_type', t)),
    errors: {},
    error: '',
    busy: false,
    invite: null
  },

  onLoad (query) {
    this.setData({ coopId: Number(query.coop), id: query.id ? Number(query.id) : null, 'form.joined_on': dates.todayInChina() })
    if (this.data.id) return this.load()
  },

  async load () {
    try {
      const m = await api.member(this.data.id)
      this.setData({
        member: Object.assign({}, m, { type_label: ui.label('member_type', m.member_type), status_label: ui.label('member_status', m.status) }),
        'form.bank_name': m.bank_name || '',
        'form.bank_account': ''
      })
    } catch (err) {
      ui.showApiError(this, err)
    }
  },

  onTypeChange (e) {
    const index = Number(e.detail.value)
    this.setData({ typeIndex: index, 'form.member_type': MEMBER_TYPES[index], 'errors.id_card_no': '' })
  },

  onDateChange (e) {
    this.setData({ 'form.joined_on': e.detail.value })
  },

  /** Errors found on the phone, before anything is sent. */
  check () {
    const f = this.data.form
    const errors = {}
    if (!f.name.trim()) errors.name = '请填写姓名'
    const idError = idcard.idNumberError(f.id_card_no, f.member_type)
    if (idError) errors.id_card_no = idError
    if (f.phone && !/^1\d{10}$/.test(f.phone.trim())) errors.phone = '手机号应为 11 位数字'
    if (!f.joined_on) errors.joined_on = '请选择入社日期'
    return errors
  },

  async onSubmit () {
    const errors = this.check()
    this.setData({ errors: errors })
    if (Object.keys(errors).length) return null
    const f = this.data.form
    const body = {
      name: f.name.trim(),
      id_card_no: f.id_card_no.trim().toUpperCase(),
      member_type: f.member_type,
      joined_on: f.joined_on
    }
    if (f.phone.trim()) body.phone = f.phone.trim()
    if (f.bank_name.trim()) body.bank_name = f.bank_name.trim()
    if (f.bank_account.trim()) body.bank_account = f.bank_account.replace(/\s/g, '')
    const created = await kit.run(this, () => api.addMember(this.data.coopId, body))
    if (created) {
      ui.toast('已添加')
      wx.redirectTo({ url: '/pages/member-edit/member-edit?coop=' + this.data.coopId + '&id=' + created.id })
    }
    return created
  },

  async onSaveBank () {
    const f = this.data.form
    const account = f.bank_account.replace(/\s/g, '')
    if (!account) {
      this.setData({ 'errors.bank_account': '请填写新的银行账号' })
      return null
    }
    const saved = await kit.run(this, () => api.updateMember(this.data.id, { bank_name: f.bank_name.trim() || null, bank_account: account }))
    if (saved) {
      this.setData({ 'member.bank_name': saved.bank_name, 'member.bank_account': saved.bank_account, 'form.bank_account': '' })
      ui.toast('已保存')
    }
    return saved
  },

  async onInvite () {
    const invite = await kit.run(this, () => api.inviteMember(this.data.id))
    if (invite) this.setData({ invite: Object.assign({}, invite, { expires_text: dates.formatTimestamp(invite.expires_at) }) })
    return invite
  },

  onCopyInvite () {
    wx.setClipboardData({ data: this.data.invite.invite_code })
  }
}))
