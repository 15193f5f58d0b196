// A local OpenID Connect provider for the sign-in tests: the certified `oidc-provider`
// package, with its own sign-in and consent pages and the test users it is given.
//
// Environment:
//   OIDC_TEST_CLIENTS  JSON list of {client_id, client_secret, redirect_uris,
//                      post_logout_redirect_uris}
//   OIDC_TEST_USERS    JSON list of {sub, email, email_verified, name, password, groups}
//   OIDC_TEST_CONTROL  "1" opens POST /test-control/next-id-token, which makes the next
//                      token response carry a spoiled ID token (tampered, wrong audience,
//                      wrong nonce, wrong issuer, expired; or, valid but
//                      oversized, as big as one with many groups); the provider still issues the
//                      real token first, so the code is spent as in a real attack; and
//                      POST /test-control/groups (sub, groups: a JSON list), which changes
//                      a person's groups in the directory as an administrator there would.
//   OIDC_TEST_NO_LOGOUT "1" turns RP-initiated logout off: the discovery document then has
//                      no end_session_endpoint.
//
// It listens on 127.0.0.1 on a free port and prints "listening <issuer>" once ready.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS || '[]');
const users = JSON.parse(process.env.OIDC_TEST_USERS || '[]');
const controlEnabled = process.env.OIDC_TEST_CONTROL === '1';
const logoutEnabled = process.env.OIDC_TEST_NO_LOGOUT !== '1';

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

let nextIdToken = null; // one spoiling, used by the next token response only

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)} - Test identity provider</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 10000) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(data))));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const b64url = (value) => Buffer.from(value).toString('base64url');

function sign(header, payload) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  return `${input}.${signature}`;
}

// The spoilings of a genuine ID token the relying party must refuse.
function spoil(idToken, how) {
  const [headerPart, payloadPart, signaturePart] = idToken.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url'));
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url'));
  const now = Math.floor(Date.now() / 1000);
  switch (how) {
    case 'tampered': // a claim changed after signing: the signature no longer matches
      claims.sub = `${claims.sub}-someone-else`;
      return `${headerPart}.${b64url(JSON.stringify(claims))}.${signaturePart}`;
    case 'wrong-audience': // signed by the provider, but issued to another client
      return sign(header, { ...claims, aud: 'another-client', azp: claims.aud });
    case 'wrong-nonce':
      return sign(header, { ...claims, nonce: 'a-nonce-from-another-sign-in' });
    case 'wrong-issuer':
      return sign(header, { ...claims, iss: 'https://issuer.invalid' });
    case 'expired':
      return sign(header, { ...claims, iat: now - 7200, exp: now - 3600 });
    case 'oversized': // not spoiled: a valid token as big as one carrying many groups
      return sign(header, { ...claims, groups: Array.from({ length: 150 }, (_, n) => `group-${n}`) });
    default:
      throw new Error(`unknown spoiling ${how}`);
  }
}

async function interaction(provider, req, res) {
  const url = new URL(req.url, provider.issuer);
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Wrong interaction', ''));
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') {
      return send(res, 200, page('Sign in', `
<form method="post" action="/interaction/${uid}/login">
  <label for="login">Email</label> <input id="login" name="login" type="email" autocomplete="username">
  <label for="password">Password</label> <input id="password" name="password" type="password">
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`));
    }
    return send(res, 200, page('Allow access', `
<p>Allow the application ${escape(details.params.client_id)} to know who you are?</p>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Deny</button></form>`));
  }
  const form = await readForm(req);
  let result;
  if (action === 'login') {
    const user = users.find((u) => u.email === form.login && u.password === form.password);
    if (!user) return send(res, 200, page('Sign in', '<p role="alert">Wrong email or password</p>'));
    result = { login: { accountId: user.sub } };
  } else if (action === 'confirm') {
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    result = { consent: details.grantId ? {} : { grantId } };
  } else if (action === 'abort') {
    result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  } else {
    return send(res, 404, page('Not found', ''));
  }
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function control(req, res) {
  const form = await readForm(req);
  if (req.url === '/test-control/groups') {
    const user = users.find((u) => u.sub === form.sub);
    if (!user) return send(res, 404, page('No such person', ''));
    user.groups = JSON.parse(form.groups);
  } else {
    nextIdToken = form.spoil || null;
  }
  res.writeHead(204);
  return res.end();
}

// The question before signing out (as most providers ask); the button submits the form
// oidc-provider gives, with its xsrf value.
async function logoutSource(ctx, form) {
  ctx.body = page('Sign out', `<p>Sign out of the test identity provider?</p>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingKey] },
    async findAccount(ctx, sub) {
      const user = users.find((u) => u.sub === sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          const { password, ...claims } = user;
          return claims;
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: logoutEnabled, logoutSource },
    },
    interactions: { url: (ctx, details) => `/interaction/${details.uid}` },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  // After the real token response: replace its ID token once, when a test asked for it.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && nextIdToken && ctx.body?.id_token) {
      const how = nextIdToken;
      nextIdToken = null;
      ctx.body = { ...ctx.body, id_token: spoil(ctx.body.id_token, how) };
    }
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((error) => send(res, 500, page('Error', escape(error.message))));
    } else if (controlEnabled && req.method === 'POST' && req.url.startsWith('/test-control/')) {
      control(req, res).catch(() => send(res, 400, page('Error', '')));
    } else {
      handle(req, res);
    }
  });
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
