/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The console's pure parts in node: splitting the command field into args,
// and parsing SSE that arrives in arbitrary pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

// The console's .js files are ES modules served as they are, with no
// package.json beside them: Debian's node 18 would take them for CommonJS,
// so they are imported from their text.
async function load(name) {
    const url = new URL(`../../examples/console/${name}`, import.meta.url);
    const text = fs.readFileSync(url, 'utf8');
    return import('data:text/javascript;base64,' +
                  Buffer.from(text).toString('base64'));
}
const { splitArgs, joinArgs } = await load('args.js');
const { SseParser } = await load('sse.js');

test('words split on spaces and tabs', () => {
    assert.deepEqual(splitArgs('  agents\tlist   --json '),
                     ['agents', 'list', '--json']);
    assert.deepEqual(splitArgs(''), []);
    assert.deepEqual(splitArgs('   '), []);
});

test('single quotes keep everything literal', () => {
    assert.deepEqual(splitArgs(`echo 'a  b' '"x" \\n $HOME'`),
                     ['echo', 'a  b', '"x" \\n $HOME']);
});

test('double quotes take \\" and \\\\ as escapes, other backslashes as is', () => {
    assert.deepEqual(splitArgs('say "he said \\"hi\\"" "C:\\\\dir" "a\\b"'),
                     ['say', 'he said "hi"', 'C:\\dir', 'a\\b']);
});

test('quotes join with the text around them into one word', () => {
    assert.deepEqual(splitArgs(`--name='my agent' x"y z"'w'`),
                     ['--name=my agent', 'xy zw']);
});

test('empty quotes are an empty argument', () => {
    assert.deepEqual(splitArgs(`a '' "" b`), ['a', '', '', 'b']);
});

test('a backslash outside quotes takes the next character as is', () => {
    assert.deepEqual(splitArgs('a\\ b \\\'c \\"d \\\\'), ['a b', "'c", '"d', '\\']);
});

test('no shell syntax: variables, globs, pipes are plain text', () => {
    assert.deepEqual(splitArgs('$HOME *.txt a|b ~ ;'),
                     ['$HOME', '*.txt', 'a|b', '~', ';']);
});

test('unterminated quotes and a trailing backslash are errors', () => {
    assert.throws(() => splitArgs(`echo 'abc`), /unterminated ' quote/);
    assert.throws(() => splitArgs('echo "abc'), /unterminated " quote/);
    assert.throws(() => splitArgs('echo "a\\"'), /unterminated " quote/);
    assert.throws(() => splitArgs('echo \\'), /trailing backslash/);
});

test('joinArgs writes args that split back the same', () => {
    const cases = [
        [],
        ['agents', 'list', '--json'],
        ['hello', 'big  "wide"', ''],
        ["it's", "'", "''", '\\', '$HOME *', 'a\tb\nc', '-c', 'echo "$1"; exit 3'],
    ];
    for (const args of cases) {
        assert.deepEqual(splitArgs(joinArgs(args)), args, JSON.stringify(args));
    }
    assert.equal(joinArgs(['stream', '6', '0.5', '--name=x/y']),
                 'stream 6 0.5 --name=x/y');
    assert.equal(joinArgs(["it's", '', 'a b']), `'it'\\''s' '' 'a b'`);
});

// What the gateway sends: keep-alive comments, cli events, JSON data.
const STREAM =
    ':\n\n' +
    'event: cli\ndata: {"type":"started","pid":42}\n\n' +
    ':\n\n' +
    'event: cli\ndata: {"type":"stdout","data":"tick 1 of 2\\n"}\n\n' +
    'event: cli\ndata: {"type":"stderr","data":"h\u00e9 \u20ac\\n"}\n\n' +
    'event: cli\ndata: {"type":"exit_code","code":0}\n\n';

const EXPECTED = [
    { event: 'cli', data: '{"type":"started","pid":42}', id: '' },
    { event: 'cli', data: '{"type":"stdout","data":"tick 1 of 2\\n"}', id: '' },
    { event: 'cli', data: '{"type":"stderr","data":"h\u00e9 \u20ac\\n"}', id: '' },
    { event: 'cli', data: '{"type":"exit_code","code":0}', id: '' },
];

function feed(pieces) {
    const parser = new SseParser();
    return pieces.flatMap((p) => parser.push(p));
}

test('a whole stream in one piece', () => {
    assert.deepEqual(feed([STREAM]), EXPECTED);
});

test('a stream cut in two at every position', () => {
    for (let i = 0; i <= STREAM.length; i++) {
        assert.deepEqual(feed([STREAM.slice(0, i), STREAM.slice(i)]),
                         EXPECTED, `cut at ${i}`);
    }
});

test('a stream fed one character at a time', () => {
    assert.deepEqual(feed([...STREAM]), EXPECTED);
});

test('CRLF and CR line ends, also when a CRLF is cut in two', () => {
    for (const eol of ['\r\n', '\r']) {
        const text = STREAM.replaceAll('\n\n', eol + eol)
                           .replaceAll('cli\n', 'cli' + eol);
        for (let i = 0; i <= text.length; i++) {
            assert.deepEqual(feed([text.slice(0, i), text.slice(i)]),
                             EXPECTED, `${JSON.stringify(eol)} cut at ${i}`);
        }
        assert.deepEqual(feed([...text]), EXPECTED);
    }
});

test('an event is dispatched only at its blank line', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('event: cli\ndata: {"type":"started","pid":1}\n'), []);
    assert.deepEqual(parser.push('\n'),
                     [{ event: 'cli', data: '{"type":"started","pid":1}', id: '' }]);
});

test('event names, several data lines, fields without a space or value', () => {
    assert.deepEqual(
        feed(['data: a\ndata:b\ndata\n\n',
              'event:other\ndata: x\n\n',
              'event: cli\n\n',                  // no data: nothing, name reset
              'data: y\nid: 7\nretry: 10\n\n']),
        [{ event: 'message', data: 'a\nb\n', id: '' },
         { event: 'other', data: 'x', id: '' },
         { event: 'message', data: 'y', id: '7' }]);
});

test('an unfinished event at the end is not dispatched', () => {
    assert.deepEqual(feed(['event: cli\ndata: {"type":"exit_code","code":0}\n']), []);
});

test('an id line names its event and the ones after it, until the next', () => {
    const withIds =
        'event: cli\ndata: {"type":"started","pid":1,"run_id":"n-1"}\nid: 60\n\n' +
        ':\n\n' +
        'event: cli\ndata: {"type":"stdout","data":"a\\n"}\nid: 110\n\n' +
        'event: cli\ndata: no id\n\n' +
        'event: cli\ndata: {"type":"gap","lost_bytes":5}\nid: 4096\n\n';
    const ids = ['60', '110', '110', '4096'];
    for (let i = 0; i <= withIds.length; i++) {
        assert.deepEqual(feed([withIds.slice(0, i), withIds.slice(i)]).map((e) => e.id),
                         ids, `cut at ${i}`);
    }
    assert.deepEqual(feed(['data: x\nid: a\u0000b\n\n']), [{ event: 'message', data: 'x', id: '' }],
                     'an id with a NUL is ignored');
});
