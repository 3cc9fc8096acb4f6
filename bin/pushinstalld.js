#!/usr/bin/env node
// The `pushinstalld` command (package.json "bin"): runs the CLI's TypeScript through tsx, a runtime
// dependency, so `npx pushinstalld …` works from a checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
