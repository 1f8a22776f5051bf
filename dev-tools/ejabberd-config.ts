/**
 * The files a throwaway ejabberd instance of `ejabberd.ts` runs from: ejabberd.yml, the ejabberdctl config, the
 * Erlang arguments file (cookie), and the `ejabberdctl` wrapper for this instance. Text only, no side effects.
 */

export interface EjabberdFiles {
  dir: string;
  hosts: string[];
  /** c2s without TLS (PLAIN allowed: loopback only). */
  port: number;
  /** c2s with STARTTLS required, when TLS is on; 0 otherwise. */
  tlsPort: number;
  /** ejabberd_http with mod_http_api (the harness's fast admin channel). */
  httpPort: number;
  /** Erlang distribution port (epmd-less: see ejabberd.ts). */
  distPort: number;
  node: string;
  /** Erlang cookie, read by the server from `home/.erlang.cookie` (never on its command line). */
  cookie: string;
  /** Whether Debian's ejabberdctl needs the cookie on its command line (root, with no system cookie to share). */
  cookieForCtl: boolean;
  muc: boolean;
  /** mod_muc `default_room_options` (ejabberd's own defaults when empty). */
  roomDefaults: Record<string, string | boolean | number>;
  /** PEM files for `certfiles`. */
  certfiles: string[];
  debug: boolean;
}

/** Where each file lives in the instance's temp dir. */
export function pathsIn(dir: string) {
  return {
    config: `${dir}/ejabberd.yml`,
    ctlConfig: `${dir}/ejabberdctl.cfg`,
    home: `${dir}/home`,
    cookieFile: `${dir}/home/.erlang.cookie`,
    spool: `${dir}/spool`,
    logs: `${dir}/logs`,
    log: `${dir}/logs/ejabberd.log`,
    errorLog: `${dir}/logs/error.log`,
    stdout: `${dir}/logs/stdout.log`,
    pidfile: `${dir}/ejabberd.pid`,
    bin: `${dir}/bin`,
    ctl: `${dir}/bin/ejabberdctl`,
  };
}

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const q = (s: string): string => JSON.stringify(s);

export function ejabberdYml(f: EjabberdFiles): string {
  const c2s = (port: number, tls: boolean) => [
    `  - port: ${port}`,
    '    ip: "127.0.0.1"',
    '    module: ejabberd_c2s',
    '    max_stanza_size: 262144',
    '    access: c2s',
    ...(tls ? ['    starttls: true', '    starttls_required: true'] : ['    starttls: false']),
  ];
  // mam: rooms archive their messages (mod_mam), so each carries a XEP-0359 stanza-id that replies and reactions
  // (XEP-0461, XEP-0444) point at — as with muc_mam on the Prosody harness. A test may still turn it off.
  const roomDefaults = Object.entries(f.muc ? { mam: true, ...f.roomDefaults } : f.roomDefaults);
  return [
    '# Written by dev-tools/ejabberd.ts for a throwaway loopback test server.',
    'hosts:',
    ...f.hosts.map((h) => `  - ${q(h)}`),
    `loglevel: ${f.debug ? 'debug' : 'info'}`,
    'log_rotate_count: 0',
    ...(f.certfiles.length ? ['certfiles:', ...f.certfiles.map((c) => `  - ${q(c)}`)] : []),
    'listen:',
    ...c2s(f.port, false),
    ...(f.tlsPort ? c2s(f.tlsPort, true) : []),
    `  - port: ${f.httpPort}`,
    '    ip: "127.0.0.1"',
    '    module: ejabberd_http',
    '    request_handlers:',
    '      /api: mod_http_api',
    // No s2s listener, and no outgoing s2s: hosts of one server route to each other internally.
    's2s_access: s2s',
    'auth_method: internal',
    // As Debian's stock config: passwords stored as SCRAM hashes (PLAIN logins still work against them).
    'auth_password_format: scram',
    'acl:',
    '  loopback:',
    '    ip:',
    '      - 127.0.0.0/8',
    'access_rules:',
    '  c2s:',
    '    allow: all',
    '  muc_create:',
    '    allow: all',
    '  s2s:',
    '    deny: all',
    'api_permissions:',
    '  "console commands":',
    '    from:',
    '      - ejabberd_ctl',
    '    who: all',
    '    what: "*"',
    '  "harness admin over loopback http":',
    '    from:',
    '      - mod_http_api',
    '    who:',
    '      acl: loopback',
    '    what: "*"',
    // No shaper (Debian's stock config throttles c2s to 3 KB/s), no mod_fail2ban, no s2s.
    'modules:',
    '  mod_admin_extra: {}',
    '  mod_disco: {}',
    ...(f.muc ? ['  mod_mam: {}'] : []),
    '  mod_http_api: {}',
    '  mod_offline: {}',
    '  mod_ping: {}',
    '  mod_roster: {}',
    '  mod_stream_mgmt: {}',
    ...(f.muc
      ? [
          '  mod_muc:',
          '    host: "conference.@HOST@"',
          '    access_create: muc_create',
          '    access_persistent: muc_create',
          ...(roomDefaults.length
            ? ['    default_room_options:', ...roomDefaults.map(([k, v]) => `      ${k}: ${typeof v === 'string' ? q(v) : String(v)}`)]
            : []),
          '  mod_muc_admin: {}',
        ]
      : []),
    '',
  ].join('\n');
}

