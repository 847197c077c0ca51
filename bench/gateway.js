/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The Node.js anchor of the benchmark: the same job as the module (POST
// {"args": [...], "timeout_secs": N}, run one fixed program without a shell,
// stream its lines as the same SSE bytes), as a small stdlib-only service.
//
// usage: node bench/gateway.js PORT /path=/abs/program [/path=/abs/program...]
// Like the module: one chunk per read of a pipe, the program in its own
// process group, stopped when the client goes away or the timeout passes,
// reading paused while the client is behind.
'use strict';

const http = require('http');
const { spawn } = require('child_process');

const port = Number(process.argv[2]);
const programs = new Map(process.argv.slice(3).map((a) => a.split('=')));
const maxTimeout = 600;
const defaultTimeout = 300;

function event(json) {
    return 'event: cli\ndata: ' + json + '\n\n';
}

function fail(res, status, code, message) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code, message }));
}

// Splits one pipe's bytes into lines (a trailing "\r" dropped) and frames
// each as a stdout or stderr event; bytes that are not UTF-8 become U+FFFD.
class LineFramer {
    constructor(type) {
        this.prefix = 'event: cli\ndata: {"type":"' + type + '","data":';
        this.rest = null;
    }

    frame(line) {
        if (line.length && line[line.length - 1] === 0x0d) {
            line = line.subarray(0, line.length - 1);
        }
        return this.prefix + JSON.stringify(line.toString('utf8') + '\n')
               + '}\n\n';
    }

    feed(chunk) {
        let data = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
        let out = '';
        let start = 0;
        let nl;

        while ((nl = data.indexOf(0x0a, start)) !== -1) {
            out += this.frame(data.subarray(start, nl));
            start = nl + 1;
        }

        this.rest = start < data.length ? data.subarray(start) : null;
        return out;
    }

    finish() {
        const out = this.rest ? this.frame(this.rest) : '';
        this.rest = null;
        return out;
    }
}

function run(req, res, program, body) {
    let request;

    try {
        request = JSON.parse(body);
    } catch (e) {
        return fail(res, 400, 'bad_request', 'Invalid JSON');
    }

    const args = request && request.args;

    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'
                                                   && !a.includes('\0'))) {
        return fail(res, 422, 'validation_error', 'args must be strings');
    }

    let timeout = defaultTimeout;

    if (request.timeout_secs !== undefined) {
        if (!Number.isInteger(request.timeout_secs)
            || request.timeout_secs < 0) {
            return fail(res, 422, 'validation_error', 'bad timeout_secs');
        }
        timeout = Math.min(request.timeout_secs, maxTimeout);
    }

    const child = spawn(program, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,                     // its own process group
    });

    const framers = [new LineFramer('stdout'), new LineFramer('stderr')];
    const pipes = [child.stdout, child.stderr];
    let ended = false;
    let timer = null;

    const stopGroup = (signal) => {
        try {
            process.kill(-child.pid, signal);
        } catch (e) {
            // already gone
        }
    };

    const end = (tail) => {
        if (ended) {
            return;
        }
        ended = true;
        clearTimeout(timer);
        res.end(tail);
    };

    child.on('error', (err) => {
        if (res.headersSent) {
            return end(event(JSON.stringify({ type: 'error',
                                              message: err.message }))
                       + event('{"type":"exit_code","code":1}'));
        }
        res.writeHead(200, { 'Content-Type': 'text/event-stream',
                             'Cache-Control': 'no-cache',
                             'X-Accel-Buffering': 'no' });
        end(event(JSON.stringify({ type: 'error', message: err.message }))
            + event('{"type":"exit_code","code":1}'));
    });

    child.on('spawn', () => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream',
                             'Cache-Control': 'no-cache',
                             'X-Accel-Buffering': 'no' });
        res.write(event('{"type":"started","pid":' + child.pid + '}'));

        timer = setTimeout(() => {
            stopGroup('SIGKILL');
            end(framers[0].finish() + framers[1].finish()
                + event(JSON.stringify({ type: 'error',
                                         message: 'Timeout after ' + timeout
                                                  + 's' }))
                + event('{"type":"exit_code","code":-1}'));
        }, timeout * 1000);
    });

    pipes.forEach((pipe, k) => {
        pipe.on('data', (chunk) => {
            if (ended) {
                return;
            }
            if (!res.write(framers[k].feed(chunk))) {
                pipes.forEach((p) => p.pause());
                res.once('drain', () => pipes.forEach((p) => p.resume()));
            }
        });
    });

    // 'close': the program has exited and both pipes are at EOF
    child.on('close', (code, signal) => {
        if (ended || !res.headersSent) {
            return;
        }
        end(framers[0].finish() + framers[1].finish()
            + event('{"type":"exit_code","code":'
                    + (signal ? -1 : code) + '}'));
    });

    res.on('close', () => {
        if (!ended) {
            ended = true;
            clearTimeout(timer);
            stopGroup('SIGTERM');
        }
    });
}

const server = http.createServer((req, res) => {
    const program = programs.get(req.url);

    if (!program) {
        return fail(res, 404, 'not_found', 'No such location');
    }

    if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return fail(res, 405, 'method_not_allowed', 'Method not allowed');
    }

    if (req.headers['x-role'] !== 'admin') {
        return fail(res, 403, 'forbidden',
                    'Admin role required for CLI gateway');
    }

    const chunks = [];

    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => run(req, res, program,
                            Buffer.concat(chunks).toString('utf8')));
});

server.keepAliveTimeout = 60 * 1000;
server.listen({ host: '127.0.0.1', port, backlog: 2048 });

process.on('SIGTERM', () => process.exit(0));
