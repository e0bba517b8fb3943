#!/usr/bin/env node
'use strict';
// The CLI is compiled from bot/cli by `npm run build` (run automatically by `npm ci` through `prepare`).
require('../dist/bot/cli/main.js');
