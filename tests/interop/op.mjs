// An independent CIBA OP for interop tests: panva's oidc-provider (pinned in package.json),
// CIBA in poll mode, set up through its documented options only. The library is not
// patched; three things are added in front of it with provider.use() (Koa middleware):
// the poll throttle (slow_down), the optional `interval`, and the optional rogue JWKS.
//
// Usage: node tests/interop/op.mjs [--interval N] [--rogue-jwks same-kid|fresh-kid]
//
//   --interval N   add `interval: N` to the backchannel authentication response (an OP
//                  policy CIBA Core §7.3 allows; oidc-provider itself sends none, which
//                  means the CIBA default of 5 s). Either way the token endpoint enforces
//                  the interval (see "poll throttle" below).
//   --rogue-jwks   the jwks_uri publishes a freshly generated RSA key instead of the key
//                  the OP signs ID tokens with: with the signing key's kid (same-kid), or
//                  with a kid of its own (fresh-kid). Tokens are issued and signed exactly
//                  as usual; only the published key set is wrong.
//
// Once listening it prints one JSON line on stdout (other lines may precede it):
//   {"ready":true,"issuer":"http://127.0.0.1:P","control":"http://127.0.0.1:C",
//    "client":{"client_id":...,"client_secret":...},"users":[...],...}
//
// Control surface (a second port, plain JSON, never part of the OP):
//   GET  /pending                          requests the "authentication device" received
//   POST /approve?user=ID | ?auth_req_id=X  approve the newest undecided request
//   POST /deny?user=ID | ?auth_req_id=X     deny it (access_denied)
//   GET  /stats                            counters, incl. how many polls drew slow_down
//   GET  /real-jwks                        the public part of the key that really signs
//
// The process exits when its stdin closes, so a killed test leaves nothing behind.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as http from 'node:http';
import { parse as parseQuery } from 'node:querystring';

import Provider, { errors } from 'oidc-provider';

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
// CIBA Core §7.3: without `interval` in the response the client polls every 5 s.
const CIBA_DEFAULT_INTERVAL_S = 5;
// CIBA Core §11: each slow_down raises the interval by at least 5 s.
const SLOW_DOWN_STEP_S = 5;

