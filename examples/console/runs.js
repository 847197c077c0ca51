/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The runs panel, on a gateway location with cli_gateway_runs: the
// caller's runs (GET <gateway>/runs, which lists them oldest first) shown
// newest first, each with Attach and Cancel, refreshed every
// data-refresh-seconds while the tab is visible. What attaching and
// cancelling do is the console's: the panel only asks for them.

import { joinArgs } from './args.js';

export class RunsPanel {
    // section: the panel's element (hidden until the gateway has runs);
    // url: <gateway>/runs; headers(): the request headers for now;
    // onAttach(run), onCancel(run): a button was pressed for that record
    constructor(section, { url, headers, onAttach, onCancel }) {
        this.section = section;
        this.list = section.querySelector('tbody');
        this.note = section.querySelector('.runs-note');
        this.url = url;
        this.headers = headers;
        this.runs = [];
        this.current = null;        // the id of the run in the pane
        this.attachable = true;     // false while the pane shows a stream
        this.available = false;     // the gateway has runs

        section.querySelector('.runs-refresh')
            .addEventListener('click', () => this.refresh());
        this.list.addEventListener('click', (e) => {
            const button = e.target.closest('button');
            const row = button?.closest('tr');
            const run = this.runs.find((r) => r.run_id === row?.dataset.runId);
            if (!run) {
                return;
            }
            if (button.classList.contains('attach')) {
                onAttach(run);
            } else if (button.classList.contains('cancel-run')) {
                onCancel(run);
            }
        });
    }

    // Shows the panel (the gateway has runs: a started event had a run_id,
    // or the list came), and from then on refreshes it now and then.
    show() {
        if (this.available) {
            return;
        }
        this.available = true;
        this.section.hidden = false;
        const seconds = Number(this.section.dataset.refreshSeconds) || 5;
        setInterval(() => {
            if (document.visibilityState === 'visible') {
                this.refresh();
            }
        }, seconds * 1000);
    }

    // Asks the gateway for the list; true when it answered with one. A
    // gateway without runs answers 404 (or 405): the panel stays hidden.
    async refresh() {
        let runs;
        try {
            const response = await fetch(this.url, {
                headers: this.headers(),
                cache: 'no-store',
            });
            if (!response.ok) {
                this.say(`runs: HTTP ${response.status}`);
                return false;
            }
            runs = await response.json();
        } catch (err) {
            this.say(`runs: ${err.message}`);
            return false;
        }
        if (!Array.isArray(runs)) {
            return false;
        }
        this.runs = runs;
        this.show();
        this.say('');
        this.render();
        return true;
    }

    say(text) {
        this.note.textContent = text;
        this.note.hidden = text === '';
    }

    setCurrent(runId) {
        this.current = runId;
        this.render();
    }

    setAttachable(attachable) {
        this.attachable = attachable;
        this.render();
    }

    // Text is always a text node: args are data, never markup.
    render() {
        const rows = this.runs.slice().reverse().map((run) => {
            const row = document.createElement('tr');
            row.dataset.runId = run.run_id;
            row.dataset.state = run.state;
            if (run.run_id === this.current) {
                row.className = 'current';
            }
            const cells = [
                run.run_id,
                run.state,
                run.exit_code === null || run.exit_code === undefined
                    ? '-' : String(run.exit_code),
                run.started_at,
                joinArgs((run.args || []).map(String)),
            ];
            for (const [i, text] of cells.entries()) {
                const cell = document.createElement('td');
                cell.className = ['run-id', 'state', 'exit', 'started', 'args'][i];
                cell.textContent = text;
                row.append(cell);
            }

            const attach = document.createElement('button');
            attach.type = 'button';
            attach.className = 'attach';
            attach.textContent = 'Attach';
            attach.disabled = !this.attachable;
            const cancel = document.createElement('button');
            cancel.type = 'button';
            cancel.className = 'cancel-run';
            cancel.textContent = 'Cancel';
            cancel.disabled = run.state === 'exited';
            const actions = document.createElement('td');
            actions.className = 'actions';
            actions.append(attach, cancel);
            row.append(actions);
            return row;
        });
        this.list.replaceChildren(...rows);
    }
}
