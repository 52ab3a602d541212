// The Cloudflare emulator through Cloudflare's own TypeScript/JS library (npm `cloudflare`):
// DNS records and custom hostnames — create, get, list, edit, delete — asserting on what the
// library parsed. Run by tests/emulators/tests/vendor_clients.rs with BASE_URL and ZONE_ID set.
const assert = require('node:assert/strict');
const Cloudflare = require('cloudflare').default ?? require('cloudflare');

// The package's exports hide its package.json: read it from where `cloudflare` resolved.
function version() {
  const path = require('node:path');
  let dir = path.dirname(require.resolve('cloudflare'));
  while (!require('node:fs').existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(require('node:fs').readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

async function main() {
  const zone_id = process.env.ZONE_ID;
  const client = new Cloudflare({ apiToken: 'vendor-check-token', baseURL: process.env.BASE_URL, maxRetries: 0 });
  let checks = 0;
  const check = (cond, msg) => { assert.ok(cond, msg); checks++; };

  const zone = await client.zones.get({ zone_id });
  check(zone.id === zone_id && zone.name === 'example.com', `zone ${JSON.stringify(zone)}`);

  const rec = await client.dns.records.create({ zone_id, type: 'CNAME', name: 'app', content: 'edge.saas.example', ttl: 1, proxied: true });
  check(/^[0-9a-f]{32}$/.test(rec.id), `record id ${rec.id}`);
  check(rec.name === 'app.example.com' && rec.type === 'CNAME' && rec.proxied === true, `record ${JSON.stringify(rec)}`);
  check(rec.zone_id === undefined && rec.zone_name === undefined, 'zone_id/zone_name are no longer returned');
  const got = await client.dns.records.get(rec.id, { zone_id });
  check(got.content === 'edge.saas.example' && got.ttl === 1, `get ${JSON.stringify(got)}`);
  const edited = await client.dns.records.edit(rec.id, { zone_id, type: 'CNAME', name: 'app', content: 'edge2.saas.example', ttl: 300 });
  check(edited.content === 'edge2.saas.example' && edited.ttl === 300, `edit ${JSON.stringify(edited)}`);
  const names = [];
  for await (const r of client.dns.records.list({ zone_id, type: 'CNAME' })) names.push(r.name);
  check(names.length === 1 && names[0] === 'app.example.com', `list ${names}`);
  try {
    await client.dns.records.create({ zone_id, type: 'CNAME', name: 'app', content: 'edge2.saas.example', ttl: 1 });
    assert.fail('a duplicate record was accepted');
  } catch (e) {
    check(e instanceof Cloudflare.BadRequestError, `duplicate: ${e}`);
    check(JSON.stringify(e.errors ?? e.error).includes('81058'), `duplicate code: ${JSON.stringify(e.errors ?? e.error)}`);
  }
  const del = await client.dns.records.delete(rec.id, { zone_id });
  check(del.id === rec.id, `delete ${JSON.stringify(del)}`);
  try {
    await client.dns.records.get(rec.id, { zone_id });
    assert.fail('a deleted record was found');
  } catch (e) {
    check(e instanceof Cloudflare.NotFoundError, `get after delete: ${e}`);
  }

  const ch = await client.customHostnames.create({ zone_id, hostname: 'shop.customer.com', ssl: { method: 'txt', type: 'dv' } });
  check(ch.hostname === 'shop.customer.com' && ch.ssl.method === 'txt', `custom hostname ${JSON.stringify(ch)}`);
  check(ch.ownership_verification && ch.ownership_verification.type === 'txt', 'ownership verification record');
  const chGot = await client.customHostnames.get(ch.id, { zone_id });
  check(chGot.id === ch.id && chGot.status === 'pending', `get ${JSON.stringify(chGot)}`);
  const hosts = [];
  for await (const h of client.customHostnames.list({ zone_id, hostname: 'shop.customer.com' })) hosts.push(h.id);
  check(hosts.length === 1 && hosts[0] === ch.id, `list ${hosts}`);
  const chEdited = await client.customHostnames.edit(ch.id, { zone_id, custom_origin_server: 'origin.saas.example' });
  check(chEdited.custom_origin_server === 'origin.saas.example', `edit ${JSON.stringify(chEdited)}`);
  try {
    await client.customHostnames.create({ zone_id, hostname: 'shop.customer.com' });
    assert.fail('a duplicate hostname was accepted');
  } catch (e) {
    check(e instanceof Cloudflare.ConflictError, `duplicate hostname: ${e}`);
  }
  const chDel = await client.customHostnames.delete(ch.id, { zone_id });
  check(chDel.id === ch.id, `delete ${JSON.stringify(chDel)}`);
  console.log(`vendor client check passed: cloudflare ${version()}, ${checks} checks`);
}

main().catch((e) => { console.error(e); process.exit(1); });
