#!/usr/bin/env node
// tsc compiles only .ts; the dashboard's page, script and style are copied next to the compiled handler.
import { chmodSync, cpSync, writeFileSync } from 'node:fs';

cpSync('src/http/dashboard', 'dist/http/dashboard', { recursive: true });
// The CLI entry is run directly as `spillway` (package.json bin): make it executable.
chmodSync('dist/cli/main.js', 0o755);
// The build's last step: scripts/ensure-built.mjs (npm start) compares the sources against this file's time.
writeFileSync('dist/.build-stamp', `${new Date().toISOString()}\n`);
