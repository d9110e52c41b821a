// WeChat subscribe messages (订阅消息, CONTRACT §12). wx.requestSubscribeMessage asks the
// user about up to three templates at once and answers per template id:
// 'accept' | 'reject' | 'ban' | 'filter'. Each 'accept' is one message the server may send,
// so every answer is posted to /me/subscriptions {template_key, accepted}.
//
// A server without the subscriptions route (404) is not an error for the user: we stop
// asking for the rest of this run and the events still reach the in-app inbox.
const config = require('../config')
const api = require('./api')

let unavailable = false

function getWx () {
  return globalThis.wx
}

function askWechat (tmplIds) {
  return new Promise(function (resolve) {
    getWx().requestSubscribeMessage({
      tmplIds: tmplIds,
      success: function (res) { resolve(res) },
      // Refused by the runtime (no template, user switched the main toggle off…): skip.
      fail: function () { resolve(null) }
    })
  })
}

/**
 * Ask for the given event keys (e.g. ['task_created', 'payout_failed']); must be called from
 * a tap handler (WeChat only shows the dialog on a user gesture).
 * Resolves {asked: [...keys], accepted: [...keys], skipped: reason|''}.
 */
async function requestSubscriptions (keys, templates) {
  const ids = templates || config.templates
  if (unavailable) return { asked: [], accepted: [], skipped: 'unavailable' }
  const wanted = keys.filter(function (k) { return ids[k] }).slice(0, 3)
  if (!wanted.length) return { asked: [], accepted: [], skipped: 'no_templates' }
  const answer = await askWechat(wanted.map(function (k) { return ids[k] }))
  if (!answer) return { asked: [], accepted: [], skipped: 'wechat_refused' }
  const accepted = []
  for (const key of wanted) {
    const ok = answer[ids[key]] === 'accept'
    try {
      await api.subscribe(key, ok)
    } catch (err) {
      if (err.status === 404) {
        unavailable = true
        return { asked: wanted, accepted: accepted, skipped: 'unavailable' }
      }
      throw err
    }
    if (ok) accepted.push(key)
  }
  return { asked: wanted, accepted: accepted, skipped: '' }
}

module.exports = { requestSubscriptions, _reset: function () { unavailable = false } }
