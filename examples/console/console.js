/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The console's page: runs one command through the CLI gateway and shows
// its output as it streams. fetch() with a body reader, not EventSource,
// because the gateway wants a POST; aborting the fetch closes the
// connection, and the gateway then stops the program's process group.
//
// On a location with cli_gateway_runs (the started event has a run_id, or
// GET <gateway>/runs answers a list) runs are resources: the runs panel
// lists them; Cancel sends DELETE <gateway>/runs/ID and Detach only closes
// the connection; a connection that breaks is taken up again with
// Last-Event-ID; and the run in the pane is kept in the tab's
// sessionStorage, so that after a reload the console attaches to it again
// and shows it from its start.

import { splitArgs, joinArgs } from './args.js';
import { SseParser } from './sse.js';
import { RunsPanel } from './runs.js';

const form = document.getElementById('run-form');
const commandInput = document.getElementById('command');
const timeoutInput = document.getElementById('timeout');
const tokenInput = document.getElementById('token');
const runButton = document.getElementById('run');
const cancelButton = document.getElementById('cancel');
const detachButton = document.getElementById('detach');
const statusBox = document.getElementById('status');
const output = document.getElementById('output');
const trimmed = document.getElementById('trimmed');
const gateway = form.dataset.gateway;

const SAVED_RUN = 'cli-gateway-console.run';      // {runId, command}
const SAVED_TOKEN = 'cli-gateway-console.token';
const REATTACH_FOR_MS = 5 * 60 * 1000;  // without an event, then give up
const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];

// The stream in the pane, or null: {controller, runId, lastEventId (the
// offset of the last event shown), exitCode, timedOut, cancelling,
// outage (while reattaching), running (the status text)}
let view = null;
let dropped = 0;

const panel = new RunsPanel(document.getElementById('runs'), {
    url: `${gateway}/runs`,
    headers: authHeaders,
    onAttach: (run) => attach(run.run_id, joinArgs(run.args || [])),
    onCancel: (run) => cancelRun(run.run_id),
});

function authHeaders() {
    const token = tokenInput.value.trim();
    return token === '' ? {} : { Authorization: `Bearer ${token}` };
}

function runUrl(runId, tail = '') {
    return `${gateway}/runs/${encodeURIComponent(runId)}${tail}`;
}

function setStatus(state, text) {
    statusBox.dataset.state = state;
    statusBox.textContent = text;
}

// Text is always a text node: output is data, never markup.
function append(kind, text) {
    const atBottom =
        output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    const span = document.createElement('span');
    span.className = kind;
    span.textContent = text;
    output.append(span);

    // older lines go, so that a chatty program cannot eat the tab's memory
    const maxLines = Number(output.dataset.maxLines) || 10000;
    while (output.childElementCount > maxLines) {
        output.firstElementChild.remove();
        dropped++;
    }
    if (dropped > 0) {
        trimmed.textContent = `${dropped} earlier lines not kept`;
        trimmed.hidden = false;
    }
    if (atBottom) {
        output.scrollTop = output.scrollHeight;
    }
}

// A new stream in the pane: the output of the last one goes.
function clearPane(command) {
    output.replaceChildren();
    dropped = 0;
    trimmed.hidden = true;
    delete statusBox.dataset.pid;
    delete statusBox.dataset.exitCode;
    delete statusBox.dataset.runId;
    append('command', `> ${command}\n`);
}

function setRunning(v) {
    runButton.disabled = v !== null;
    cancelButton.disabled = v === null;
    detachButton.disabled = v === null || v.runId === null;
    panel.setAttachable(v === null);
    panel.setCurrent(v?.runId ?? null);
}

// The gateway has runs: the panel, Detach, and the token kept for a reload.
function runsFound() {
    panel.show();
    detachButton.hidden = false;
    saveToken();
}

function saveToken() {
    const token = tokenInput.value.trim();
    if (panel.available && token !== '') {
        sessionStorage.setItem(SAVED_TOKEN, token);
    } else {
        sessionStorage.removeItem(SAVED_TOKEN);
    }
}

function saveRun(runId, command) {
    sessionStorage.setItem(SAVED_RUN, JSON.stringify({ runId, command }));
}

function forgetRun(runId) {
    try {
        if (JSON.parse(sessionStorage.getItem(SAVED_RUN))?.runId === runId) {
            sessionStorage.removeItem(SAVED_RUN);
        }
    } catch {
        sessionStorage.removeItem(SAVED_RUN);
    }
}

// The message of a refusal: the gateway's JSON error body when there is
// one ({"code","message","validation_errors":[{field,message,code}]}).
async function refusalText(response) {
    let text = `HTTP ${response.status}`;
    try {
        const body = await response.json();
        if (typeof body.message === 'string') {
            text += `: ${body.message}`;
        }
        for (const v of body.validation_errors || []) {
            append('error', `${v.field}: ${v.message} (${v.code})\n`);
        }
    } catch {
        if (response.statusText) {
            text += ` ${response.statusText}`;
        }
    }
    const retry = response.headers.get('Retry-After');
    if (retry) {
        text += `; retry after ${retry} s`;
    }
    return text;
}

