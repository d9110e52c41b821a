// The app itself holds nothing: tokens live in storage (lib/request.js), and each page
// asks the API for what it shows.
App({
  globalData: {}
})
