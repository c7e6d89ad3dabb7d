#!/usr/bin/env node
// The `tocsin` command (`npm run tocsin -- …` in a checkout, `npx tocsin …` where Tocsin is
// installed as a package): loads the TypeScript entry point in this same process (signals reach it).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