// One cli event with its id (the SSE id, '' without one). An event that
// is not past the last one shown came again after a reattach: skipped.
function handleEvent(data, id, v) {
    // an id is the event's end in the run's log, in hex
    const offset = Number.parseInt(id, 16);
    if (v.lastEventId !== null && offset <= v.lastEventId) {
        return;
    }
    let ev;
    try {
        ev = JSON.parse(data);
    } catch {
        return;                          // as the original client: skipped
    }
    switch (ev.type) {
    case 'started':
        statusBox.dataset.pid = ev.pid;
        v.running = `running, pid ${ev.pid}`;
        if (typeof ev.run_id === 'string') {
            v.runId = ev.run_id;
            statusBox.dataset.runId = ev.run_id;
            v.running += `, run ${ev.run_id}`;
            saveRun(v.runId, v.command);
            runsFound();
            setRunning(v);
            panel.refresh();
        }
        setStatus('running', v.running);
        break;
    case 'stdout':
    case 'stderr':
        append(ev.type, ev.data);
        break;
    case 'error':
        append('error', `${ev.message}\n`);
        break;
    case 'gap':
        append('note', `[${ev.lost_bytes} bytes of the run's events were ` +
                       'lost: the gateway no longer kept them]\n');
        break;
    case 'exit_code':
        v.exitCode = ev.code;              // the last one counts
        break;
    }
    if (!Number.isNaN(offset)) {
        v.lastEventId = offset;
    }
    v.outage = null;
}

async function readStream(response, v) {
    const reader = response.body
        .pipeThrough(new TextDecoderStream())
        .getReader();
    const parser = new SseParser();

    for (;;) {
        const { value, done } = await reader.read();
        if (done) {
            break;
        }
        for (const ev of parser.push(value)) {
            if (ev.event === 'cli') {
                handleEvent(ev.data, ev.id, v);
            }
        }
    }
}

// waits ms, or until signal aborts (then rejects)
function pause(ms, signal) {
    return new Promise((resolve, reject) => {
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal.reason);
        };
        const timer = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        signal.addEventListener('abort', onAbort, { once: true });
    });
}

function openEvents(v) {
    const headers = { ...authHeaders(), 'Accept': 'text/event-stream' };
    if (v.lastEventId !== null) {
        headers['Last-Event-ID'] = v.lastEventId.toString(16);
    }
    return fetch(runUrl(v.runId, '/events'), {
        headers,
        cache: 'no-store',
        signal: v.controller.signal,
    });
}

// Takes up the run's events after the last one shown, waiting 0.5 s, 1 s,
// 2 s, ... up to 10 s between tries, until 5 minutes have passed without
// an event. Returns the new stream.
async function reattach(v, reason) {
    v.outage ??= { deadline: Date.now() + REATTACH_FOR_MS, delay: 500 };
    let line = `connection lost (${reason}); reattaching to run ${v.runId}`;
    for (;;) {
        const { deadline, delay } = v.outage;
        if (Date.now() >= deadline) {
            throw new Error(`gave up reattaching to run ${v.runId} (${reason})`);
        }
        v.outage.delay = Math.min(delay * 2, 10000);
        const wait = Math.max(0, Math.min(delay, deadline - Date.now()));
        setStatus('reattaching', `${line} in ${wait / 1000} s`);
        await pause(wait, v.controller.signal);

        let response;
        try {
            response = await openEvents(v);
        } catch (err) {
            if (v.controller.signal.aborted) {
                throw err;
            }
            reason = err.message;
        }
        if (response?.ok) {
            setStatus('running', v.running);
            return response;
        }
        if (response && !RETRY_STATUSES.includes(response.status)) {
            throw new Error(`cannot reattach to run ${v.runId}: ` +
                            await refusalText(response));
        }
        reason = response ? `HTTP ${response.status}` : reason;
        line = `reattach failed (${reason}); trying again`;
    }
}

// Reads the stream to its end; with a run id, a stream that breaks or
// ends before the exit status is taken up again.
async function follow(v, response) {
    for (;;) {
        let broke = null;
        try {
            await readStream(response, v);
        } catch (err) {
            if (v.controller.signal.aborted || v.runId === null) {
                throw err;
            }
            broke = err;
        }
        if (v.exitCode !== null || v.runId === null) {
            return;
        }
        response = await reattach(v, broke ? broke.message : 'the stream ended');
    }
}

