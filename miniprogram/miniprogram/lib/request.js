// The one request module every page goes through (CONTRACT §0, §1).
//
// - Adds `Authorization: Bearer <access>` from storage.
// - On 401 TOKEN_EXPIRED it refreshes the token pair and retries the request once. Many
//   requests may expire together (a page loads three lists at once): they all wait on the
//   same refresh, because a refresh token is single use and presenting it twice revokes the
//   whole login (REFRESH_REUSED).
// - When the login is over for good (REFRESH_REUSED, a revoked family, no tokens) it clears
//   storage and sends the user back to the login page, once.
// - Every failure becomes an ApiError carrying the server's Chinese `detail` and its field
//   `errors`, so pages show what the API said and never invent their own reasons.
//
// `wx` is read from the global at call time: in the mini-program it is the runtime, in
// tests a stub, and in the end-to-end road an adapter over Node's http.

const config = require('../config')

const ACCESS_KEY = 'access_token'
const REFRESH_KEY = 'refresh_token'
const API_PREFIX = '/api/v1'
const LOGIN_PAGE = '/pages/login/login'

const settings = {
  baseUrl: config.baseUrl,
  // Called once when the login has ended; the default opens the login page.
  onLoggedOut: function () {
    getWx().reLaunch({ url: LOGIN_PAGE })
  }
}

let refreshing = null // the refresh in flight, shared by everybody who needs it
let loggedOutNotified = false

function getWx () {
  return globalThis.wx
}

function configure (options) {
  Object.assign(settings, options)
}

class ApiError extends Error {
  constructor (fields) {
    super(fields.detail || fields.title || '请求失败')
    this.name = 'ApiError'
    this.status = fields.status
    this.code = fields.code || ''
    this.title = fields.title || ''
    this.detail = fields.detail || fields.title || '请求失败'
    this.errors = fields.errors || null
    this.requestId = fields.request_id || ''
  }
}

// --- tokens -----------------------------------------------------------------------------

function getAccessToken () {
  return getWx().getStorageSync(ACCESS_KEY) || ''
}

function getRefreshToken () {
  return getWx().getStorageSync(REFRESH_KEY) || ''
}

function setTokens (pair) {
  const wx = getWx()
  wx.setStorageSync(ACCESS_KEY, pair.access_token)
  wx.setStorageSync(REFRESH_KEY, pair.refresh_token)
  loggedOutNotified = false
}

function clearTokens () {
  const wx = getWx()
  wx.removeStorageSync(ACCESS_KEY)
  wx.removeStorageSync(REFRESH_KEY)
}

function hasTokens () {
  return Boolean(getAccessToken() && getRefreshToken())
}

function endLogin () {
  clearTokens()
  if (loggedOutNotified) return
  loggedOutNotified = true
  try {
    settings.onLoggedOut()
  } catch (e) {
    // A failing navigation must not hide the API error from the caller.
  }
}

// --- low level: one HTTP exchange, never rejects --------------------------------------------

function buildUrl (path, query) {
  let url = settings.baseUrl.replace(/\/$/, '') + API_PREFIX + path
  if (query) {
    const parts = []
    Object.keys(query).forEach(function (key) {
      const value = query[key]
      if (value === undefined || value === null || value === '') return
      parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)))
    })
    if (parts.length) url += (url.indexOf('?') >= 0 ? '&' : '?') + parts.join('&')
  }
  return url
}

function parseBody (data) {
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data)
  } catch (e) {
    return data
  }
}

function sendJson (opts, token) {
  return new Promise(function (resolve) {
    const method = (opts.method || 'GET').toUpperCase()
    const header = { Accept: 'application/json' }
    if (token) header.Authorization = 'Bearer ' + token
    if (opts.idempotencyKey) header['Idempotency-Key'] = opts.idempotencyKey
    const req = { url: buildUrl(opts.path, opts.query), method: method, header: header }
    if (method !== 'GET' && method !== 'DELETE') {
      header['Content-Type'] = 'application/json'
      // An action without a body still sends `{}`: an empty body with a JSON content type
      // would be malformed JSON.
      req.data = opts.data === undefined ? {} : opts.data
    }
    req.success = function (res) {
      resolve({ statusCode: res.statusCode, data: parseBody(res.data), header: res.header })
    }
    req.fail = function (err) {
      resolve({ statusCode: 0, data: null, errMsg: err && err.errMsg })
    }
    getWx().request(req)
  })
}

function sendUpload (opts, token) {
  return new Promise(function (resolve) {
    const header = {}
    if (token) header.Authorization = 'Bearer ' + token
    getWx().uploadFile({
      url: buildUrl(opts.path, opts.query),
      filePath: opts.filePath,
      name: opts.name || 'file',
      formData: opts.formData || {},
      header: header,
      success: function (res) {
        resolve({ statusCode: res.statusCode, data: parseBody(res.data) })
      },
      fail: function (err) {
        resolve({ statusCode: 0, data: null, errMsg: err && err.errMsg })
      }
    })
  })
}

