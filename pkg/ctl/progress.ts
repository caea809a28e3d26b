// A pull, push or load's progress as docker shows it: on a terminal one line per layer with a bar beside its
// status (cli-progress redraws them in place); elsewhere plain `ID: STATUS` lines, one per status change.
import * as grpc from '@grpc/grpc-js';
import { MultiBar, type Params, type SingleBar } from 'cli-progress';
import { ApiCallError } from '../api/client.ts';
import type { Progress } from './api.ts';
import { humanSize } from './format/units.ts';

const BAR_WIDTH = 50;

interface LayerPayload {
  id: string;
  status: string;
}

/** Docker's bar: `[=====>      ]  1.2MB/4.26MB`, only while a byte count is known. */
function layerLine(payload: LayerPayload, params: Params): string {
  const head = `${payload.id}: ${payload.status}`;
  if (!(params.total > 1 && params.value > 0)) return head;
  const filled = Math.min(BAR_WIDTH, Math.floor(params.progress * BAR_WIDTH));
  const bar = `${'='.repeat(Math.max(0, filled - 1))}>`.padEnd(BAR_WIDTH);
  return `${head.padEnd(32)} [${bar}]  ${humanSize(params.value)}/${humanSize(params.total)}`;
}

/** A message carrying the operation's failure. */
function failure(message: Progress): Error {
  return new ApiCallError(grpc.status.UNKNOWN, message.error);
}

/**
 * Prints `messages` to `out` (nothing when undefined: -q) until the stream ends; a failure the agent reports
 * is thrown.
 */
export async function showProgress(
  messages: AsyncIterable<Progress>,
  out: NodeJS.WritableStream | undefined,
  terminal: boolean,
): Promise<void> {
  if (!out) {
    for await (const m of messages) if (m.error) throw failure(m);
    return;
  }
  if (terminal) return drawBars(messages, out);
  const last = new Map<string, string>();
  for await (const m of messages) {
    if (m.error) throw failure(m);
    if (!m.id) {
      out.write(`${m.status}\n`);
    } else if (last.get(m.id) !== m.status) {
      last.set(m.id, m.status);
      out.write(`${m.id}: ${m.status}\n`);
    }
  }
}

async function drawBars(messages: AsyncIterable<Progress>, out: NodeJS.WritableStream): Promise<void> {
  let bars: MultiBar | undefined;
  const layers = new Map<string, SingleBar>();
  const lastStatus = new Map<string, string>();
  const finish = () => {
    bars?.stop();
    bars = undefined;
    layers.clear();
    lastStatus.clear();
  };
  try {
    for await (const m of messages) {
      if (m.error) throw failure(m);
      if (!m.id) {
        // Lines about the whole operation come before the layers (Pulling from ...) or after them (Digest, Status).
        finish();
        out.write(`${m.status}\n`);
        continue;
      }
      bars ??= new MultiBar({
        stream: out,
        format: (_options, params, payload: LayerPayload) => layerLine(payload, params),
        hideCursor: true,
        clearOnComplete: false,
        linewrap: false,
        autopadding: false,
        fps: 10,
      });
      const total = Math.max(1, m.total);
      const bar = layers.get(m.id);
      const statusChanged = lastStatus.get(m.id) !== m.status;
      lastStatus.set(m.id, m.status);
      if (!bar) {
        layers.set(m.id, bars.create(total, m.current, { id: m.id, status: m.status }));
      } else {
        if (m.total > 0) bar.setTotal(total);
        bar.update(m.current, { id: m.id, status: m.status });
      }
      // Every state a layer goes through is drawn, as docker's renderer does; only byte counts wait for the
      // next frame.
      if (statusChanged) bars.update();
    }
  } finally {
    finish();
  }
}
