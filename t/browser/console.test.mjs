/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// examples/console in Debian's headless Chromium, against nginx running
// examples/nginx.conf (its ports moved) with the module and demo-cli:
// what a person sees when running, failing, refused and cancelled commands;
// and, on a copy of its server whose gateway keeps runs (cli_gateway_runs
// detach=1m), the runs panel, attaching again after a reload, Detach and
// Attach, and Cancel by DELETE.
//
// env: NGINX_BIN, MODULE (the .so), BUILD (the nginx prefix goes to
// BUILD/browser, or where examples/prepare puts it when nginx's workers
// cannot reach the checkout), CHROMIUM (default /usr/bin/chromium),
// TEST_NGINX_BROWSER_PORT (default 1994; the demo auth service takes the
// next one, the server with runs the one after, a proxy that cuts its
// connections the next), CONSOLE_SCREENSHOT (default
// BUILD/browser/console.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const examples = path.resolve(here, '../../examples');
const build = path.resolve(process.env.BUILD || path.join(here, '../../build'));
const nginxBin = process.env.NGINX_BIN || '/usr/sbin/nginx';
const module = path.resolve(process.env.MODULE ||
                            path.join(build, 'ngx_http_cli_gateway_module.so'));
const port = Number(process.env.TEST_NGINX_BROWSER_PORT || 1994);
const buildPrefix = path.join(build, 'browser');
let prefix = buildPrefix;      // writeConf() may move it
const screenshot = process.env.CONSOLE_SCREENSHOT ||
                   path.join(buildPrefix, 'console.png');
const origin = `http://127.0.0.1:${port}`;
const runsOrigin = `http://127.0.0.1:${port + 2}`;

const CHROMIUM_FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
];

let nginx;
let browser;
let page;
let runsPage;       // the console of the server with runs

// an nginx left by an earlier run that was killed holds the ports
async function stopPrevious() {
    let pid;
    try {
        pid = Number(fs.readFileSync(path.join(prefix, 'nginx.pid'), 'utf8'));
        process.kill(pid, 'SIGTERM');
    } catch {
        return;
    }
    for (let i = 0; i < 100; i++) {
        try {
            process.kill(pid, 0);
        } catch {
            return;
        }
        await sleep(50);
    }
}

// examples/nginx.conf as examples/run fills it (examples/prepare), on the
// test's ports
function writeConf() {
    fs.rmSync(buildPrefix, { recursive: true, force: true });
    prefix = execFileSync(path.join(examples, 'prepare'),
                          [buildPrefix, nginxBin, module],
                          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
        .trim();
    const conf = fs.readFileSync(path.join(prefix, 'nginx.conf'), 'utf8')
        .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
        .replaceAll('127.0.0.1:8081', `127.0.0.1:${port + 1}`);
    assert.ok(conf.includes(`127.0.0.1:${port + 1}`), 'auth port moved');
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), withRuns(conf));
}

// conf with a copy of its gateway's server on port + 2, where the gateway
// is a prefix location that keeps runs
function withRuns(conf) {
    const start = conf.indexOf(`    server {\n        listen  127.0.0.1:${port};`);
    assert.ok(start > 0, "the gateway's server");
    const end = conf.indexOf('\n    }\n', start) + '\n    }\n'.length;
    const server = conf.slice(start, end);
    const copy = server
        .replace(`127.0.0.1:${port};`, `127.0.0.1:${port + 2};`)
        .replace('location = /api/v1/admin/cli {', 'location /api/v1/admin/cli {')
        .replace(/( *)cli_gateway_timeout .*\n/,
                 '$&$1cli_gateway_runs         runs detach=1m;\n');
    assert.ok(copy.includes('location /api/v1/admin/cli {') &&
              copy.includes('cli_gateway_runs '), 'the copy keeps runs');
    return conf.slice(0, end) +
        '\n    cli_gateway_runs_zone  zone=runs:1m;\n\n' + copy +
        conf.slice(end);
}

