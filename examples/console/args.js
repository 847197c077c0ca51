/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Splits a command line into argv the way a POSIX shell would for plain
// words and quotes, and does nothing else: no variables, globs, ~ or
// operators, since the gateway runs the program without a shell.
//
//   words are separated by spaces or tabs
//   '...'   everything literal, up to the next '
//   "..."   literal except \" and \\, which stand for " and \
//   \c      outside quotes: the character c itself (\  is a space in a word)
//   '' ""   an empty argument
//
// Throws an Error with a message for the user on an unterminated quote or
// a trailing backslash.

export function splitArgs(line) {
    const args = [];
    let word = '';
    let inWord = false;
    let i = 0;

    while (i < line.length) {
        const c = line[i];

        if (c === ' ' || c === '\t' || c === '\n') {
            if (inWord) {
                args.push(word);
                word = '';
                inWord = false;
            }
            i++;
            continue;
        }

        inWord = true;

        if (c === "'") {
            const end = line.indexOf("'", i + 1);
            if (end < 0) {
                throw new Error("unterminated ' quote");
            }
            word += line.slice(i + 1, end);
            i = end + 1;
            continue;
        }

        if (c === '"') {
            i++;
            for (;;) {
                if (i >= line.length) {
                    throw new Error('unterminated " quote');
                }
                const d = line[i];
                if (d === '"') {
                    i++;
                    break;
                }
                if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
                    word += line[i + 1];
                    i += 2;
                    continue;
                }
                word += d;
                i++;
            }
            continue;
        }

        if (c === '\\') {
            if (i + 1 >= line.length) {
                throw new Error('trailing backslash');
            }
            word += line[i + 1];
            i += 2;
            continue;
        }

        word += c;
        i++;
    }

    if (inWord) {
        args.push(word);
    }
    return args;
}

// The other way: a command line that splitArgs splits back into args, for
// showing a run's args. A word of only plain characters stays as it is;
// any other is put in '...', each ' in it written '\''.
export function joinArgs(args) {
    return args.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)
        ? arg
        : `'${arg.replaceAll("'", "'\\''")}'`)).join(' ');
}