function parseArgs(argv) {
  const out = { interval: undefined, rogueJwks: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--interval') {
      out.interval = Number.parseInt(argv[(i += 1)], 10);
      if (!Number.isSafeInteger(out.interval) || out.interval < 1) throw new Error('--interval N, N >= 1');
    } else if (a === '--rogue-jwks') {
      out.rogueJwks = argv[(i += 1)];
      if (!['same-kid', 'fresh-kid'].includes(out.rogueJwks)) throw new Error('--rogue-jwks same-kid|fresh-kid');
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const libVersion = JSON.parse(
  readFileSync(new URL('./node_modules/oidc-provider/package.json', import.meta.url), 'utf8'),
).version;

// ---------------------------------------------------------------- keys

function rsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function publicPart({ kty, n, e, kid, alg, use }) {
  return { kty, n, e, kid, alg, use };
}

const signingKey = rsaJwk(`op-${randomUUID()}`);
const rogueKey = args.rogueJwks
  ? publicPart(rsaJwk(args.rogueJwks === 'same-kid' ? signingKey.kid : `rogue-${randomUUID()}`))
  : undefined;

// ---------------------------------------------------------------- accounts and clients

const ACCOUNTS = new Map([
  ['alice', { name: 'Alice Andersen', birthdate: '1990-01-02' }],
  ['bob', { name: 'Bob Bendtsen', birthdate: '1985-06-30' }],
  ['carol', { name: 'Carol Christensen', birthdate: '2001-12-24' }],
]);

const secret = () => randomBytes(24).toString('base64url');
// One confidential client. oidc-provider accepts client_secret_basic and client_secret_post
// interchangeably for a client registered with either (lib/shared/client_auth.js), so the
// method actually used is recorded per request in the stats (auth_methods).
const CLIENT = { client_id: 'mitid-flex-tv-interop', client_secret: secret() };

// ---------------------------------------------------------------- state seen by the control surface

const pending = []; // { auth_req_id, user, client_id, binding_message, scope, created_ms, decision }
const stats = {
  discovery_requests: 0,
  jwks_requests: 0,
  backchannel_requests: 0,
  backchannel_ok: 0,
  token_requests: 0,
  slow_down: 0,
  tokens_issued: 0,
  token_errors: {}, // error code -> count, as answered by the token endpoint
  first_poll_gaps_ms: [], // backchannel response -> first poll, per request
  poll_gaps_ms: [], // poll -> next poll of the same request
  auth_methods: {}, // endpoint -> client authentication method -> count
};

// Poll throttle. oidc-provider 9 sends no slow_down by itself, so a client that polls too
// fast would go unnoticed. This enforces CIBA Core §7.3/§11 the strict way: a poll that
// comes sooner than the interval after the previous poll of the same auth_req_id (or,
// stricter than the letter of §7.3, after the backchannel response for the first poll)
// is answered slow_down, and the interval for that request grows by 5 s for good.
const throttle = new Map(); // auth_req_id -> { last_ms, interval_s, polls }

// ---------------------------------------------------------------- provider

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    ...CLIENT,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: [CIBA_GRANT],
    response_types: [],
    redirect_uris: [],
    backchannel_token_delivery_mode: 'poll',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [secret()] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'birthdate'],
  },
  async findAccount(ctx, id) {
    const a = ACCOUNTS.get(id);
    if (!a) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...a }; } };
  },
  features: {
    devInteractions: { enabled: false },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      async processLoginHint(ctx, loginHint) {
        // The login_hint is a user ID; an unknown one yields unknown_user_id.
        return ACCOUNTS.has(loginHint) ? loginHint : undefined;
      },
      async processLoginHintToken() {
        throw new errors.InvalidRequest('login_hint_token is not supported by this OP');
      },
      async validateBindingMessage(ctx, bindingMessage) {
        // Verbatim the library default (oidc-provider 9.x lib/helpers/defaults.js).
        if (bindingMessage?.match(/^[a-zA-Z0-9-._+/!?#]{1,20}$/) === null) {
          throw new errors.InvalidBindingMessage(
            'the binding_message value, when provided, needs to be 1 - 20 characters in length and use only a basic set of characters (matching the regex: ^[a-zA-Z0-9-._+/!?#]{1,20}$ )',
          );
        }
      },
      async validateRequestContext(ctx, requestContext) {
        if (requestContext !== undefined) throw new errors.InvalidRequest('request_context is not supported');
      },
      async verifyUserCode(ctx, account, userCode) {
        if (userCode !== undefined) throw new errors.InvalidRequest('user_code is not supported');
      },
      async triggerAuthenticationDevice(ctx, request, account, client) {
        pending.push({
          auth_req_id: request.jti,
          user: account.accountId,
          client_id: client.clientId,
          binding_message: request.params.binding_message ?? null,
          scope: request.scope,
          created_ms: Date.now(),
          decision: null,
        });
      },
    },
  },
});

async function readRawBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

// How a request authenticates the client, and whether the credentials are right:
// { method: 'client_secret_basic' | 'client_secret_post' | 'none', ok }.
function clientAuthOf(ctx, form) {
  const auth = ctx.get('authorization');
  if (auth.startsWith('Basic ')) {
    const creds = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = creds.indexOf(':');
    let id;
    let pw;
    try {
      [id, pw] = [creds.slice(0, colon), creds.slice(colon + 1)]
        .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    } catch {
      return { method: 'client_secret_basic', ok: false };
    }
    return { method: 'client_secret_basic', ok: colon > 0 && id === CLIENT.client_id && pw === CLIENT.client_secret };
  }
  if (form.client_secret !== undefined) {
    return {
      method: 'client_secret_post',
      ok: form.client_id === CLIENT.client_id && form.client_secret === CLIENT.client_secret,
    };
  }
  return { method: 'none', ok: false };
}

function countAuth(endpoint, method) {
  const m = (stats.auth_methods[endpoint] ??= {});
  m[method] = (m[method] ?? 0) + 1;
}

