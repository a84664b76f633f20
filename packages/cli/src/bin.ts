#!/usr/bin/env node
import { run } from './program.js';

// A command that ends (everything but `serve` and `demo`) exits at once with its code, even if
// a driver left a timer or socket behind. stdout and stderr are synchronous for files and pipes
// on POSIX, so no output is lost.
const code = await run(process.argv);
if (code !== null) process.exit(code);