function readProblemFile (filePath) {
  // A failed download leaves the problem+json body in the temporary file.
  try {
    return parseBody(getWx().getFileSystemManager().readFileSync(filePath, 'utf8'))
  } catch (e) {
    return null
  }
}

function sendDownload (opts, token) {
  return new Promise(function (resolve) {
    const header = {}
    if (token) header.Authorization = 'Bearer ' + token
    getWx().downloadFile({
      url: buildUrl(opts.path, opts.query),
      header: header,
      success: function (res) {
        const ok = res.statusCode >= 200 && res.statusCode < 300
        resolve({
          statusCode: res.statusCode,
          data: ok ? { tempFilePath: res.tempFilePath } : readProblemFile(res.tempFilePath)
        })
      },
      fail: function (err) {
        resolve({ statusCode: 0, data: null, errMsg: err && err.errMsg })
      }
    })
  })
}

function toApiError (res) {
  if (res.statusCode === 0) {
    return new ApiError({ status: 0, code: 'NETWORK_ERROR', detail: '网络连接失败，请检查网络后重试' })
  }
  const body = res.data
  if (body && typeof body === 'object' && (body.detail || body.code)) {
    return new ApiError(Object.assign({ status: res.statusCode }, body))
  }
  return new ApiError({
    status: res.statusCode,
    code: 'HTTP_' + res.statusCode,
    detail: '服务器暂时无法处理（' + res.statusCode + '），请稍后重试'
  })
}

function isOk (res) {
  return res.statusCode >= 200 && res.statusCode < 300
}

// --- refresh ------------------------------------------------------------------------------

function refreshTokens () {
  if (!refreshing) {
    refreshing = doRefresh().then(function (token) {
      refreshing = null
      return token
    }, function (err) {
      refreshing = null
      throw err
    })
  }
  return refreshing
}

async function doRefresh () {
  const refreshToken = getRefreshToken()
  if (!refreshToken) {
    endLogin()
    throw new ApiError({ status: 401, code: 'AUTH_REQUIRED', detail: '请先登录' })
  }
  const res = await sendJson({ method: 'POST', path: '/auth/refresh', data: { refresh_token: refreshToken } })
  if (isOk(res)) {
    setTokens(res.data)
    return res.data.access_token
  }
  // 401 means this login is over (REFRESH_REUSED, a revoked or expired family). Anything
  // else (network, 429, 503) is passing: keep the tokens and let the user try again.
  if (res.statusCode === 401) endLogin()
  throw toApiError(res)
}

// --- the one road every call takes --------------------------------------------------------

async function perform (send, opts) {
  if (opts.auth === false) {
    const res = await send(opts, null)
    if (isOk(res)) return res.data
    throw toApiError(res)
  }
  const token = getAccessToken()
  let res = await send(opts, token)
  if (res.statusCode === 401 && res.data && res.data.code === 'TOKEN_EXPIRED') {
    // Somebody else may have refreshed while this request was on its way: then the stored
    // token is already new and no second refresh is spent.
    let fresh = getAccessToken()
    if (!fresh || fresh === token) fresh = await refreshTokens()
    res = await send(opts, fresh) // the one retry
  }
  if (res.statusCode === 401) endLogin()
  if (isOk(res)) return res.data
  throw toApiError(res)
}

function newIdempotencyKey () {
  return 'mp-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12) +
    Math.random().toString(36).slice(2, 12)
}

/**
 * A JSON request. opts: {method, path, query, data, auth (default true), idempotent}.
 * `idempotent: true` sends an Idempotency-Key, the same on the retry after a refresh, so a
 * share operation or payout batch is never created twice by our own retry.
 * Resolves with the parsed body (null for 204); rejects with ApiError.
 */
function request (opts) {
  const o = Object.assign({}, opts)
  if (o.idempotent && !o.idempotencyKey) o.idempotencyKey = newIdempotencyKey()
  return perform(sendJson, o).then(function (data) {
    return data === '' || data === undefined ? null : data
  })
}

function get (path, query) {
  return request({ method: 'GET', path: path, query: query })
}

function post (path, data, extra) {
  return request(Object.assign({ method: 'POST', path: path, data: data }, extra))
}

function put (path, data) {
  return request({ method: 'PUT', path: path, data: data })
}

function patch (path, data) {
  return request({ method: 'PATCH', path: path, data: data })
}

/** Multipart upload of a local file (a spreadsheet picked with wx.chooseMessageFile). */
function upload (opts) {
  return perform(sendUpload, opts)
}

/** Download an authenticated file; resolves with {tempFilePath}. */
function download (opts) {
  return perform(sendDownload, opts)
}

module.exports = {
  ApiError,
  configure,
  request,
  get,
  post,
  put,
  patch,
  upload,
  download,
  setTokens,
  clearTokens,
  hasTokens,
  getAccessToken,
  getRefreshToken,
  refreshTokens,
  buildUrl,
  // for tests: forget shared state between cases
  _reset: function () {
    refreshing = null
    loggedOutNotified = false
  }
}
