export * from './columns.js';
export * from './feed.js';
export * from './org-units.js';