provider.use(async (ctx, next) => {
  const path = ctx.path;
  if (path === '/.well-known/openid-configuration') stats.discovery_requests += 1;

  if (path === '/jwks' && ctx.method === 'GET') {
    stats.jwks_requests += 1;
    if (rogueKey) {
      ctx.type = 'application/jwk-set+json; charset=utf-8';
      ctx.body = { keys: [rogueKey] };
      return;
    }
  }

  if (path === '/backchannel' && ctx.method === 'POST') {
    stats.backchannel_requests += 1;
    // The form is parsed by the library; the header tells basic apart.
    countAuth('backchannel', ctx.get('authorization').startsWith('Basic ') ? 'client_secret_basic' : 'client_secret_post');
    await next();
    if (ctx.status === 200 && ctx.body?.auth_req_id) {
      stats.backchannel_ok += 1;
      if (args.interval !== undefined) ctx.body.interval = args.interval;
      throttle.set(ctx.body.auth_req_id, {
        last_ms: performance.now(),
        interval_s: args.interval ?? CIBA_DEFAULT_INTERVAL_S,
        polls: 0,
      });
    }
    return;
  }

  if (path === '/token' && ctx.method === 'POST') {
    stats.token_requests += 1;
    // Read the form once to see auth_req_id; oidc-provider then takes the already-read
    // body from req.body (its documented fallback for upstream body parsers).
    const raw = await readRawBody(ctx.req);
    ctx.req.body = raw;
    const form = parseQuery(raw.toString('utf8'));
    const t = form.grant_type === CIBA_GRANT ? throttle.get(form.auth_req_id) : undefined;
    const auth = clientAuthOf(ctx, form);
    countAuth('token', auth.method);
    // Only a poll that authenticates as the request's own client counts; anything else
    // goes straight to the library (and fails there).
    if (t && auth.ok) {
      const now = performance.now();
      const tooSoon = now - t.last_ms < t.interval_s * 1000;
      const gap = Math.round(now - t.last_ms);
      (t.polls === 0 ? stats.first_poll_gaps_ms : stats.poll_gaps_ms).push(gap);
      t.polls += 1;
      t.last_ms = now;
      if (tooSoon) {
        t.interval_s += SLOW_DOWN_STEP_S;
        stats.slow_down += 1;
        stats.token_errors.slow_down = (stats.token_errors.slow_down ?? 0) + 1;
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          error: 'slow_down',
          error_description: `polled ${gap} ms after the previous poll; the interval is now ${t.interval_s} s`,
        };
        return;
      }
    }
    await next();
    if (ctx.status === 200 && ctx.body?.id_token) {
      stats.tokens_issued += 1;
    } else if (ctx.body?.error) {
      stats.token_errors[ctx.body.error] = (stats.token_errors[ctx.body.error] ?? 0) + 1;
    }
    return;
  }

  await next();
});

server.on('request', provider.callback());

// ---------------------------------------------------------------- control surface

function findPending(q) {
  const open = pending.filter((p) => p.decision === null);
  const hit = q.auth_req_id
    ? open.find((p) => p.auth_req_id === q.auth_req_id)
    : open.filter((p) => p.user === q.user).at(-1);
  if (!hit) throw Object.assign(new Error('no undecided request for that user / auth_req_id'), { status: 404 });
  return hit;
}

async function decide(q, approve) {
  const p = findPending(q);
  if (approve) {
    const grant = new provider.Grant({ accountId: p.user, clientId: p.client_id });
    grant.addOIDCScope(p.scope || 'openid');
    await grant.save();
    await provider.backchannelResult(p.auth_req_id, grant, { authTime: Math.floor(Date.now() / 1000) });
  } else {
    await provider.backchannelResult(p.auth_req_id, new errors.AccessDenied('the end-user denied the request'));
  }
  p.decision = approve ? 'approved' : 'denied';
  p.decided_ms = Date.now();
  return p;
}

const control = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://control');
  const q = Object.fromEntries(url.searchParams);
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  try {
    if (req.method === 'GET' && url.pathname === '/pending') return send(200, pending);
    if (req.method === 'GET' && url.pathname === '/stats') return send(200, stats);
    if (req.method === 'GET' && url.pathname === '/real-jwks') return send(200, { keys: [publicPart(signingKey)] });
    if (req.method === 'POST' && url.pathname === '/approve') return send(200, await decide(q, true));
    if (req.method === 'POST' && url.pathname === '/deny') return send(200, await decide(q, false));
    return send(404, { error: 'not found' });
  } catch (e) {
    return send(e.status ?? 500, { error: String(e.message ?? e) });
  }
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));

process.stdout.write(`${JSON.stringify({
  ready: true,
  issuer,
  control: `http://127.0.0.1:${control.address().port}`,
  client: CLIENT,
  users: [...ACCOUNTS.keys()],
  interval: args.interval ?? null,
  rogue_jwks: args.rogueJwks ?? null,
  oidc_provider: libVersion,
  node: process.version,
})}\n`);
