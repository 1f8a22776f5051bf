#!/usr/bin/env node
// The installable command: runs the TypeScript entry point through tsx's loader (no build step to forget).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
