/**
 * The command table. A command is listed (and in `trackrec --help`) once it exists.
 */

import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { probeCommand } from './probe.js';
import { recordCommand } from './record.js';
import { repairCommand } from './repair.js';
import { serveCommand } from './serve.js';

/** Every command of `trackrec`, in help order. */
export const COMMANDS: readonly Command[] = [
  recordCommand,
  demoCommand,
  probeCommand,
  repairCommand,
  serveCommand,
];
