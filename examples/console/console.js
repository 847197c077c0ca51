/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The console's page: runs one command through the CLI gateway and shows
// its output as it streams. fetch() with a body reader, not EventSource,
// because the gateway wants a POST; aborting the fetch closes the
// connection, and the gateway then stops the program's process group.

import { splitArgs } from './args.js';
import { SseParser } from './sse.js';

const form = document.getElementById('run-form');
const commandInput = document.getElementById('command');
const timeoutInput = document.getElementById('timeout');
const tokenInput = document.getElementById('token');
const runButton = document.getElementById('run');
const cancelButton = document.getElementById('cancel');
const statusBox = document.getElementById('status');
const output = document.getElementById('output');
const trimmed = document.getElementById('trimmed');
const gateway = form.dataset.gateway;

let controller = null;
let dropped = 0;

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

function setRunning(running) {
    runButton.disabled = running;
    cancelButton.disabled = !running;
}

// A refusal before the stream: the gateway's JSON error body when there is
// one ({"code","message","validation_errors":[{field,message,code}]}).
async function showRefusal(response) {
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
    setStatus('refused', text);
}

// One cli event; returns the exit code when it is one.
function handleEvent(data, state) {
    let ev;
    try {
        ev = JSON.parse(data);
    } catch {
        return;                          // as the original client: skipped
    }
    switch (ev.type) {
    case 'started':
        statusBox.dataset.pid = ev.pid;
        setStatus('running', `running, pid ${ev.pid}`);
        break;
    case 'stdout':
    case 'stderr':
        append(ev.type, ev.data);
        break;
    case 'error':
        append('error', `${ev.message}\n`);
        break;
    case 'exit_code':
        state.exitCode = ev.code;          // the last one counts
        break;
    }
}

async function readStream(response, state) {
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
                handleEvent(ev.data, state);
            }
        }
    }
}

async function run(args, timeout, token) {
    const body = { args };
    if (timeout !== '') {
        body.timeout_secs = Number(timeout);
    }
    const headers = {
        'Content-Type': 'application/json',
        'Accept': 'text/event-stream',
    };
    if (token !== '') {
        headers.Authorization = `Bearer ${token}`;
    }

    controller = new AbortController();
    const state = { exitCode: null };
    setStatus('running', 'starting');

    try {
        const response = await fetch(gateway, {
            method: 'POST',
            headers,
            body: JSON.stringify(body),
            cache: 'no-store',
            signal: controller.signal,
        });

        if (!response.ok) {
            await showRefusal(response);
            return;
        }
        const type = response.headers.get('Content-Type') || '';
        if (!type.startsWith('text/event-stream')) {
            setStatus('broken', `unexpected Content-Type: ${type}`);
            return;
        }

        await readStream(response, state);

        if (state.exitCode === null) {
            setStatus('broken', 'the stream ended without an exit status');
        } else {
            statusBox.dataset.exitCode = state.exitCode;
            setStatus(state.exitCode === 0 ? 'exited' : 'failed',
                      `exit ${state.exitCode}`);
        }
    } catch (err) {
        if (controller.signal.aborted) {
            setStatus('cancelled', 'cancelled: the program was stopped');
        } else {
            setStatus('broken', `connection failed: ${err.message}`);
        }
    } finally {
        controller = null;
        setRunning(false);
    }
}

form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (controller) {
        return;
    }

    let args;
    try {
        args = splitArgs(commandInput.value);
    } catch (err) {
        setStatus('refused', `command: ${err.message}`);
        return;
    }

    output.replaceChildren();
    dropped = 0;
    trimmed.hidden = true;
    delete statusBox.dataset.pid;
    delete statusBox.dataset.exitCode;
    append('command', `> ${commandInput.value}\n`);
    setRunning(true);
    run(args, timeoutInput.value.trim(), tokenInput.value.trim());
});

function cancel() {
    if (controller) {
        controller.abort();
    }
}

cancelButton.addEventListener('click', cancel);
document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
        cancel();
    }
});
