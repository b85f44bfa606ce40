#!/usr/bin/env node
// Thin launcher so `npx mailferry` and `npm start` run the compiled CLI from dist/.
import('../dist/cli.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    console.error('mailferry is not built yet: run `npm ci` (or `npm run build`) in the repository first.');
    process.exit(1);
  }
  throw error;
});
