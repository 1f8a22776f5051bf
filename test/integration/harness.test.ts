/**
 * Proof that the real-server harness (dev-tools/prosody.ts) gives the other integration tests what they rely on:
 * one Prosody, two VirtualHosts standing in for two deployments (home.localhost, peer.localhost), each with MUC,
 * and PLAIN clients that connect in milliseconds. It also pins down the XMPP behaviour the bot depends on:
 * a legacy incident <message> crosses hosts intact; an IODEF report IQ to a FULL JID reaches the client and gets a
 * result; the same IQ to the BARE JID is answered by the server (service-unavailable) and never reaches the client;
 * a new MUC room is locked until its owner submits the instant-room form.
 */
import { randomUUID } from 'node:crypto';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLegacy, findLegacyPayload } from '../../src/protocol/legacy.js';
import { parseXml } from '../../src/protocol/xml.js';
import {
  nextStanza,
  plainCredentials,
  startProsody,
  type Client,
  type Element,
  type Prosody,
} from '../../dev-tools/prosody.js';

const HOME = 'home.localhost';
const PEER = 'peer.localhost';
const PASSWORD = 'harness-pw';

const LEGACY_NS = 'urn:xmpp:incident:0';
const INCIDENT2_NS = 'urn:xmpp:incident:2';
const IODEF_NS = 'urn:ietf:params:xml:ns:iodef-1.0';
const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const MUC_NS = 'http://jabber.org/protocol/muc';
const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';
const MUC_OWNER_NS = 'http://jabber.org/protocol/muc#owner';

const LEGACY_ID = 'BA51A035-7710-4558-9BBF-34838A4C5B24';

/** XEP-0268 v0.2, "An incident report" (shared/spec/xep-0268-v0.2.xml), the <incident/> payload verbatim. */
const LEGACY_EXAMPLE = `
  <incident xmlns='urn:xmpp:incident:0'
            id='BA51A035-7710-4558-9BBF-34838A4C5B24'>
    <description>
      <discuss>
        <admin>stpeter@jabber.org</admin>
        <muc>operators@conference.jabber.org</muc>
      </discuss>
      <info>
        <category>muc</category>
        <type>presence</type>
        <type>long-messages</type>
      </info>
      <locs>
        <loc>jdev@conference.jabber.org</loc>
        <loc>jabber@conference.jabber.org</loc>
      </locs>
      <rels>
        <rel>133BCE2E-E669-4ECE-B0F8-766B9E65630D</rel>
      </rels>
      <severity>2</severity>
      <source>
        <jids>
          <jid>abuser@abuse.lit</jid>
          <jid>loser@abuse.lit</jid>
        </jids>
      </source>
      <text xml:lang='en'>lots of MUC spammers from abuse.lit!</text>
      <time>
        <begin>2009-04-13T19:05:20Z</begin>
        <end>2009-04-13T19:27:22Z</end>
        <report>2009-04-13T19:31:07Z</report>
      </time>
    </description>
  </incident>`;

/** XEP-0268 v0.6's report example (IODEF), with this project's status attribute on the wrapper. */
const IODEF_REPORT = `
  <report xmlns='urn:xmpp:incident:2' status='new'>
    <Incident xmlns='urn:ietf:params:xml:ns:iodef-1.0' purpose='reporting'>
      <IncidentID name='peer.localhost'>4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF</IncidentID>
      <StartTime>2009-04-13T19:05:20Z</StartTime>
      <EndTime>2009-04-13T19:27:22Z</EndTime>
      <ReportTime>2009-04-13T19:31:07Z</ReportTime>
      <Description xml:lang='en'>lots of MUC spammers from clueless.lit!</Description>
      <Contact role='admin' type='person'>
        <AdditionalData>
          <jid xmlns='urn:xmpp:jid:0'>admin@peer.localhost</jid>
        </AdditionalData>
      </Contact>
      <Assessment>
        <Impact lang='en' severity='medium' completion='succeeded' type='dos'/>
      </Assessment>
      <EventData>
        <Flow>
          <System category='source'>
            <Node>
              <Address category='ext-category' ext-category='xmpp'>abuser@clueless.lit</Address>
              <Counter type='ext-type' ext-type='xmpp-presence'>123</Counter>
            </Node>
          </System>
        </Flow>
      </EventData>
    </Incident>
  </report>`;

