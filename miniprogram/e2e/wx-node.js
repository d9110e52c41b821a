// `wx` for Node: the mini-program APIs the request module uses, over Node's http, so the
// client's own code talks to the real backend in the end-to-end road. Only 127.0.0.1.
const http = require('node:http')

function createNodeWx () {
  const store = new Map()
  const log = [] // every HTTP exchange: {method, path, status}
  const wx = {
    log,
    store,
    loginCodes: [],
    relaunched: [],
    subscribeAnswer: null,
    getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
    setStorageSync: (k, v) => { store.set(k, v) },
    removeStorageSync: (k) => { store.delete(k) },
    reLaunch: (opts) => { wx.relaunched.push(opts.url) },
    login: (opts) => {
      const code = wx.loginCodes.shift()
      setImmediate(() => (code ? opts.success({ code }) : opts.fail({ errMsg: 'login:fail' })))
    },
    requestSubscribeMessage: (opts) => {
      setImmediate(() => (wx.subscribeAnswer ? opts.success(wx.subscribeAnswer) : opts.fail({ errMsg: 'fail' })))
    },
    request: (req) => {
      const url = new URL(req.url)
      if (url.hostname !== '127.0.0.1') throw new Error('the road only talks to 127.0.0.1')
      const body = req.data === undefined ? null : (typeof req.data === 'string' ? req.data : JSON.stringify(req.data))
      const headers = Object.assign({}, req.header)
      if (body !== null) headers['Content-Length'] = Buffer.byteLength(body)
      const out = http.request({
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: req.method || 'GET',
        headers,
        timeout: 15000
      }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let data = text
          try { data = JSON.parse(text) } catch (e) { /* wx.request leaves non-JSON as text */ }
          log.push({ method: req.method || 'GET', path: url.pathname, status: res.statusCode })
          req.success({ statusCode: res.statusCode, data, header: res.headers })
        })
      })
      out.on('timeout', () => out.destroy(new Error('timeout')))
      out.on('error', (e) => req.fail({ errMsg: 'request:fail ' + e.message }))
      if (body !== null) out.write(body)
      out.end()
    }
  }
  return wx
}

module.exports = { createNodeWx }
