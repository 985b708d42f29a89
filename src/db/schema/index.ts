export * from './columns.js';
export * from './feed.js';
export * from './org-units.js';
export * from './officers.js';
export * from './credentials.js';
export * from './cases.js';
