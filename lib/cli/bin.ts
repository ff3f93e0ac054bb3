#!/usr/bin/env node
// The `nodeformer` command (package.json "bin"): the CLI of main.ts on this process's arguments.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