/**
 * The `--ctl-config` of this instance: Debian's ejabberdctl sources it after its own defaults, so these win over
 * /etc/ejabberd (whose ejabberdctl.cfg points at /etc/ejabberd/ejabberd.yml and the system node).
 * ERL_DIST_PORT makes ejabberdctl epmd-less: no epmd is started or killed, and no node name is registered anywhere.
 */
export function ctlConfig(f: EjabberdFiles): string {
  const p = pathsIn(f.dir);
  return [
    '# Written by dev-tools/ejabberd.ts: `ejabberdctl --ctl-config THIS-FILE COMMAND` talks to this test instance.',
    `ERLANG_NODE=${f.node}`,
    `ERL_DIST_PORT=${f.distPort}`,
    `ERL_OPTIONS="${f.cookieForCtl ? `-setcookie ${f.cookie} ` : ''}-env ERL_CRASH_DUMP_BYTES 0"`,
    `EJABBERD_CONFIG_PATH=${p.config}`,
    `EJABBERD_PID_PATH=${p.pidfile}`,
    `LOGS_DIR=${p.logs}`,
    `SPOOL_DIR=${p.spool}`,
    'EJABBERD_BYPASS_WARNINGS=true',
    '',
  ].join('\n');
}

/** Everything after `erl`: the arguments `ejabberdctl foreground` would use, epmd-less, distribution on loopback
 * only. Run with HOME=`home` (the cookie file). */
export function serverArgs(f: EjabberdFiles): string[] {
  const p = pathsIn(f.dir);
  return [
    '-sname', f.node,
    '+K', 'true', '+P', '250000',
    '-kernel', 'inet_dist_use_interface', '{127,0,0,1}',
    '-env', 'ERL_CRASH_DUMP_BYTES', '0',
    '-erl_epmd_port', String(f.distPort), '-start_epmd', 'false',
    '-mnesia', 'dir', JSON.stringify(p.spool),
    '-s', 'ejabberd',
    '-noinput',
  ];
}

/**
 * `bin/ejabberdctl` of the instance. As root it is Debian's ejabberdctl with this instance's --ctl-config (which
 * runs the command as the `ejabberd` user, as on a real server). Anyone else may not run Debian's ejabberdctl (it
 * allows only root and `ejabberd`), so it runs what ejabberdctl would: a hidden Erlang node calling ejabberd_ctl,
 * with the instance's cookie file.
 */
export function ctlWrapper(f: EjabberdFiles, sys: { ejabberdctl: string; erl: string; erlLibs: string }, asRoot: boolean): string {
  const p = pathsIn(f.dir);
  const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const body = asRoot
    ? `exec ${sh(sys.ejabberdctl)} --ctl-config ${sh(p.ctlConfig)} "$@"`
    : [
        `cd ${sh(p.spool)} || exit 6`,
        `HOME=${sh(p.home)} ERL_LIBS=${sh(sys.erlLibs)} exec ${sh(sys.erl)} -sname "ctl-$$-${f.node}" +K true +P 250000 \\`,
        `  -erl_epmd_port ${f.distPort} -start_epmd false -dist_listen false -hidden -noinput -s ejabberd_ctl -extra ${sh(f.node)} "$@"`,
      ].join('\n');
  return `#!/bin/sh\n# ejabberdctl for the test instance in ${f.dir} (written by dev-tools/ejabberd.ts).\n${body}\n`;
}
