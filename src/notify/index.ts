// The customer-notification queue: other modules queue notices in their own transaction; the
// incidents module claims them and delivers each to the customer's webhook (src/notify/store.ts).
export { claimNotifications, getNotification, queueCustomerNotification } from './store.ts'
