// A `wx` stub for unit tests: storage in a Map, every call recorded, and wx.request /
// wx.uploadFile / wx.downloadFile answered by a route function the test supplies:
//   stub.route = (req) => ({ statusCode, data })   (or a Promise of it, or 'fail')
// Installs itself as globalThis.wx; `fresh()` clears the module caches so each test starts
// with a clean request module (no refresh in flight, no "logged out" flag).
const path = require('node:path')

const ROOT = path.join(__dirname, '..', '..', 'miniprogram')

function createWx () {
  const store = new Map()
  const calls = []
  const stub = {
    calls,
    store,
    route: () => ({ statusCode: 404, data: { code: 'NOT_FOUND', detail: '未找到' } }),
    files: {},
    modalAnswer: true,
    subscribeAnswer: null,
    chosenFiles: [],
    loginCodes: ['ok:openid-1'],
    record (name, arg) { calls.push({ name, arg }) },
    callsOf (name) { return calls.filter((c) => c.name === name).map((c) => c.arg) },

    getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
    setStorageSync: (k, v) => { store.set(k, v) },
    removeStorageSync: (k) => { store.delete(k) },

    request (req) { stub.record('request', req); answer(req) },
    uploadFile (req) {
      stub.record('uploadFile', req)
      answer(req, (res) => ({ statusCode: res.statusCode, data: JSON.stringify(res.data) }))
    },
    downloadFile (req) {
      stub.record('downloadFile', req)
      answer(req, (res) => {
        const file = '/tmp/wx-stub-' + calls.length
        stub.files[file] = typeof res.data === 'string' ? res.data : JSON.stringify(res.data)
        return { statusCode: res.statusCode, tempFilePath: file }
      })
    },
    getFileSystemManager: () => ({
      readFileSync: (file) => {
        if (!(file in stub.files)) throw new Error('no such file')
        return stub.files[file]
      }
    }),
    login (opts) {
      stub.record('login', opts)
      const code = stub.loginCodes.shift()
      setImmediate(() => (code ? opts.success({ code }) : opts.fail({ errMsg: 'login:fail' })))
    },
    requestSubscribeMessage (opts) {
      stub.record('requestSubscribeMessage', opts)
      setImmediate(() => (stub.subscribeAnswer ? opts.success(stub.subscribeAnswer) : opts.fail({ errMsg: 'fail' })))
    },
    chooseMessageFile (opts) {
      stub.record('chooseMessageFile', opts)
      setImmediate(() => (stub.chosenFiles.length
        ? opts.success({ tempFiles: stub.chosenFiles })
        : opts.fail({ errMsg: 'chooseMessageFile:fail cancel' })))
    },
    openDocument (opts) { stub.record('openDocument', opts); setImmediate(() => opts.success && opts.success({})) },
    shareFileMessage (opts) { stub.record('shareFileMessage', opts); setImmediate(() => opts.success && opts.success({})) },
    showModal (opts) {
      stub.record('showModal', opts)
      setImmediate(() => opts.success && opts.success({ confirm: stub.modalAnswer, cancel: !stub.modalAnswer }))
    }
  }
  for (const name of ['reLaunch', 'navigateTo', 'redirectTo', 'navigateBack', 'showToast', 'showLoading',
    'hideLoading', 'setClipboardData', 'stopPullDownRefresh', 'setNavigationBarTitle']) {
    stub[name] = (opts) => {
      stub.record(name, opts)
      if (opts && opts.success) setImmediate(() => opts.success({}))
    }
  }

  function answer (req, shape) {
    Promise.resolve()
      .then(() => stub.route(req))
      .then((res) => {
        if (res === 'fail') return req.fail({ errMsg: 'request:fail' })
        req.success(shape ? shape(res) : { statusCode: res.statusCode, data: res.data, header: {} })
      })
  }
  return stub
}

/** Install a fresh stub as globalThis.wx and drop cached client modules. */
function fresh () {
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(ROOT)) delete require.cache[key]
  }
  const stub = createWx()
  globalThis.wx = stub
  globalThis.getApp = () => ({ globalData: {} })
  return stub
}

function lib (name) {
  return require(path.join(ROOT, 'lib', name))
}

/** Split a request's URL into path (after /api/v1) and query object. */
function parse (req) {
  const url = new URL(req.url)
  return {
    method: (req.method || 'GET').toUpperCase(),
    path: url.pathname.replace(/^\/api\/v1/, ''),
    query: Object.fromEntries(url.searchParams),
    auth: (req.header && req.header.Authorization) || '',
    body: req.data,
    header: req.header || {}
  }
}

module.exports = { fresh, lib, parse, ROOT }
