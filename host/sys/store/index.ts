export { openStore, validateName, LOCK_FILE } from './store.ts';
export type { Store, StoreOptions, LockOptions, Release } from './store.ts';