async function waitForServer() {
    for (let i = 0; i < 100; i++) {
        try {
            const r = await fetch(`${origin}/console/`);
            if (r.ok) {
                return;
            }
        } catch {
            // not listening yet
        }
        await sleep(50);
    }
    throw new Error(`nginx did not answer on ${origin}; see ${prefix}/nginx.log`);
}

before(async () => {
    await stopPrevious();
    writeConf();
    const log = fs.openSync(path.join(prefix, 'nginx.log'), 'w');
    nginx = spawn(nginxBin, ['-p', `${prefix}/`, '-c', `${prefix}/nginx.conf`,
                             '-g', 'daemon off;'],
                  { stdio: ['ignore', log, log] });
    process.on('exit', () => nginx.kill('SIGTERM'));   // even after a failure
    await waitForServer();

    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: CHROMIUM_FLAGS,        // launch() gives a fresh --user-data-dir
    });
    page = await browser.newPage({ viewport: { width: 1000, height: 480 } });
    page.setDefaultTimeout(10000);
    await page.goto(`${origin}/console/`);
    runsPage = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    runsPage.setDefaultTimeout(15000);
    await runsPage.goto(`${runsOrigin}/console/`);
});

after(async () => {
    await browser?.close();
    if (nginx && nginx.exitCode === null) {
        const exited = new Promise((resolve) => nginx.once('exit', resolve));
        nginx.kill('SIGQUIT');
        await exited;
    }
    if (prefix !== buildPrefix) {     // a copy examples/prepare made
        fs.rmSync(prefix, { recursive: true, force: true });
    }
});

async function runCommand(command, { token = 'demo-admin-token', timeout = '' } = {},
                          p = page) {
    await p.fill('#token', token);
    await p.fill('#timeout', timeout);
    await p.fill('#command', command);
    await p.press('#command', 'Enter');
}

// waits for the run to end; returns the status box's state and text
async function finished(p = page) {
    await p.waitForSelector('#run:enabled');
    return p.$eval('#status', (s) => ({
        state: s.dataset.state,
        text: s.textContent,
        exitCode: s.dataset.exitCode,
    }));
}

function lines(kind, p = page) {
    return p.$$eval(`#output .${kind}`, (spans) => spans.map((s) => s.textContent));
}

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        assert.equal(e.code, 'ESRCH');
        return false;
    }
}

test('a command runs: its lines, then its exit status', async () => {
    await runCommand('agents list');
    assert.deepEqual(await finished(),
                     { state: 'exited', text: 'exit 0', exitCode: '0' });
    assert.deepEqual(await lines('stdout'), [
        'NAME       STATUS\n',
        'writer     running\n',
        'reviewer   stopped\n',
    ]);
    assert.deepEqual(await lines('stderr'), []);
    assert.deepEqual(await lines('command'), ['> agents list\n']);
    assert.ok(!(await page.isVisible('#trimmed')));
});

test('quoted words arrive as one argument', async () => {
    await runCommand(`hello 'big  "wide"' `);
    assert.equal((await finished()).text, 'exit 0');
    assert.deepEqual(await lines('stdout'), ['Hello, big  "wide"!\n']);
});

test('output is text, never markup', async () => {
    await runCommand('hello "<img src=x onerror=alert(1)>"');
    assert.equal((await finished()).text, 'exit 0');
    assert.deepEqual(await lines('stdout'), ['Hello, <img src=x onerror=alert(1)>!\n']);
    assert.equal(await page.$$eval('#output img', (imgs) => imgs.length), 0);
});

test('stderr lines are styled apart from stdout', async () => {
    await runCommand('warn');
    assert.equal((await finished()).text, 'exit 0');
    assert.deepEqual(await lines('stdout'), ['doing the work\n']);
    assert.deepEqual(await lines('stderr'), ['warning: this is only a demo\n']);
    const colour = (kind) => page.$eval(`#output .${kind}`,
                                        (s) => getComputedStyle(s).color);
    assert.notEqual(await colour('stdout'), await colour('stderr'));
    await page.screenshot({ path: screenshot });
});

