/**
 * What the email transports share (SendGrid, Amazon SES): a raw MIME message read with postal-mime, the normalized
 * inbound email built from it, and the address and Message-ID helpers of parse and send. No I/O.
 */
export { messageIdList, normalizeMessageId, parseAddress, parseAddressList } from './addresses.js';
export { emailMessages, MAX_ADDRESS, recipientsOf } from './inbound.js';
export { dateOf, htmlToText, KEPT_HEADERS, type ParsedEmail, readMime } from './mime.js';
