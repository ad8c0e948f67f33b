// The customer-notification queue: other modules queue notices in their own transaction; the
// incidents module delivers them (src/notify/store.ts).
export { queueCustomerNotification } from './store.ts'