test('the pane keeps the last data-max-lines lines and says so', async () => {
    await page.$eval('#output', (o) => { o.dataset.maxLines = '3'; });
    await runCommand('stream 5 0');
    assert.equal((await finished()).text, 'exit 0');
    await page.$eval('#output', (o) => { o.dataset.maxLines = '10000'; });
    assert.deepEqual(await lines('stdout'),
                     ['tick 3 of 5\n', 'tick 4 of 5\n', 'tick 5 of 5\n']);
    assert.equal(await page.textContent('#trimmed'), '3 earlier lines not kept');
    assert.ok(await page.isVisible('#trimmed'));
});

test('a failing command shows its exit code', async () => {
    await runCommand('fail 7');
    assert.deepEqual(await finished(),
                     { state: 'failed', text: 'exit 7', exitCode: '7' });
    assert.deepEqual(await lines('stderr'), ['error: something went wrong\n']);
});

test('the timeout field is sent as timeout_secs', async () => {
    await runCommand('stream 5 3', { timeout: '1' });
    assert.deepEqual(await finished(),
                     { state: 'failed', text: 'exit -1', exitCode: '-1' });
    assert.deepEqual(await lines('stdout'), ['tick 1 of 5\n']);
    assert.deepEqual(await lines('error'), ['Timeout after 1s\n']);
});

test("a token without the admin role shows the gateway's 403 message", async () => {
    await runCommand('hello', { token: 'demo-user-token' });
    assert.deepEqual(await finished(), {
        state: 'refused',
        text: 'HTTP 403: Admin role required for CLI gateway',
        exitCode: undefined,
    });
    assert.deepEqual(await lines('stdout'), []);
});

test('an unknown token shows the 401 of the auth service', async () => {
    await runCommand('hello', { token: 'not-a-token' });
    assert.equal((await finished()).text, 'HTTP 401: Authentication required');
});

test('validation errors of a 422 are listed by field', async () => {
    await runCommand(`hello ${'x'.repeat(131072)}`);
    assert.equal((await finished()).text, 'HTTP 422: Invalid request body');
    assert.deepEqual(await lines('error'),
                     ['args[1]: is longer than 131071 bytes (too_long)\n']);
});

test('an unterminated quote is refused before anything is sent', async () => {
    await runCommand(`hello 'world`);
    assert.deepEqual(await page.$eval('#status', (s) => [s.dataset.state, s.textContent]),
                     ['refused', "command: unterminated ' quote"]);
});

test('cancel disconnects, and the gateway stops the program', async () => {
    await runCommand('stream 100 1');
    await page.waitForFunction(() =>
        document.querySelectorAll('#output .stdout').length >= 2);
    const pid = Number(await page.$eval('#status', (s) => s.dataset.pid));
    assert.ok(pid > 1, `pid from the started event: ${pid}`);
    assert.ok(alive(pid), 'the program runs before cancel');
    assert.equal(await page.textContent('#status'), `running, pid ${pid}`);

    await page.click('#cancel');
    assert.deepEqual(await finished(), {
        state: 'cancelled',
        text: 'cancelled: the program was stopped',
        exitCode: undefined,
    });

    // the program and its process group (its `sleep`) are gone and reaped
    for (let i = 0; i < 100 && (alive(pid) || alive(-pid)); i++) {
        await sleep(50);
    }
    assert.ok(!alive(pid), `pid ${pid} still exists 5 s after cancel`);
    assert.ok(!alive(-pid), `process group ${pid} still exists 5 s after cancel`);
    const lineCount = (await lines('stdout')).length;
    assert.ok(lineCount >= 2 && lineCount < 100, `${lineCount} lines`);
});

test('a gateway without runs: no runs panel, no Detach, nothing kept', async () => {
    await runCommand('hello');
    assert.equal((await finished()).text, 'exit 0');
    assert.ok(await page.$eval('#runs', (r) => r.hidden));
    assert.ok(await page.$eval('#detach', (d) => d.hidden));
    assert.equal(await page.$eval('#status', (s) => s.dataset.runId), undefined);
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), []);
});

