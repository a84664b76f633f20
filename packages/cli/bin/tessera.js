#!/usr/bin/env node
// The command as npm links it: a file in the repository before any build, so that `npm ci` links
// it even though a workspace is built (its `prepare`) only after the links are made.
import '../dist/bin.js';