function parse(text: string): Element {
  const parsed = parseXml(text.trim());
  if (!parsed.ok) throw new Error(`test fixture does not parse: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

/** Order-independent form of an element (Prosody does not keep attribute order; whitespace-only text is layout). */
function canonical(el: Element): unknown {
  return {
    name: el.name,
    attrs: Object.fromEntries(Object.entries(el.attrs).sort(([a], [b]) => a.localeCompare(b))),
    children: el.children
      .map((c) => (typeof c === 'string' ? c.trim() : canonical(c as Element)))
      .filter((c) => c !== ''),
  };
}

function statusCodes(presence: Element): string[] {
  return (presence.getChild('x', MUC_USER_NS)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
}

function ms(n: number): string {
  return `${n.toFixed(0)} ms`;
}

/** A client's full JID (set once online). */
function jidOf(c: Client): string {
  const jid = c.jid?.toString();
  if (!jid) throw new Error('client has no JID');
  return jid;
}

describe('plainCredentials', () => {
  async function pick(service: string, secure: boolean, offered = ['SCRAM-SHA-1', 'PLAIN']): Promise<string> {
    let chosen = '';
    const entity = { options: { service }, isSecure: () => secure } as unknown as Client;
    await plainCredentials('u', 'p')(
      async (creds, mechanism) => {
        expect(creds).toEqual({ username: 'u', password: 'p' });
        chosen = mechanism;
      },
      offered,
      null,
      entity,
    );
    return chosen;
  }

  it('picks PLAIN on loopback, and never sends a cleartext password over a network', async () => {
    expect(await pick('xmpp://127.0.0.1:5222', false)).toBe('PLAIN');
    expect(await pick('xmpp://localhost:5222', false)).toBe('PLAIN');
    expect(await pick('xmpp://example.org:5222', false)).toBe('SCRAM-SHA-1');
    expect(await pick('xmpps://example.org:5223', true)).toBe('SCRAM-SHA-1');
    await expect(pick('xmpp://example.org:5222', false, ['PLAIN'])).rejects.toThrow(/no usable mechanism/);
  });
});

// Prosody is required (.ci/run installs it; the README says how): without it this fails with a clear message.
describe('harness: a real Prosody with two VirtualHosts', () => {
  let prosody: Prosody | undefined;
  let home: Client; // home@home.localhost/bot — stands in for the bot's deployment
  let peer: Client; // peer@peer.localhost/bot — stands in for a peer server's operator
  const reports: Element[] = []; // IODEF report IQs that reached home's handler

  beforeAll(async () => {
    const t0 = performance.now();
    const server = await startProsody();
    prosody = server;
    const t1 = performance.now();
    await Promise.all([server.register('home', HOME, PASSWORD), server.register('peer', PEER, PASSWORD)]);
    const t2 = performance.now();
    [home, peer] = await Promise.all([
      server.client({ username: 'home', host: HOME, password: PASSWORD, resource: 'bot' }),
      server.client({ username: 'peer', host: PEER, password: PASSWORD, resource: 'bot' }),
    ]);
    const t3 = performance.now();
    console.log(
      `[harness] Prosody start ${ms(t1 - t0)}, 2 accounts (prosodyctl) ${ms(t2 - t1)}, 2 PLAIN logins ` +
        `${ms(t3 - t2)}; start + 2 logins ${ms(t1 - t0 + (t3 - t2))}, all ${ms(t3 - t0)} (port ${server.port})`,
    );

    // The handler must return an Element built with xml() or another truthy value: `undefined` would make
    // @xmpp/client answer service-unavailable itself.
    home.iqCallee.set(INCIDENT2_NS, 'report', (ctx: { stanza: Element }) => {
      reports.push(ctx.stanza);
      return true;
    });
  });

  afterAll(async () => {
    await prosody?.stop();
  });

  it('starts on a loopback port with both hosts and their MUC services', () => {
    const server = prosody!;
    expect(server.service).toBe(`xmpp://127.0.0.1:${server.port}`);
    expect(server.hosts).toEqual([HOME, PEER]);
    expect(server.mucOf(HOME)).toBe(`conference.${HOME}`);
    expect(jidOf(home)).toBe(`home@${HOME}/bot`);
    expect(jidOf(peer)).toBe(`peer@${PEER}/bot`);
  });

  it('(a) delivers a legacy incident <message> from peer.localhost to home.localhost intact', async () => {
    const sent = parse(LEGACY_EXAMPLE);
    const arrived = nextStanza(home, (el) => el.is('message') && el.getChild('incident', LEGACY_NS) !== undefined);
    // To the bare JID: home sent initial presence, so this is delivered live rather than stored offline.
    await peer.send(xml('message', { to: `home@${HOME}` }, sent));
    const msg = await arrived;

    expect(msg.attrs.from).toBe(jidOf(peer));
    const payload = findLegacyPayload(msg);
    expect(payload).toBeDefined();
    expect(canonical(payload!)).toEqual(canonical(sent));

    const decoded = decodeLegacy(payload!, { site: PEER });
    if (!decoded.ok) throw new Error(`decodeLegacy failed: ${JSON.stringify(decoded.error)}`);
    expect(decoded.value.id).toBe(LEGACY_ID);
    expect(decoded.value.admins).toEqual(['stpeter@jabber.org']);
    expect(decoded.value.severity).toBe(2);
  });

  it('(b) an IODEF report IQ-set to the FULL JID reaches the client, which answers with a result', async () => {
    const before = reports.length;
    const reply: Element = await peer.iqCaller.request(
      xml('iq', { type: 'set', to: jidOf(home) }, parse(IODEF_REPORT)),
      5_000,
    );
    expect(reply.attrs.type).toBe('result');
    expect(reply.attrs.from).toBe(jidOf(home));

    expect(reports).toHaveLength(before + 1);
    const got = reports[reports.length - 1]!;
    expect(got.attrs.from).toBe(jidOf(peer));
    const report = got.getChild('report', INCIDENT2_NS);
    expect(report?.attrs.status).toBe('new');
    const incident = report?.getChild('Incident', IODEF_NS);
    expect(incident?.getChildText('IncidentID')).toBe('4BF5D2CE-7C90-4860-BEF2-43A7D777D5FF');
    expect(canonical(report!)).toEqual(canonical(parse(IODEF_REPORT)));
  });

  it('(c) the same IQ to the BARE JID is answered by the server with service-unavailable (the trap)', async () => {
    const before = reports.length;
    const err: unknown = await peer.iqCaller
      .request(xml('iq', { type: 'set', to: `home@${HOME}` }, parse(IODEF_REPORT)), 5_000)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ name: 'StanzaError', condition: 'service-unavailable', type: 'cancel' });
    // The error comes from the bare JID, i.e. from the server acting for the account…
    const errorEl = (err as { element?: Element }).element;
    expect(errorEl?.parent?.attrs.from).toBe(`home@${HOME}`);
    // …and the client never saw the request.
    expect(reports).toHaveLength(before);
  });

  it('(d) a new MUC room is locked until its owner submits the instant-room form; then others can join', async () => {
    const room = `harness-${randomUUID().slice(0, 8)}@${prosody!.mucOf(HOME)}`;
    const join = (c: Client, nick: string) =>
      c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC_NS }, xml('history', { maxstanzas: '0' }))));
    const presenceFrom = (c: Client, nick: string) =>
      nextStanza(c, (el) => el.is('presence') && el.attrs.from === `${room}/${nick}`);

    // home creates the room: its self-presence carries 201 (room created) and 110 (this is you).
    const created = presenceFrom(home, 'owner');
    await join(home, 'owner');
    const own = await created;
    expect(own.attrs.type).toBeUndefined();
    expect(statusCodes(own)).toEqual(expect.arrayContaining(['110', '201']));

    // Still locked: peer is refused with item-not-found.
    const refused = presenceFrom(peer, 'operator');
    await join(peer, 'operator');
    const refusal = await refused;
    expect(refusal.attrs.type).toBe('error');
    expect(refusal.getChild('error')?.getChild('item-not-found', STANZAS_NS)).toBeDefined();

    // The owner accepts the default configuration (XEP-0045 §10.1.2, instant room).
    const unlocked: Element = await home.iqCaller.request(
      xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MUC_OWNER_NS }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }))),
      5_000,
    );
    expect(unlocked.attrs.type).toBe('result');

    // Now peer (from the other VirtualHost) gets in, and the owner sees it arrive.
    const joined = presenceFrom(peer, 'operator');
    const seenByOwner = presenceFrom(home, 'operator');
    await join(peer, 'operator');
    const self = await joined;
    expect(self.attrs.type).toBeUndefined();
    expect(statusCodes(self)).toContain('110');
    expect(statusCodes(self)).not.toContain('201');
    expect((await seenByOwner).attrs.type).toBeUndefined();
  });

  it('restart() keeps port and accounts; harness clients reconnect and announce presence again', async () => {
    const server = prosody!;
    const port = server.port;
    // home is back when the server reflects its re-sent initial presence; peer when it is online.
    const homeBack = nextStanza(home, (el) => el.is('presence') && el.attrs.from === jidOf(home) && !el.attrs.type, 10_000);
    const peerBack = new Promise((resolve) => peer.once('online', resolve));
    const t0 = performance.now();
    await server.restart();
    const t1 = performance.now();
    await Promise.all([homeBack, peerBack]);
    console.log(`[harness] restart ${ms(t1 - t0)}, clients back online after ${ms(performance.now() - t0)}`);
    expect(server.port).toBe(port);

    // So a message to the bare JID is delivered live, not stored offline.
    const arrived = nextStanza(home, (el) => el.is('message') && el.getChildText('body') === 'after restart');
    await peer.send(xml('message', { to: `home@${HOME}` }, xml('body', {}, 'after restart')));
    expect((await arrived).attrs.from).toBe(jidOf(peer));
  });
});