// --- the server whose gateway keeps runs ---------------------------------

function tickLines(n) {
    return Array.from({ length: n }, (_, i) => `tick ${i + 1} of ${n}\n`);
}

async function shownRunId(p = runsPage) {
    return p.$eval('#status', (s) => s.dataset.runId);
}

// the panel's row of a run once it is in the state given
function row(runId, state, p = runsPage) {
    return p.waitForSelector(`#runs tr[data-run-id="${runId}"][data-state="${state}"]`);
}

async function cells(runId, p = runsPage) {
    return p.$$eval(`#runs tr[data-run-id="${runId}"] td:not(.actions)`,
                    (tds) => tds.map((td) => td.textContent));
}

test('runs: the panel lists a run with its id, state, exit code and command', async () => {
    await runCommand('fail 7', {}, runsPage);
    assert.deepEqual(await finished(runsPage),
                     { state: 'failed', text: 'exit 7', exitCode: '7' });
    const id = await shownRunId();
    assert.match(id, /^[A-Za-z0-9._-]+-[0-9a-f]{16}$/);
    assert.ok(!(await runsPage.$eval('#runs', (r) => r.hidden)));
    await row(id, 'exited');
    const [runId, state, exit, started, command] = await cells(id);
    assert.deepEqual([runId, state, exit, command], [id, 'exited', '7', 'fail 7']);
    assert.match(started, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(await runsPage.isDisabled(`#runs tr[data-run-id="${id}"] button.cancel-run`));
});

test('runs: after a reload the console attaches again and shows the run from its start', async () => {
    await runCommand('stream 6 0.5', {}, runsPage);
    await runsPage.waitForFunction(() =>
        document.querySelectorAll('#output .stdout').length >= 2);
    const id = await shownRunId();
    const pid = await runsPage.$eval('#status', (s) => s.dataset.pid);
    assert.equal(await runsPage.textContent('#status'), `running, pid ${pid}, run ${id}`);

    await runsPage.reload();
    assert.equal(await shownRunId(), id);
    assert.deepEqual(await finished(runsPage),
                     { state: 'exited', text: 'exit 0', exitCode: '0' });
    assert.equal(await runsPage.$eval('#status', (s) => s.dataset.pid), pid);
    assert.deepEqual(await lines('command', runsPage), ['> stream 6 0.5\n']);
    assert.deepEqual(await lines('stdout', runsPage), tickLines(6));
    assert.equal(await runsPage.inputValue('#token'), 'demo-admin-token',
                 'the token came back for the reattach');

    // the run has ended: the next reload has nothing to attach to
    await runsPage.reload();
    assert.equal(await runsPage.textContent('#status'), 'idle');
    assert.deepEqual(await lines('stdout', runsPage), []);
    await row(id, 'exited');
});

test('runs: Cancel sends DELETE, the run ends Cancelled and its program is gone', async () => {
    const deletes = [];
    const onRequest = (r) => r.method() === 'DELETE' && deletes.push(new URL(r.url()).pathname);
    runsPage.on('request', onRequest);
    await runCommand('stream 100 1', {}, runsPage);
    await runsPage.waitForFunction(() =>
        document.querySelectorAll('#output .stdout').length >= 2);
    const id = await shownRunId();
    const pid = Number(await runsPage.$eval('#status', (s) => s.dataset.pid));
    assert.ok(alive(pid));

    await runsPage.click('#cancel');
    assert.deepEqual(await finished(runsPage), {
        state: 'cancelled',
        text: 'cancelled: the program was stopped',
        exitCode: '-1',
    });
    runsPage.off('request', onRequest);
    assert.deepEqual(deletes, [`/api/v1/admin/cli/runs/${id}`]);
    assert.deepEqual(await lines('error', runsPage), ['Cancelled\n']);
    for (let i = 0; i < 100 && (alive(pid) || alive(-pid)); i++) {
        await sleep(50);
    }
    assert.ok(!alive(pid) && !alive(-pid), `pid ${pid} gone after cancel`);
    await row(id, 'exited');
    assert.equal((await cells(id))[2], '-1');
});

test('runs: Detach leaves the run going; Attach in the panel shows it from its start', async () => {
    await runCommand('stream 4 0.5', {}, runsPage);
    await runsPage.waitForFunction(() =>
        document.querySelectorAll('#output .stdout').length >= 1);
    const id = await shownRunId();
    const pid = Number(await runsPage.$eval('#status', (s) => s.dataset.pid));
    assert.ok(await runsPage.isDisabled(`#runs tr[data-run-id="${id}"] button.attach`),
              'no Attach while a stream is shown');

    await runsPage.click('#detach');
    assert.deepEqual(await finished(runsPage), {
        state: 'detached',
        text: `detached from run ${id}`,
        exitCode: undefined,
    });
    assert.ok(alive(pid), 'the program goes on after Detach');

    await runsPage.click('#runs .runs-refresh');
    await runsPage.click(`#runs tr[data-run-id="${id}"] button.attach:enabled`);
    assert.deepEqual(await finished(runsPage),
                     { state: 'exited', text: 'exit 0', exitCode: '0' });
    assert.deepEqual(await lines('command', runsPage), ['> stream 4 0.5\n']);
    assert.deepEqual(await lines('stdout', runsPage), tickLines(4));
});

test('runs: a connection cut in the middle is taken up again with Last-Event-ID, each line once', async () => {
    // the page through a proxy that cuts its first stream 400 bytes after
    // its Content-Type header (console.js has the words too, not the header)
    const proxyPort = port + 3;
    const proxy = spawn('python3', [path.join(here, '../lib/cut-proxy.py'),
                                    '--after', '\r\nContent-Type: text/event-stream\r\n',
                                    String(proxyPort), String(port + 2), '400', '1'],
                        { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => proxy.stdout.once('data', resolve));
    const p = await browser.newPage();
    p.setDefaultTimeout(15000);
    const resumed = [];
    p.on('request', (r) => {
        if (r.url().endsWith('/events')) {
            resumed.push(r.headers()['last-event-id']);
        }
    });
    try {
        await p.goto(`http://127.0.0.1:${proxyPort}/console/`);
        await runCommand('stream 8 0.25', {}, p);
        assert.deepEqual(await finished(p),
                         { state: 'exited', text: 'exit 0', exitCode: '0' });
        assert.deepEqual(await lines('stdout', p), tickLines(8));
        assert.equal(resumed.length, 1, 'one reattach');
        assert.match(resumed[0], /^[1-9a-f][0-9a-f]*$/);
    } finally {
        await p.close();
        proxy.kill();
    }
});

// starts a run on the gateway with runs from outside the page, and goes
// away once it started; returns its started event
async function startElsewhere(args) {
    const controller = new AbortController();
    const response = await fetch(`${runsOrigin}/api/v1/admin/cli`, {
        method: 'POST',
        headers: {
            'Authorization': 'Bearer demo-admin-token',
            'Content-Type': 'application/json',
        },
        body: JSON.stringify({ args }),
        signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!/"type":"started"[^\n]*\n/.test(text)) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the stream ended before started');
        text += value;
    }
    controller.abort();
    return JSON.parse(text.match(/^data: (\{"type":"started".*\})$/m)[1]);
}

test('runs: Cancel in the panel stops a run started elsewhere', async () => {
    const shown = await runsPage.textContent('#output');
    const started = await startElsewhere(['stream', '100', '1']);
    assert.ok(alive(started.pid));
    await runsPage.click('#runs .runs-refresh');
    await runsPage.click(`#runs tr[data-run-id="${started.run_id}"] button.cancel-run:enabled`);
    for (let i = 0; i < 100 && alive(started.pid); i++) {
        await sleep(50);
    }
    assert.ok(!alive(started.pid), `pid ${started.pid} gone after cancel`);
    await row(started.run_id, 'exited');
    assert.equal((await cells(started.run_id))[2], '-1');
    assert.equal(await runsPage.textContent('#output'), shown,
                 'the pane was not involved');
});
