#!/usr/bin/env node
// `npx tocsin …`: loads the TypeScript entry point in this same process (signals reach it).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
