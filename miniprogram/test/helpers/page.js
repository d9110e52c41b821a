// Load a page's JS with a captured `Page({...})` and give back an instance whose setData
// merges like the runtime's (including 'a.b' and 'list.items[2].x' paths).
const path = require('node:path')
const { ROOT } = require('./wx')

function setPath (target, key, value) {
  const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.')
  let node = target
  for (let i = 0; i < parts.length - 1; i++) {
    if (node[parts[i]] === undefined || node[parts[i]] === null) node[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {}
    node = node[parts[i]]
  }
  node[parts[parts.length - 1]] = value
}

function loadPage (name) {
  let config = null
  globalThis.Page = (c) => { config = c }
  const file = path.join(ROOT, 'pages', name, name + '.js')
  delete require.cache[file]
  require(file)
  const page = Object.assign({}, config)
  page.data = JSON.parse(JSON.stringify(config.data || {}))
  page.setData = function (patch) {
    Object.keys(patch).forEach((k) => setPath(page.data, k, patch[k]))
  }
  return page
}

/** An event as WeChat hands it to a handler. */
function ev (dataset, value) {
  return { currentTarget: { dataset: dataset || {} }, detail: { value } }
}

module.exports = { loadPage, ev }
