/** A direct message to every configured admin (`admins`): how the bot tells a problem nobody would see in a room. */
import xml from '@xmpp/xml';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import type { Client } from './connection.js';

export function tellAdmins(deps: { xmpp: Client; config: Pick<Config, 'admins'>; log: Logger }, text: string): void {
  for (const admin of deps.config.admins) {
    deps.xmpp
      .send(xml('message', { to: admin, type: 'chat' }, xml('body', {}, text)))
      .catch((err: Error) => deps.log.warn({ to: admin, err: err.message }, 'admin notice not sent'));
  }
}
