// A stand-in for the agent in the survival test: starts conmon through startMonitor with the options given
// as JSON in argv[2], prints the Monitor as one JSON line, then idles until it is killed.
import { type MonitorOptions, startMonitor } from '../../pkg/runtime/conmon.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as MonitorOptions;
try {
  const monitor = await startMonitor(opts);
  process.stdout.write(`${JSON.stringify(monitor)}\n`);
  setInterval(() => undefined, 60_000);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: String(err) })}\n`);
  process.exit(1);
}
