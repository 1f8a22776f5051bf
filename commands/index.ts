/** Every command, in the order `!help` and the manual list them. */
import type { CommandSpec } from '../src/triage/command.js';
import ack from './ack.js';
import assign from './assign.js';
import block from './block.js';
import blocks from './blocks.js';
import unblock from './unblock.js';
import exportCommand from './export.js';
import forward from './forward.js';
import help from './help.js';
import inquire from './inquire.js';
import list from './list.js';
import mute from './mute.js';
import mutes from './mutes.js';
import note from './note.js';
import outbox from './outbox.js';
import peers from './peers.js';
import relate from './relate.js';
import release from './release.js';
import reload from './reload.js';
import reopen from './reopen.js';
import report from './report.js';
import request from './request.js';
import search from './search.js';
import severity from './severity.js';
import show from './show.js';
import snooze from './snooze.js';
import solve from './solve.js';
import stats from './stats.js';
import take from './take.js';
import unmute from './unmute.js';

export const allCommands: readonly CommandSpec[] = [
  help,
  list,
  show,
  ack,
  take,
  assign,
  release,
  snooze,
  solve,
  reopen,
  note,
  severity,
  relate,
  forward,
  report,
  inquire,
  request,
  block,
  unblock,
  blocks,
  mute,
  unmute,
  mutes,
  outbox,
  peers,
  search,
  stats,
  exportCommand,
  reload,
];
