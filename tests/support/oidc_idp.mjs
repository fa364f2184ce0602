// A real OpenID Connect provider for the tests: node's oidc-provider, on 127.0.0.1.
//
//   node tests/support/oidc_idp.mjs PORT CLIENTS_JSON
//
// CLIENTS_JSON is a list of {client_id, client_secret, redirect_uris}. Its dev
// login form signs in any login with any password; the account's claims are
// whatever a test set for that login (POST /_test/users {"login": {claims}}),
// else {email: login, email_verified: true}. Consent is given automatically.
//
// One test hook changes what the provider does, for the next ID token only:
// POST /_test/next-id-token {"audience": "other-client"} issues it to another
// registered client (signed with the provider's own key, everything else right),
// which is what a token meant for another application looks like.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const clients = JSON.parse(process.argv[3] || '[]');
const issuer = `http://127.0.0.1:${port}`;

const users = new Map();
const nextIdToken = {};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...c,
  })),
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomUUID()] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Every claim the scopes allow goes into the ID token, as Okta, Entra ID and Google do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...(users.get(id) ?? { email: id, email_verified: true }) };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

const originalIssue = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = async function issue(options) {
  if (options?.use === 'idtoken' && nextIdToken.audience) {
    this.client = await provider.Client.find(nextIdToken.audience);
    delete nextIdToken.audience;
  }
  return originalIssue.call(this, options);
};

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      try { resolve(JSON.parse(body || '{}')); } catch (error) { reject(error); }
    });
  });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  if (!req.url.startsWith('/_test/')) {
    callback(req, res);
    return;
  }
  try {
    if (req.url === '/_test/health') {
      res.writeHead(200).end('ok');
    } else if (req.url === '/_test/users' && req.method === 'POST') {
      for (const [login, claims] of Object.entries(await readJson(req))) users.set(login, claims);
      res.writeHead(204).end();
    } else if (req.url === '/_test/next-id-token' && req.method === 'POST') {
      Object.assign(nextIdToken, await readJson(req));
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  } catch (error) {
    res.writeHead(400).end(String(error));
  }
});
server.listen(port, '127.0.0.1');
