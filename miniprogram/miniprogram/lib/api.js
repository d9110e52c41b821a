// The API routes the pages use, by name. Each is one line over the request module so that
// a page's logic reads as "what" and the contract's paths live in one file.
const r = require('./request')

function page (query) {
  return Object.assign({ page: 1, per_page: 20 }, query)
}

module.exports = {
  // cooperatives (§3)
  cooperative: (id) => r.get('/cooperatives/' + id),
  compliance: (id) => r.get('/cooperatives/' + id + '/compliance'),

  // members (§4)
  members: (coopId, query) => r.get('/cooperatives/' + coopId + '/members', page(query)),
  member: (id) => r.get('/members/' + id),
  addMember: (coopId, body) => r.post('/cooperatives/' + coopId + '/members', body),
  updateMember: (id, body) => r.patch('/members/' + id, body),
  inviteMember: (id) => r.post('/members/' + id + '/invitations'),

  // shares (§4)
  shareOperations: (coopId, query) => r.get('/cooperatives/' + coopId + '/share-operations', page(query)),
  submitShareOperation: (coopId, body) =>
    r.post('/cooperatives/' + coopId + '/share-operations', body, { idempotent: true }),
  approveShareOperation: (id) => r.post('/share-operations/' + id + '/approve', {}, { idempotent: true }),
  rejectShareOperation: (id, reason) => r.post('/share-operations/' + id + '/reject', { reason: reason }),
  reverseShareOperation: (id, reason) =>
    r.post('/share-operations/' + id + '/reverse', { reason: reason }, { idempotent: true }),
  shareRegister: (coopId, asOf) => r.get('/cooperatives/' + coopId + '/share-register', { as_of: asOf }),
  memberAccount: (memberId, year) => r.get('/members/' + memberId + '/account', { year: year }),

  // years, trades, distributions (§5)
  yearAccounts: (coopId, year) => r.get('/cooperatives/' + coopId + '/years/' + year),
  putYearAccounts: (coopId, year, body) => r.put('/cooperatives/' + coopId + '/years/' + year, body),
  trades: (coopId, year, query) => r.get('/cooperatives/' + coopId + '/years/' + year + '/trades', page(query)),
  uploadTrades: (coopId, year, filePath) =>
    r.upload({ path: '/cooperatives/' + coopId + '/years/' + year + '/trades', filePath: filePath, name: 'file' }),
  distributions: (coopId, query) => r.get('/cooperatives/' + coopId + '/distributions', page(query)),
  createDistribution: (coopId, body) => r.post('/cooperatives/' + coopId + '/distributions', body),
  distribution: (id) => r.get('/distributions/' + id),
  distributionLines: (id, query) => r.get('/distributions/' + id + '/lines', page(query)),
  distributionAction: (id, action, body) =>
    r.post('/distributions/' + id + '/' + action, body || {}, { idempotent: action === 'approve' }),

  // payouts (§6)
  createPayoutBatch: (planId) => r.post('/distributions/' + planId + '/payout-batch', {}, { idempotent: true }),
  payoutBatch: (id) => r.get('/payout-batches/' + id),
  payoutLines: (id, query) => r.get('/payout-batches/' + id + '/lines', page(query)),
  postPayoutResults: (id, results) => r.post('/payout-batches/' + id + '/results', results),
  bankFile: (id) => r.download({ path: '/payout-batches/' + id + '/bank-file' }),
  reversePayoutLine: (id, reason) => r.post('/payout-lines/' + id + '/reverse', { reason: reason }, { idempotent: true }),

  // subsidies (§7, §10)
  openPrograms: (countyId) => r.get('/counties/' + countyId + '/programs', { open: 'true' }),
  applyForSubsidy: (coopId, body) => r.post('/cooperatives/' + coopId + '/subsidy-applications', body),

  // self-service (§8)
  myShares: (asOf) => r.get('/me/shares', { as_of: asOf }),
  myPayouts: (query) => r.get('/me/payouts', page(query)),
  myAccount: (year) => r.get('/me/account', { year: year }),

  // tasks and notifications (§12)
  myTasks: () => r.get('/me/tasks'),
  notifications: (query) => r.get('/me/notifications', page(query)),
  readNotification: (id) => r.post('/me/notifications/' + id + '/read', {}),
  subscribe: (templateKey, accepted) => r.post('/me/subscriptions', { template_key: templateKey, accepted: accepted })
}
