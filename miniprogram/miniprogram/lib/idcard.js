// Identity numbers checked on the phone before they are sent, so a mistyped digit is
// caught beside the field at once. The server checks again (422 ID_CARD_INVALID); this is
// only a convenience and never the last word.

// GB 11643: resident ID card, 17 digits and a check character.
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

function idCardCheckChar (first17) {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]
  return ID_CHECK[sum % 11]
}

function isValidIdCard (text) {
  const value = String(text || '').trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(value)) return false
  return idCardCheckChar(value.slice(0, 17)) === value[17]
}

// GB 32100: unified social credit code, used by collective and enterprise members.
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

function isValidCreditCode (text) {
  const value = String(text || '').trim().toUpperCase()
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(value)) return false
  let sum = 0
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(value[i]) * USCC_WEIGHTS[i]
  return USCC_CHARS[(31 - (sum % 31)) % 31] === value[17]
}

/**
 * The error to show beside the ID field, or '' when it looks right.
 * Farmers give an ID card; collective/enterprise/other members may give a credit code.
 */
function idNumberError (text, memberType) {
  const value = String(text || '').trim()
  if (!value) return '请填写身份证号'
  if (isValidIdCard(value)) return ''
  if (memberType && memberType !== 'farmer' && isValidCreditCode(value)) return ''
  if (value.length !== 18) return '身份证号应为 18 位'
  return memberType && memberType !== 'farmer'
    ? '身份证号或统一社会信用代码校验位不正确'
    : '身份证号校验位不正确，请核对'
}

module.exports = { idCardCheckChar, isValidIdCard, isValidCreditCode, idNumberError }
