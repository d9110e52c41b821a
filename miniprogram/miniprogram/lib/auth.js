// WeChat login and binding (CONTRACT §1): wx.login → /auth/wechat/login. A WeChat account
// not yet bound gets a short-lived bind_token; the person then types the invitation code
// their cooperative manager (or the county) gave them, and /auth/wechat/bind logs them in.
const request = require('./request')

const BIND_KEY = 'bind_token'
const ME_KEY = 'me'

function getWx () {
  return globalThis.wx
}

function wxLoginCode () {
  return new Promise(function (resolve, reject) {
    getWx().login({
      success: function (res) {
        if (res && res.code) resolve(res.code)
        else reject(new request.ApiError({ status: 0, code: 'WX_LOGIN_FAILED', detail: '微信登录失败，请重试' }))
      },
      fail: function () {
        reject(new request.ApiError({ status: 0, code: 'WX_LOGIN_FAILED', detail: '微信登录失败，请重试' }))
      }
    })
  })
}

/** Resolves {bound: true, user} once logged in, or {bound: false} when a bind is needed. */
async function loginWithWechat () {
  const code = await wxLoginCode()
  const body = await request.post('/auth/wechat/login', { code: code }, { auth: false })
  if (body.bound === false) {
    getWx().setStorageSync(BIND_KEY, body.bind_token)
    return { bound: false }
  }
  request.setTokens(body)
  getWx().setStorageSync(ME_KEY, body.user)
  return { bound: true, user: body.user }
}

/** Bind this WeChat account with an invitation code; resolves with the user. */
async function bindWithInvite (inviteCode) {
  const bindToken = getWx().getStorageSync(BIND_KEY)
  if (!bindToken) {
    throw new request.ApiError({ status: 0, code: 'BIND_TOKEN_MISSING', detail: '绑定已过期，请返回重新登录' })
  }
  const body = await request.post('/auth/wechat/bind',
    { bind_token: bindToken, invite_code: String(inviteCode || '').trim() }, { auth: false })
  getWx().removeStorageSync(BIND_KEY)
  request.setTokens(body)
  getWx().setStorageSync(ME_KEY, body.user)
  return body.user
}

/** Who am I, as the server says now (roles may have changed since the last login). */
async function loadMe () {
  const me = await request.get('/me')
  getWx().setStorageSync(ME_KEY, me)
  return me
}

function cachedMe () {
  return getWx().getStorageSync(ME_KEY) || null
}

/** End this login on the server too, then forget it here whatever the server said. */
async function logout () {
  const refreshToken = request.getRefreshToken()
  request.clearTokens()
  getWx().removeStorageSync(ME_KEY)
  if (!refreshToken) return
  try {
    await request.post('/auth/logout', { refresh_token: refreshToken }, { auth: false })
  } catch (e) {
    // Already ended or offline: the tokens are gone from this phone either way.
  }
}

// What the home page offers, read from the roles /me answered. This only picks which
// entries to list; whether an action is allowed is decided by the API on each request.
const ROLE_NAMES = {
  county_admin: '县级管理员',
  county_finance: '县财政',
  county_reviewer: '县级评审',
  coop_manager: '合作社负责人',
  commissioner: '联络员',
  member: '成员',
  city_viewer: '市级查看'
}

function homeEntries (me) {
  const entries = []
  const roles = (me && me.roles) || []
  roles.forEach(function (role) {
    if (role.role === 'coop_manager' || role.role === 'commissioner') {
      entries.push({ kind: 'cooperative', id: role.scope_id, label: ROLE_NAMES[role.role] })
    } else if (role.role === 'member') {
      if (!entries.some(function (e) { return e.kind === 'member' })) {
        entries.push({ kind: 'member', id: role.scope_id, label: ROLE_NAMES.member })
      }
    } else {
      entries.push({ kind: 'county', id: role.scope_id, label: ROLE_NAMES[role.role] || role.role })
    }
  })
  return entries
}

module.exports = { loginWithWechat, bindWithInvite, loadMe, cachedMe, logout, homeEntries, ROLE_NAMES }
