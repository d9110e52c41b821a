// A fake WeChat code2session server for the end-to-end road, on 127.0.0.1 only.
// `js_code=ok:<openid>` → {openid, session_key}; anything else → errcode 40029, as WeChat
// answers an invalid code. It prints its port on the first line of stdout and stops by
// itself after FAKE_WECHAT_LIFETIME seconds (default 300) if nobody kills it.
const http = require('node:http')

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1')
  const send = (body) => {
    // WeChat really answers JSON as text/plain.
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.end(JSON.stringify(body))
  }
  if (url.pathname !== '/sns/jscode2session') {
    res.writeHead(404)
    return res.end('not found')
  }
  const code = url.searchParams.get('js_code') || ''
  if (code.startsWith('ok:')) return send({ openid: code.slice(3), session_key: 'fake-session-key' })
  return send({ errcode: 40029, errmsg: 'invalid code' })
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(server.address().port + '\n')
})
setTimeout(() => process.exit(0), Number(process.env.FAKE_WECHAT_LIFETIME || 300) * 1000).unref()
