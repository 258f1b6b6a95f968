#!/usr/bin/env node
// fleetfix command-line entry: runs the bundled CLI (npm run build makes it).
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv);
