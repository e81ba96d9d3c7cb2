// node-zookeeper-client (from the npm registry, installed by
// scripts/install-test-deps under target/compat-node) against a fresh server:
// core operations, watches, ACLs and auth, transactions, a path the client
// does not validate (an emoji: the server must refuse it), an ephemeral
// gone with its session and a session the server answers as expired. One deterministic line per
// step; exit 1 when a check failed. Every call has a 10 s deadline.
'use strict';

const zookeeper = require('node-zookeeper-client');

const server = process.env.ZK_CONNECT.split(',')[0];
const OPEN = zookeeper.ACL.OPEN_ACL_UNSAFE;
let failures = 0;

function check(label, actual, expected) {
    console.log(`${label} -> ${actual}`);
    if (actual !== expected) {
        failures += 1;
        const message = `ASSERTION FAILED: ${label}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
        console.log(message);
        console.error(message);
    }
}

function within(promise) {
    return Promise.race([
        promise,
        new Promise((resolve) => setTimeout(() => resolve('timeout'), 10000)),
    ]);
}

function errText(err) {
    return err ? `${err.name}(${err.getCode()})` : 'ok';
}

function statText(stat) {
    if (!stat) {
        return 'null';
    }
    const ephemeral = !stat.ephemeralOwner.equals(Buffer.alloc(8));
    return `version=${stat.version} cversion=${stat.cversion} aversion=${stat.aversion} ` +
        `dataLength=${stat.dataLength} numChildren=${stat.numChildren} ephemeral=${ephemeral}`;
}

// Calls client[method](...args, callback) and resolves with the callback's arguments.
function call(client, method, ...args) {
    return within(new Promise((resolve) => client[method](...args, (...res) => resolve(res))));
}

function connect(options) {
    const client = zookeeper.createClient(server, Object.assign({ sessionTimeout: 10000 }, options));
    return within(new Promise((resolve) => {
        client.on('state', (state) => {
            if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.EXPIRED) {
                resolve(client);
            }
        });
        client.connect();
    }));
}

// Sets a watch through `register(watcher, done)`, waits until the server
// answered that request, runs `trigger`, then waits for the event.
async function watchThen(register, trigger) {
    let fire;
    const event = new Promise((resolve) => { fire = resolve; });
    await within(new Promise((done) => register((e) => fire(`${e.getName()} ${e.getPath()}`), () => done())));
    await trigger();
    return within(event);
}

async function main() {
    const a = await connect();
    const b = await connect();

    let [err, path] = await call(a, 'create', '/node', Buffer.from('root'), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('create /node', `${path} ${errText(err)}`, '/node ok');
    [err] = await call(a, 'create', '/node', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('create /node again', errText(err), 'NODE_EXISTS(-110)');
    let [e2, data, stat] = await call(a, 'getData', '/node');
    check('getData /node', `${data} ${statText(stat)} ${errText(e2)}`,
        'root version=0 cversion=0 aversion=0 dataLength=4 numChildren=0 ephemeral=false ok');
    [err, stat] = await call(a, 'setData', '/node', Buffer.from('v1'), 0);
    check('setData version 0', `${statText(stat)} ${errText(err)}`,
        'version=1 cversion=0 aversion=0 dataLength=2 numChildren=0 ephemeral=false ok');
    [err] = await call(a, 'setData', '/node', Buffer.from('v2'), 0);
    check('setData version 0 again', errText(err), 'BAD_VERSION(-103)');
    [err, stat] = await call(a, 'exists', '/node/none');
    check('exists /node/none', `${statText(stat)} ${errText(err)}`, 'null ok');
    const names = [];
    for (let i = 0; i < 3; i++) {
        [err, path] = await call(a, 'create', '/node/seq-', Buffer.from(''), OPEN,
            zookeeper.CreateMode.PERSISTENT_SEQUENTIAL);
        names.push(err ? errText(err) : path);
    }
    check('create sequential x3', names.join(' '), '/node/seq-0000000000 /node/seq-0000000001 /node/seq-0000000002');
    [err, path] = await call(a, 'create', '/node/eph', Buffer.from('e'), OPEN, zookeeper.CreateMode.EPHEMERAL);
    check('create ephemeral', `${path} ${errText(err)}`, '/node/eph ok');
    [err] = await call(a, 'create', '/node/eph/child', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('child of ephemeral', errText(err), 'NO_CHILDREN_FOR_EPHEMERALS(-108)');
    let children;
    [err, children, stat] = await call(a, 'getChildren', '/node');
    check('getChildren /node', `${children.sort().join(',')} numChildren=${stat.numChildren} ${errText(err)}`,
        'eph,seq-0000000000,seq-0000000001,seq-0000000002 numChildren=4 ok');
    [err] = await call(a, 'remove', '/node', -1);
    check('remove non-empty', errText(err), 'NOT_EMPTY(-111)');
    [err] = await call(a, 'remove', '/node/seq-0000000000', 0);
    check('remove /node/seq-0000000000', errText(err), 'ok');

    // Paths this client sends as they are: the server's validatePath decides.
    [err] = await call(a, 'create', '/node/emoji-\u{1F600}', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('create /node/emoji-😀', errText(err), 'BAD_ARGUMENTS(-8)');
    [err] = await call(a, 'create', '/node/ctl-\u0001', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('create /node/ctl-\\u0001', errText(err), 'BAD_ARGUMENTS(-8)');
    [err] = await call(a, 'create', '/node/\u00fc-\uffef', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('create /node/ü-\\uffef', errText(err), 'ok');
    [err] = await call(a, 'setData', '/node/emoji-\u{1F600}', Buffer.from(''), -1);
    check('setData /node/emoji-😀', errText(err), 'BAD_ARGUMENTS(-8)');
    [err, data] = await call(a, 'getData', '/node/emoji-\u{1F600}');
    check('getData /node/emoji-😀', errText(err), 'NO_NODE(-101)');
    [err] = await call(a, 'create', '/nowhere/emoji-\u{1F600}', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT);
    check('create /nowhere/emoji-😀', errText(err), 'NO_NODE(-101)');

    // Watches set by a, fired by b.
    check('data watch', await watchThen((w, done) => a.getData('/node', w, done),
        () => call(b, 'setData', '/node', Buffer.from('from b'), -1)), 'NODE_DATA_CHANGED /node');
    check('child watch', await watchThen((w, done) => a.getChildren('/node', w, done),
        () => call(b, 'create', '/node/by-b', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT)),
    'NODE_CHILDREN_CHANGED /node');
    check('exists watch', await watchThen((w, done) => a.exists('/node/later', w, done),
        () => call(b, 'create', '/node/later', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT)),
    'NODE_CREATED /node/later');

    // Auth and ACLs.
    a.addAuthInfo('digest', Buffer.from('nodeuser:nodepass'));
    const auth = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('auth', ''))];
    [err, path] = await call(a, 'create', '/node/private', Buffer.from('secret'), auth, zookeeper.CreateMode.PERSISTENT);
    check('create with auth ACL', `${path} ${errText(err)}`, '/node/private ok');
    let acls;
    [err, acls] = await call(a, 'getACL', '/node/private');
    check('getACL as owner', `${acls.map((x) => `${x.permission} ${x.id.scheme} ${x.id.id}`).join(';')} ${errText(err)}`,
        '31 digest nodeuser:cOYEigOETavHhGO8vsixg3uoadU= ok');
    [err] = await call(b, 'getData', '/node/private');
    check('getData as stranger', errText(err), 'NO_AUTH(-102)');
    b.addAuthInfo('digest', Buffer.from('nodeuser:nodepass'));
    [err, data] = await call(b, 'getData', '/node/private');
    check('getData after addAuthInfo', `${data} ${errText(err)}`, 'secret ok');

    // Transactions.
    let results;
    [err, results] = await call(a.transaction()
        .create('/node/t', Buffer.from('1'), OPEN, zookeeper.CreateMode.PERSISTENT)
        .setData('/node/t', Buffer.from('2'), 0)
        .check('/node/t', 1)
        .remove('/node/seq-0000000001', -1), 'commit');
    check('transaction committed', `${results.map((r) => `${r.type}:${r.err || 0}`).join(' ')} ${errText(err)}`,
        '1:0 5:0 13:0 2:0 ok');
    [err, results] = await call(a.transaction()
        .setData('/node/t', Buffer.from('3'), -1)
        .check('/node/t', 99)
        .create('/node/t2', Buffer.from(''), OPEN, zookeeper.CreateMode.PERSISTENT), 'commit');
    check('transaction refused', `${(results || []).map((r) => `${r.type}:${r.err}`).join(' ')} ${errText(err)}`,
        '-1:0 -1:-103 -1:-2 BAD_VERSION(-103)');

    // An ephemeral goes with its session's close; a session the server does
    // not know (never made, or closed) is answered as expired.
    const r = await connect();
    [err] = await call(r, 'create', '/node/r-eph', Buffer.from(''), OPEN, zookeeper.CreateMode.EPHEMERAL);
    check('ephemeral of a second session', errText(err), 'ok');
    check('its close fires', await watchThen((w, done) => b.exists('/node/r-eph', w, done),
        async () => r.close()), 'NODE_DELETED /node/r-eph');
    const gone = await connect({
        sessionId: Buffer.from('00000000000000ff', 'hex'),
        sessionPassword: Buffer.alloc(16),
    });
    check('unknown session resumed', String(gone.getState()), 'EXPIRED[-122]');
    gone.close();

    a.close();
    b.close();
    setTimeout(() => process.exit(failures > 0 ? 1 : 0), 200);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
