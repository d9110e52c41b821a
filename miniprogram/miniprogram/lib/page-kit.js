// Small pieces every page uses: form inputs bound into `data.form`, paged lists that load
// more on reaching the bottom, and running an API call with its error shown on the page.
const ui = require('./ui')

// Mixed into a page: <input data-field="name" bindinput="onInput"/> writes data.form.name
// and clears that field's error as the user corrects it.
const formMixin = {
  onInput (e) {
    const field = e.currentTarget.dataset.field
    const patch = {}
    patch['form.' + field] = e.detail.value
    patch['errors.' + field] = ''
    this.setData(patch)
  }
}

/**
 * Load one page of a list into data[key] = {items, page, total, hasMore, loading}.
 * `fetch(pageNo)` returns the API's {items, page, per_page, total}; `decorate` adds display
 * fields (yuan text, Chinese labels) to each item.
 */
async function loadList (page, key, fetch, options) {
  const opts = Object.assign({ reset: false, decorate: null }, options)
  const current = page.data[key] || { items: [], page: 0, total: 0, hasMore: true }
  if (current.loading) return
  if (!opts.reset && !current.hasMore) return
  const pageNo = opts.reset ? 1 : current.page + 1
  setList(page, key, Object.assign({}, current, { loading: true }))
  try {
    const body = await fetch(pageNo)
    const fresh = (body.items || []).map(opts.decorate || ((x) => x))
    const items = opts.reset ? fresh : current.items.concat(fresh)
    setList(page, key, {
      items: items,
      page: pageNo,
      total: body.total,
      hasMore: items.length < body.total,
      loading: false
    })
  } catch (err) {
    setList(page, key, Object.assign({}, current, { loading: false }))
    ui.showApiError(page, err)
  }
}

function setList (page, key, value) {
  const patch = {}
  patch[key] = value
  page.setData(patch)
}

/** Run an API call for a button: show its error on the page; resolve the result or null. */
async function run (page, fn) {
  page.setData({ busy: true, error: '' })
  try {
    return await fn()
  } catch (err) {
    ui.showApiError(page, err)
    return null
  } finally {
    page.setData({ busy: false })
  }
}

module.exports = { formMixin, loadList, run }
