// Where the API lives and which subscribe-message templates this mini-program applied for.
// Set `baseUrl` to the HTTPS host registered as the request domain (request合法域名) in the
// WeChat admin console; see README.md. No trailing slash, no /api/v1.
module.exports = {
  baseUrl: 'https://coop.example.cn',

  // Template ids from 微信公众平台 → 订阅消息, one per event key of CONTRACT §12. The server
  // holds the same mapping in WECHAT_TEMPLATES. An empty id means "not applied for": the
  // mini-program will not ask the user about it, and the event goes to the inbox only.
  templates: {
    task_created: '',
    application_decided: '',
    disbursement_made: '',
    notice_published: '',
    payout_paid: '',
    payout_failed: ''
  }
}
