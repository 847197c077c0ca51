/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// An incremental Server-Sent Events parser (the HTML standard's "event
// stream interpretation"), for text that arrives in arbitrary pieces: an
// event, a line or a CRLF may be split across reads. EventSource would do
// this for us, but it cannot POST, nor send a Last-Event-ID of our choice.

export class SseParser {
    constructor() {
        this.buffer = '';       // an unfinished line
        this.skipLF = false;    // the last piece ended in \r: a \n may follow
        this.eventName = '';
        this.data = [];
        this.lastEventId = '';  // the last id field seen, kept across events
    }

    // Feeds decoded text; returns the events it completed, each
    // {event, data, id}: id is the last event ID (the last id field, of
    // this event or an earlier one; '' before any). Comments (":..."
    // lines, the keep-alive) are dropped.
    push(text) {
        if (text === '') {
            return [];
        }
        if (this.skipLF) {
            this.skipLF = false;
            if (text[0] === '\n') {
                text = text.slice(1);
            }
        }

        const events = [];
        const buf = this.buffer + text;
        const re = /\r\n|\r|\n/g;
        re.lastIndex = this.buffer.length;   // the old part has no line end
        let start = 0;
        let m;

        while ((m = re.exec(buf)) !== null) {
            this.skipLF = m[0] === '\r' && re.lastIndex === buf.length;
            this.line(buf.slice(start, m.index), events);
            start = re.lastIndex;
        }

        this.buffer = buf.slice(start);
        return events;
    }

    line(line, events) {
        if (line === '') {
            if (this.data.length > 0) {
                events.push({
                    event: this.eventName || 'message',
                    data: this.data.join('\n'),
                    id: this.lastEventId,
                });
            }
            this.eventName = '';
            this.data = [];
            return;
        }

        if (line[0] === ':') {
            return;
        }

        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value[0] === ' ') {
            value = value.slice(1);
        }

        if (field === 'event') {
            this.eventName = value;
        } else if (field === 'data') {
            this.data.push(value);
        } else if (field === 'id' && !value.includes('\0')) {
            this.lastEventId = value;
        }
        // retry: the console chooses its own waits
    }
}