// Shows a stream in the pane to its exit status. open(v) sends the
// request: the POST of a new run, or the GET of a run's events.
async function watch(v, open) {
    view = v;
    setRunning(v);
    try {
        const response = await open(v);
        if (!response.ok) {
            setStatus('refused', await refusalText(response));
            forgetRun(v.runId);
            return;
        }
        const type = response.headers.get('Content-Type') || '';
        if (!type.startsWith('text/event-stream')) {
            setStatus('broken', `unexpected Content-Type: ${type}`);
            return;
        }

        await follow(v, response);

        if (v.exitCode === null) {
            setStatus('broken', 'the stream ended without an exit status');
            return;
        }
        statusBox.dataset.exitCode = v.exitCode;
        if (v.cancelling && v.exitCode === -1) {
            setStatus('cancelled', 'cancelled: the program was stopped');
        } else {
            setStatus(v.exitCode === 0 ? 'exited' : 'failed',
                      `exit ${v.exitCode}`);
        }
        forgetRun(v.runId);
    } catch (err) {
        if (v.detached) {
            setStatus('detached', `detached from run ${v.runId}`);
            forgetRun(v.runId);
        } else if (v.controller.signal.aborted) {
            setStatus('cancelled', 'cancelled: the program was stopped');
        } else {
            setStatus('broken', `connection failed: ${err.message}`);
        }
    } finally {
        view = null;
        setRunning(null);
        if (v.runId !== null) {
            panel.refresh();
        }
    }
}

function newView(runId, command) {
    return {
        controller: new AbortController(),
        runId,
        command,
        lastEventId: null,
        exitCode: null,
        cancelling: false,
        detached: false,
        outage: null,
        running: 'running',
    };
}

function run(args, timeout, command) {
    const body = { args };
    if (timeout !== '') {
        body.timeout_secs = Number(timeout);
    }
    const headers = {
        ...authHeaders(),
        'Content-Type': 'application/json',
        'Accept': 'text/event-stream',
    };

    setStatus('running', 'starting');
    watch(newView(null, command), (v) => fetch(gateway, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        cache: 'no-store',
        signal: v.controller.signal,
    }));
}

// Shows a run from its start (a reload, or Attach in the panel).
function attach(runId, command) {
    if (view) {
        return;
    }
    clearPane(command);
    statusBox.dataset.runId = runId;
    saveRun(runId, command);
    setStatus('running', `attaching to run ${runId}`);
    watch(newView(runId, command), openEvents);
}

form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (view) {
        return;
    }

    let args;
    try {
        args = splitArgs(commandInput.value);
    } catch (err) {
        setStatus('refused', `command: ${err.message}`);
        return;
    }

    clearPane(commandInput.value);
    run(args, timeoutInput.value.trim(), commandInput.value);
});

// Stops a run: DELETE; its stream, when in the pane, then ends with the
// gateway's "Cancelled" and exit -1.
async function cancelRun(runId) {
    const shown = view?.runId === runId ? view : null;
    if (shown) {
        shown.cancelling = true;
        setStatus('running', `cancelling run ${runId}`);
    }
    let response;
    try {
        response = await fetch(runUrl(runId), {
            method: 'DELETE',
            headers: authHeaders(),
            cache: 'no-store',
        });
    } catch (err) {
        panel.say(`cancel ${runId}: ${err.message}`);
        shown?.controller.abort();         // closing it may stop it yet
        return;
    }
    if (response.status === 409) {
        panel.say(`run ${runId} has already exited`);
    } else if (!response.ok) {
        panel.say(`cancel ${runId}: ${await refusalText(response)}`);
        if (shown) {
            shown.cancelling = false;
            setStatus('running', shown.running);
        }
    }
    panel.refresh();
}

function cancel() {
    if (!view) {
        return;
    }
    if (view.runId === null) {
        view.controller.abort();
    } else if (!view.cancelling) {
        cancelRun(view.runId);
    }
}

// Closes the connection only: on a location with detach= the run goes on.
function detach() {
    if (view && view.runId !== null) {
        view.detached = true;
        view.controller.abort();
    }
}

cancelButton.addEventListener('click', cancel);
detachButton.addEventListener('click', detach);
document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
        cancel();
    }
});
tokenInput.addEventListener('change', async () => {
    if (await panel.refresh()) {
        runsFound();
    } else {
        saveToken();
    }
});

// A reload: the token and the run this tab was showing come back.
if (tokenInput.value === '') {
    tokenInput.value = sessionStorage.getItem(SAVED_TOKEN) || '';
}
panel.refresh().then((found) => {
    if (found) {
        runsFound();
    }
});
try {
    const saved = JSON.parse(sessionStorage.getItem(SAVED_RUN));
    if (saved && typeof saved.runId === 'string') {
        attach(saved.runId, String(saved.command ?? ''));
    }
} catch {
    sessionStorage.removeItem(SAVED_RUN);
}
