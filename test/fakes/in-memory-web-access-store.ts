import {emptyWebAccess, type WebAccessData, type WebAccessStore} from '../../src/web/web-access.js';

/** The browser-access file in memory: each update works on a copy, kept when the change returns. */
export class InMemoryWebAccessStore implements WebAccessStore {
  data: WebAccessData = emptyWebAccess();
  async read() {
    return structuredClone(this.data);
  }
  async update<T>(change: (data: WebAccessData) => T) {
    const next = structuredClone(this.data);
    const result = change(next);
    this.data = next;
    return result;
  }
}
