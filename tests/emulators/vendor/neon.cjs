// The Neon emulator through Neon's own client library (npm `@neondatabase/api-client`,
// generated from Neon's OpenAPI spec): branches (with annotations), endpoints, roles,
// databases and operations — create, get, list, delete — asserting on the parsed answers.
// Run by tests/emulators/tests/vendor_clients.rs with BASE_URL and PROJECT_ID set.
const assert = require('node:assert/strict');
const { createApiClient } = require('@neondatabase/api-client');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const projectId = process.env.PROJECT_ID;
  const api = createApiClient({ apiKey: 'vendor-check-key', baseURL: process.env.BASE_URL });
  let checks = 0;
  const check = (cond, msg) => { assert.ok(cond, msg); checks++; };
  const settle = async (ops) => {
    for (const op of ops) {
      for (let i = 0; i < 200; i++) {
        const { data } = await api.getProjectOperation(projectId, op.id);
        if (data.operation.status === 'finished') break;
        assert.ok(['scheduling', 'running'].includes(data.operation.status), `operation ${JSON.stringify(data.operation)}`);
        await sleep(20);
      }
    }
    checks++;
  };

  const created = await api.createProjectBranch(projectId, {
    branch: { name: 'vendor-check' },
    endpoints: [{ type: 'read_write' }],
    annotation_value: { 'tenantform-create-token': 'tok-1' },
  });
  check(created.status === 201, `create status ${created.status}`);
  const { branch, endpoints, operations } = created.data;
  check(branch.id.startsWith('br-') && branch.name === 'vendor-check', `branch ${JSON.stringify(branch)}`);
  check(endpoints.length === 1 && endpoints[0].type === 'read_write' && endpoints[0].branch_id === branch.id, 'endpoint');
  check(Array.isArray(created.data.connection_uris) && created.data.connection_uris.length > 0, 'connection uris');
  await settle(operations);

  const got = await api.getProjectBranch(projectId, branch.id);
  check(got.data.branch.current_state === 'ready', `state ${got.data.branch.current_state}`);
  check(got.data.annotation.value['tenantform-create-token'] === 'tok-1', `annotation ${JSON.stringify(got.data.annotation)}`);
  const listed = await api.listProjectBranches({ projectId, search: 'vendor-check' });
  check(listed.data.branches.length === 1 && listed.data.branches[0].id === branch.id, 'list by search');
  check(listed.data.annotations[branch.id].value['tenantform-create-token'] === 'tok-1', 'annotations map');

  const eps = await api.listProjectBranchEndpoints(projectId, branch.id);
  check(eps.data.endpoints[0].id === endpoints[0].id, 'branch endpoints');
  const ro = await api.createProjectEndpoint(projectId, { endpoint: { branch_id: branch.id, type: 'read_only' } });
  check(ro.status === 201 && ro.data.endpoint.type === 'read_only', 'read_only endpoint');
  await settle(ro.data.operations);
  const ep = await api.getProjectEndpoint(projectId, ro.data.endpoint.id);
  check(ep.data.endpoint.current_state === 'active', `endpoint state ${ep.data.endpoint.current_state}`);

  const role = await api.createProjectBranchRole(projectId, branch.id, { role: { name: 'app' } });
  check(role.status === 201 && role.data.role.password.startsWith('npg_'), 'role with its password');
  await settle(role.data.operations);
  const db = await api.createProjectBranchDatabase(projectId, branch.id, { database: { name: 'appdb', owner_name: 'app' } });
  check(db.status === 201 && db.data.database.owner_name === 'app', 'database');
  await settle(db.data.operations);
  try {
    await api.createProjectBranch(projectId, { branch: { name: 'vendor-check' } });
    assert.fail('a duplicate branch name was accepted');
  } catch (e) {
    check(e.response && e.response.status === 409 && typeof e.response.data.message === 'string', `duplicate: ${e}`);
  }

  const delEp = await api.deleteProjectEndpoint(projectId, ro.data.endpoint.id);
  await settle(delEp.data.operations);
  const del = await api.deleteProjectBranch({ projectId, branchId: branch.id });
  check(del.status === 200 && del.data.branch.id === branch.id, 'delete branch');
  await settle(del.data.operations);
  const again = await api.deleteProjectBranch({ projectId, branchId: branch.id });
  check(again.status === 204, `second delete ${again.status}`);
  console.log(`vendor client check passed: @neondatabase/api-client ${require('@neondatabase/api-client/package.json').version}, ${checks} checks`);
}

main().catch((e) => { console.error(e); process.exit(1); });
